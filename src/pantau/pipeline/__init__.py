"""Per-camera workers: reader → recorder + sampler → (later) vision; supervision and sharding."""
