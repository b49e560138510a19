"""The edge agent: a site's own pipeline whose facts go to a durable outbox and reach the hub
by edge-initiated sync or a carried disk (docs/edge.md)."""
