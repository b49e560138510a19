"""Benchmark: `pantau demo` from an empty data folder — seconds until ready, then the CPU it
uses while running.

    .venv/bin/python bench/demo_startup.py [--seconds 120] [--live-cameras 5] [--history-days 30]

Starts `.venv/bin/pantau demo` in a new temporary folder (embedded defaults: SQLite in
./data) on free ports and measures, from the moment the command starts:

* API ready: `GET /api/health` answers;
* live ready: every live simulated camera delivers video (`online`, or `degraded` when a busy
  machine slows the simulator) in `GET /api/health/cameras`, by the real camera workers;
* the 30 days complete: every connected office has a verdict for every past day (filled in the
  background after the hub is up).

`--folder` starts the demo again on a folder kept by `--keep` (the second start: nothing to
prepare but the minutes since the last run).

Then, for `--seconds`, the CPU time of the whole process tree (hub, camera workers, simulator
process, GStreamer's RTSP server) from /proc, as a share of the machine (all cores), in
windows of 10 s; and the machine's total busy share from /proc/stat for context (other
programs included). SIGTERM stops the demo at the end; the folder is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stat(pid: int, reaped: bool = False) -> tuple[int, float] | None:
    """(ppid, CPU seconds); `reaped` adds the children it has waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return int(fields[1]), ticks / TICK


def cpu_so_far(root: int) -> float:
    """CPU seconds of the tree since it started (live processes plus reaped children)."""
    cpu = tree_cpu(root)
    own = proc_stat(root, reaped=True)
    return sum(v for p, v in cpu.items() if p != root) + (own[1] if own else 0.0)


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of `root` and all its descendants, by pid."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st:
                table[int(entry)] = st
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            out[pid] = table[pid][1]
            todo += [p for p, (ppid, _) in table.items() if ppid == pid]
    return out


def machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def get(url: str, token: str | None = None) -> object:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def login(base: str) -> str:
    req = urllib.request.Request(
        f"{base}/api/auth/login",
        data=json.dumps({"username": "admin", "password": "pantau-demo"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["token"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--live-cameras", type=int, default=5)
    ap.add_argument("--history-days", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument(
        "--folder", type=Path, help="run in this folder (a second start: its ./data is reused)"
    )
    args = ap.parse_args()

    work = args.folder or Path(tempfile.mkdtemp(prefix="pantau-demo-bench-"))
    keep = args.keep or args.folder is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    cmd = [
        str(ROOT / ".venv" / "bin" / "pantau"),
        "demo",
        "--port",
        str(port),
        "--rtsp-port",
        str(free_port()),
        "--live-cameras",
        str(args.live_cameras),
        "--history-days",
        str(args.history_days),
    ]
    log = (work / "demo.log").open("a")
    log_start = log.tell()
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    marks: dict[str, float] = {}
    token = None
    try:
        while time.monotonic() - t0 < args.timeout:
            if proc.poll() is not None:
                sys.exit(f"demo exited with {proc.returncode}; see {work / 'demo.log'}")
            try:
                if "api" not in marks:
                    get(f"{base}/api/health")
                    marks["api"] = time.monotonic() - t0
                    marks["api_cpu"] = cpu_so_far(proc.pid)
                    token = login(base)
                cams = get(f"{base}/api/health/cameras", token)
                live = [c for c in cams if c["worker"] and "shard" in c["worker"]]
                video = ("online", "degraded")  # degraded: video at a reduced frame rate
                if len(live) >= args.live_cameras and all(c["state"] in video for c in live):
                    marks["live"] = time.monotonic() - t0
                    marks["live_cpu"] = cpu_so_far(proc.pid)
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
                pass
            time.sleep(0.5)
        else:
            sys.exit(f"not ready after {args.timeout:.0f} s; see {work / 'demo.log'}")
        print(
            f"API ready after {marks['api']:.1f} s ({marks['api_cpu']:.1f} s CPU of the demo's "
            f"processes), live cameras online after {marks['live']:.1f} s "
            f"({marks['live_cpu']:.1f} s CPU); load average at start {load0:.1f} "
            f"on {CORES} cores"
        )

        windows, last = [], tree_cpu(proc.pid)
        busy0, total0 = machine_busy()
        start = time.monotonic()
        w_start, w_cpu = start, 0.0
        complete = None
        while time.monotonic() - start < args.seconds:
            time.sleep(1.0)
            now = tree_cpu(proc.pid)
            w_cpu += sum(now[p] - last[p] for p in now if p in last)
            last = now
            if time.monotonic() - w_start >= 10.0:
                share = 100.0 * w_cpu / ((time.monotonic() - w_start) * CORES)
                windows.append(share)
                w_start, w_cpu = time.monotonic(), 0.0
            text = (work / "demo.log").read_text()[log_start:]
            if complete is None and "history complete" in text:
                complete = time.monotonic() - t0
        busy1, total1 = machine_busy()
        cpu_all = 100.0 * (busy1 - busy0) / max(1, total1 - total0)
        mean = sum(windows) / max(1, len(windows))
        print(
            f"demo process tree over {args.seconds:.0f} s: mean {mean:.1f} % of the machine "
            f"({CORES} cores), 10-s windows min {min(windows):.1f} / max {max(windows):.1f} %"
        )
        print("  windows:", " ".join(f"{w:.0f}" for w in windows))
        print(f"machine busy (all programs, for context): {cpu_all:.1f} %")
        if complete is not None:
            print(f"{args.history_days}-day history complete after {complete:.0f} s")
        else:
            print(f"{args.history_days}-day history still filling after the measurement")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if keep:
            print("folder:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
