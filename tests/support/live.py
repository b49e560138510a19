"""The real app on a real port, for clients that must speak HTTP (players, ffprobe, browsers)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from pantau.runtime import Runtime
from pantau.web.app import create_app


class LiveServer:
    """The real app on a real port, so players fetch signed segment URLs over HTTP."""

    def __init__(self, rt: Runtime) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(create_app(rt), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"
