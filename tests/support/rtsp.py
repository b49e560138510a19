"""Start and stop the real RTSP server (tests/support/gst_rtsp_server.py) from pytest."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


class RtspServer:
    """One server process; `mounts` maps a path name to an Annex-B .h264 file."""

    def __init__(
        self,
        mounts: dict[str, Path],
        *,
        user: str | None = None,
        password: str | None = None,
        auth: str = "basic",
        fps: int = 25,
    ) -> None:
        self.args = [SYSTEM_PYTHON, str(SCRIPT), "--fps", str(fps)]
        for name, path in mounts.items():
            self.args += ["--mount", f"{name}={path}"]
        if user:
            self.args += ["--user", user, "--password", password or "", "--auth", auth]
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> RtspServer:
        """Start (or restart on the same port after kill())."""
        deadline = time.monotonic() + 10
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
            if time.monotonic() > deadline:  # the port may linger briefly after a kill
                raise RuntimeError(f"RTSP server did not start: {line!r} {err}")
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
