"""Benchmark: CPU per live simulated camera (render + H.264 encode + UDP to the RTSP server).

    .venv/bin/python bench/sim_live_cpu.py --cameras 8 --fps 10 --size 640x360 --seconds 30

Runs N simulated cameras (N/2 offices x 2 views) exactly as `pantau sim serve` does, at the
current WITA time, with one RTSP reader per camera pulling the stream (so the RTSP server really
serves it), and reports the simulator process's CPU time / wall time per camera. The RTSP
server's CPU is reported separately.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.sim.live import LiveCameraSpec, LiveSim, SimClock, free_udp_port
from pantau.sim.offices import SimConfig, make_scene, parse_size, select_offices


def cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def cpu_pid(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--fps", type=float, default=10)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    w, h = parse_size(args.size)
    offices = select_offices(SimConfig(), count=(args.cameras + 1) // 2)
    cams = [
        LiveCameraSpec(o.world, v, make_scene(o.seed, v, w, h), f"{o.slug}/{v}", free_udp_port())
        for o in offices
        for v in ("interior", "entrance")
    ][: args.cameras]
    # Readers run in a separate process so their CPU is not counted against the simulator.
    with LiveSim(cams, fps=args.fps, clock=SimClock(), truth_dir=Path(tempfile.mkdtemp())) as sim:
        import subprocess

        code = (
            "import sys,time\nfrom pantau.media.reader import StreamReader\n"
            "import threading\n"
            "def pull(u):\n"
            "    try:\n"
            "        with StreamReader(u, sample='keyframes') as r:\n"
            "            for _ in r.packets(): pass\n"
            "    except Exception as e: print(u, e, flush=True)\n"
            "for u in sys.argv[1:]: threading.Thread(target=pull, args=(u,), daemon=True).start()\n"
            "time.sleep(1e9)\n"
        )
        readers = subprocess.Popen([sys.executable, "-c", code, *[sim.url(c.mount) for c in cams]])
        time.sleep(5)
        c0, s0, t0 = cpu_self(), cpu_pid(sim.server.proc.pid), time.monotonic()
        f0 = sum(t.frames for t in sim.threads)
        time.sleep(args.seconds)
        wall = time.monotonic() - t0
        sim_cpu = 100 * (cpu_self() - c0) / wall
        srv_cpu = 100 * (cpu_pid(sim.server.proc.pid) - s0) / wall
        fps = (sum(t.frames for t in sim.threads) - f0) / wall / len(cams)
        readers.terminate()
    print(
        f"{len(cams)} simulated cameras {w}x{h} at {args.fps:g} fps (achieved {fps:.1f}): "
        f"{sim_cpu / len(cams):.2f} % of a core per camera ({sim_cpu:.1f} % total); "
        f"RTSP server {srv_cpu:.1f} %"
    )


if __name__ == "__main__":
    main()
