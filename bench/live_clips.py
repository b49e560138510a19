"""Pre-recorded simulated camera clips for the live benchmark (bench/live_cameras_cpu.py).

Rendering 65 simulated cameras live would cost the machine more than Pantau itself (2.3 % of a
core each), so the benchmark loops short pre-rendered clips through the real RTSP server
instead. Each clip is a few minutes of one office view at one time of day, rendered by
`pantau.sim` at 640x360 and 10 fps and encoded like a camera's sub-stream: H.264 VBR capped at
768 kbit/s, no B-frames, one keyframe per second (GOP = fps), Annex-B so the server can loop
it. Clips are cached by their parameters, so only the first run pays for rendering (about 5 s
per clip-minute).

    .venv/bin/python bench/live_clips.py --out /tmp/pantau-live-clips   # build and list them
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.sim.world import parse_local
from tests.support.media import to_annexb

DEFAULT_DIR = Path("/tmp/pantau-live-clips")


@dataclass(frozen=True)
class ClipSpec:
    """One office view at one local time (WITA); `kind` groups clips into load scenarios."""

    name: str
    site: str
    view: str
    local: str  # "YYYY-MM-DD HH.MM" WITA
    kind: str  # "busy" (office hours) | "quiet" (empty, lights off) | "night" (infrared)


# Tuesday 24 and Saturday 28 November 2026: an ordinary working day and a weekend.
CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec("mandonga-interior-0930", "kel-mandonga", "interior", "2026-11-24 09.30", "busy"),
    ClipSpec("mandonga-entrance-0725", "kel-mandonga", "entrance", "2026-11-24 07.25", "busy"),
    ClipSpec("kambu-interior-1030", "kel-kambu", "interior", "2026-11-24 10.30", "busy"),
    ClipSpec("kambu-entrance-1100", "kel-kambu", "entrance", "2026-11-24 11.00", "busy"),
    ClipSpec("andonohu-interior-1400", "kel-andonohu", "interior", "2026-11-24 14.00", "busy"),
    ClipSpec("andonohu-interior-sat", "kel-andonohu", "interior", "2026-11-28 11.00", "quiet"),
    ClipSpec("lepo-lepo-entrance-sat", "kel-lepo-lepo", "entrance", "2026-11-28 10.00", "quiet"),
    ClipSpec("lepo-lepo-interior-1930", "kel-lepo-lepo", "interior", "2026-11-24 19.30", "night"),
    ClipSpec("wua-wua-interior-0200", "kel-wua-wua", "interior", "2026-11-25 02.00", "night"),
    ClipSpec("wua-wua-entrance-2300", "kel-wua-wua", "entrance", "2026-11-24 23.00", "night"),
)
SCENARIOS = {
    "mixed": ("busy", "quiet", "night"),
    "busy": ("busy",),
    "quiet": ("quiet", "night"),
}


@dataclass
class Clip:
    name: str
    kind: str
    path: str
    seconds: float
    fps: int
    width: int
    height: int
    kbps: float
    people_mean: float  # people in view, averaged over the clip's frames (ground truth)
    lights_on_share: float


def _render(
    spec: ClipSpec, mp4: Path, seconds: float, fps: int, w: int, h: int, max_kbps: int
) -> Clip:
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site=spec.site, profile="punctual", random_events=False)])
    )
    world = office.world
    scene = make_scene(office.seed, spec.view, w, h)
    start = parse_local(spec.local, world.zone)
    people = lit = 0
    n = round(seconds * fps)
    with av.open(str(mp4), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # Like a camera's sub-stream: VBR with a cap (the simulator's infrared grain would
        # otherwise cost 2.5 Mbit/s), no B-frames, a keyframe every second.
        stream.codec_context.options = {
            "preset": "veryfast",
            "crf": "26",
            "maxrate": f"{max_kbps}k",
            "bufsize": f"{max_kbps}k",
            "g": str(fps),
            "keyint_min": str(fps),
            "sc_threshold": "0",
            "bf": "0",
        }
        for k in range(n):
            at = start + timedelta(seconds=k / fps)
            present, lights, tamper, _offline = world.state_at(at, spec.view)
            people += len(present)
            lit += bool(lights)
            frame = av.VideoFrame.from_ndarray(
                scene.render(at, present, lights, tamper, frame_index=k), format="bgr24"
            )
            frame.pts = k
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Clip(spec.name, spec.kind, "", seconds, fps, w, h, 0.0, people / n, lit / n)


def make_clips(
    out: Path = DEFAULT_DIR,
    *,
    scenario: str = "mixed",
    seconds: float = 180.0,
    fps: int = 10,
    size: tuple[int, int] = (640, 360),
    max_kbps: int = 768,
    log: bool = True,
) -> list[Clip]:
    """The scenario's clips as looping Annex-B files, rendered on first use, then cached."""
    kinds = SCENARIOS[scenario]
    w, h = size
    out.mkdir(parents=True, exist_ok=True)
    clips = []
    for spec in CLIPS:
        if spec.kind not in kinds:
            continue
        stem = f"{spec.name}-{w}x{h}-{fps}fps-{seconds:g}s-{max_kbps}k"
        h264, meta = out / f"{stem}.h264", out / f"{stem}.json"
        if h264.exists() and meta.exists():
            clips.append(Clip(**json.loads(meta.read_text())))
            continue
        if log:
            print(f"rendering clip {stem} ...", file=sys.stderr, flush=True)
        mp4 = out / f"{stem}.mp4"
        clip = _render(spec, mp4, seconds, fps, w, h, max_kbps)
        to_annexb(mp4, h264)
        mp4.unlink()
        clip.path = str(h264)
        clip.kbps = h264.stat().st_size * 8 / 1000 / seconds
        meta.write_text(json.dumps(asdict(clip), indent=1))
        clips.append(clip)
    return clips


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="mixed")
    ap.add_argument("--clip-seconds", type=float, default=180.0)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--max-kbps", type=int, default=768, help="bitrate cap, like a sub-stream's")
    args = ap.parse_args()
    clips = make_clips(
        args.out,
        scenario=args.scenario,
        seconds=args.clip_seconds,
        fps=args.fps,
        max_kbps=args.max_kbps,
    )
    for c in clips:
        print(
            f"{c.name:26s} {c.kind:5s} {c.width}x{c.height} {c.fps} fps {c.kbps:6.0f} kbit/s "
            f"people {c.people_mean:4.1f} lights {c.lights_on_share:4.0%}  {c.path}"
        )


if __name__ == "__main__":
    main()
