"""Start and stop the real RTSP server (gst_rtsp_server.py, GStreamer under the system Python).

Used by `pantau sim serve` for the simulated cameras and by the tests as a real camera peer.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"
APT_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)


class RtspServerError(RuntimeError):
    """The RTSP server could not start; the message says why and what to do."""


class RtspServer:
    """One server process; `mounts` maps a path name to an Annex-B .h264 file."""

    def __init__(
        self,
        mounts: dict[str, Path | str],
        *,
        user: str | None = None,
        password: str | None = None,
        auth: str = "basic",
        fps: int = 25,
        port: int = 0,
        start_timeout: float = 10.0,
    ) -> None:
        self.args = [SYSTEM_PYTHON, str(SCRIPT), "--fps", str(fps)]
        self.mounts = dict(mounts)
        for name, path in mounts.items():
            self.args += ["--mount", f"{name}={path}"]
        if user:
            self.args += ["--user", user, "--password", password or "", "--auth", auth]
        self.port = port
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> RtspServer:
        """Start (or restart on the same port after kill())."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            self.proc = subprocess.Popen(
                [*self.args, "--port", str(self.port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if line.startswith("PORT"):
                self.port = int(line.split()[1])
                return self
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.wait()
            if "No module named 'gi'" in err or "Namespace GstRtspServer not available" in err:
                raise RtspServerError(
                    f"the RTSP server needs GStreamer's RTSP server for the system Python; "
                    f"install it with: apt-get install {APT_PACKAGES}"
                )
            if time.monotonic() > deadline:  # the port may linger briefly after a kill
                raise RtspServerError(
                    f"RTSP server did not start on port {self.port or 'auto'}"
                    + (" (port already in use?)" if self.port else "")
                    + f": {(err.strip().splitlines() or [line.strip()])[-1]}"
                )
            time.sleep(0.3)

    def url(self, mount: str, user: str | None = None, password: str | None = None) -> str:
        cred = f"{user}:{password}@" if user else ""
        return f"rtsp://{cred}127.0.0.1:{self.port}/{mount}"

    def command(self, line: str) -> str:
        assert self.proc and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stall(self, mount: str) -> None:
        assert self.command(f"stall {mount}").startswith("OK")

    def resume(self, mount: str) -> None:
        assert self.command(f"resume {mount}").startswith("OK")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.command("quit")
                self.proc.wait(3)
            except (subprocess.TimeoutExpired, BrokenPipeError, AssertionError):
                self.kill()

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
