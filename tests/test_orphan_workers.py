"""Worker processes end with the process that started them (`pipeline.orphan`): a hub killed
with SIGKILL leaves no camera shard behind, a killed `pantau analyze` no analysis worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.edge import prepare_hub, wait_for


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_shards_stop_when_the_hub_is_killed(tmp_path: Path) -> None:
    hub = prepare_hub(tmp_path, ingest={"enabled": True, "workers": 2})
    hub.start()
    assert hub.proc is not None
    shards: list[int] = []
    try:
        wait_for("two shard processes", lambda: len(children(hub.proc.pid)) >= 2, 30, 0.2)
        shards = children(hub.proc.pid)
        hub.kill()
        wait_for("the shards to stop", lambda: not any(alive(p) for p in shards), 30, 0.2)
    finally:
        for pid in shards:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_analysis_workers_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import multiprocessing as mp, os, sys, time
        from concurrent.futures import ProcessPoolExecutor
        from pantau.pipeline import backfill_pool

        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            pool = ProcessPoolExecutor(2, mp_context=ctx, initializer=backfill_pool._init,
                                       initargs=(None, os.getpid()))
            for f in [pool.submit(time.sleep, 600) for _ in range(2)]:
                pass
            time.sleep(3)
            print(" ".join(str(p) for p in pool._processes), flush=True)
            time.sleep(600)
        """
    )
    (tmp_path / "parent.py").write_text(script)
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "parent.py")], stdout=subprocess.PIPE, text=True
    )
    workers: list[int] = []
    try:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(p) for p in workers)
        proc.kill()
        proc.wait(10)
        wait_for("the workers to stop", lambda: not any(alive(p) for p in workers), 30, 0.2)
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
