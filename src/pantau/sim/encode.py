"""H.264 encoding of rendered frames (PyAV's bundled libx264), for files and for live UDP."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np


class H264Writer:
    """Frames in, H.264 out, with presentation times in milliseconds chosen by the caller.

    Files are MP4 (the capture times are start + pts, see docs/sim.md); live cameras send
    MPEG-TS over UDP to the RTSP server, tuned for low latency.
    """

    def __init__(
        self,
        target: str,
        *,
        fmt: str,
        width: int,
        height: int,
        gop: int,
        fps: float = 10.0,
        crf: int = 28,
        live: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> None:
        options = {"movflags": "+faststart+use_metadata_tags"} if fmt == "mp4" else {}
        self.container = av.open(target, "w", format=fmt, options=options)
        if metadata:
            self.container.metadata.update(metadata)
        stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        opts = {
            "preset": "ultrafast",
            "crf": str(crf),
            "g": str(gop),
            "keyint_min": str(gop),
            "sc_threshold": "0",
            "bf": "0",
        }
        if live:
            opts["tune"] = "zerolatency"
        stream.codec_context.options = opts
        self.stream = stream
        self.frames = 0
        self._last_pts = -1

    def write(self, bgr: np.ndarray, pts_ms: int) -> None:
        if pts_ms <= self._last_pts:
            pts_ms = self._last_pts + 1
        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
        frame.pts = pts_ms
        frame.time_base = Fraction(1, 1000)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self._last_pts = pts_ms
        self.frames += 1

    def close(self) -> None:
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        finally:
            self.container.close()
