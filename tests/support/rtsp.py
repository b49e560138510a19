"""The real RTSP server the tests use is the one the simulator ships."""

from pantau.sim.rtsp import RtspServer

__all__ = ["RtspServer"]
