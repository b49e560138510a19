"""Worker processes end with the process that started them.

A hub killed with SIGKILL (or an OOM kill) cannot stop its camera shards, and a killed
`pantau analyze` cannot stop its pool: the children are re-parented and would go on recording,
analysing and holding the database open with nobody to stop them — and a restarted hub would
start a second set next to them. Each child therefore watches its parent and stops itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def watch_parent(
    on_gone: Callable[[], object], parent: int | None = None, interval: float = 1.0
) -> threading.Thread:
    """Call `on_gone` (once) when this process's parent has died; a daemon thread.

    `parent` is the pid the parent had when it started us: a parent killed while this process
    was still starting up has already been replaced by the time we first look.
    """
    parent = parent or os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                log.warning("parent process %d is gone; stopping this worker", parent)
                on_gone()
                return
            time.sleep(interval)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
