"""Benchmark: per-frame person recall on real footage, against hand-made labels (issue 5).

    .venv/bin/python bench/real_footage_recall.py            # the table
    .venv/bin/python bench/real_footage_recall.py --misses   # ... and every person missed

The clip is ../shared/media/pedestrians-vtest-640x480.mp4 (OpenCV's vtest.avi: a walkway seen
from above, people 25-125 px tall); tests/data/labels/pedestrians-vtest.json has every person
in 40 of its frames (one every 2 s) boxed by hand, with occluded / partial flags (how the
labels were made is written in the file). A person counts as found when a detection overlaps
their box with IoU >= 0.5, and (hand boxes are loose, detector boxes too) >= 0.3; pairs are
matched greedily, best IoU first, one detection per person. Precision counts a detection as
false only if it matches nobody, occluded and partial people included.

Modes, all with the shipped detector at its default score threshold, one thread:

- full frame: `PersonDetector.detect(frame)`, the 640x480 frame squeezed to 300x300;
- tiled 2x2: `detect_tiled(frame)`, full frame + four overlapping tiles;
- tiled 2x1: `detect_tiled(frame, tiles=(2, 1), overlap=0.25)`, what the analyzer's periodic
  full look runs on a frame wider than high;
- analyzer: the clip fed at 1 sample/s through `pantau.media.reader.StreamReader` (file mode,
  the decoder `pantau analyze` uses) into `CameraAnalyzer` from
  `pantau.pipeline.camera.make_analyzer` on default settings; scored are the boxes it reports
  for each labelled frame (it keeps its last count between detector passes), and separately the
  labelled frames on which it ran the detector;
- crop 2.5x (oracle): `detect(frame, roi=...)` on a square 2.5x the person's height centred on
  each labelled person, the best a motion-guided crop can do; recall only.

Figures are in docs/real-footage.md. CPU is process time (other jobs on the machine hardly
affect it).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import resource
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.vision.detector import PersonDetector, iou
from tests.support import media

Box = tuple[int, int, int, int]

LABELS = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "labels" / "pedestrians-vtest.json"
)
BANDS: tuple[tuple[str, float, float], ...] = (
    ("<60", 0, 60),
    ("60-120", 60, 120),
    (">120", 120, math.inf),
)
IOUS = (0.5, 0.3)
FINGERPRINT_SIZE = (16, 12)
# A re-encode of the same source moves no thumbnail cell by more than 1; the frame half a second
# later moves some cell by >= 23 (measured over the labelled frames).
FINGERPRINT_TOLERANCE = 8
TOGETHER_PX = 3  # boxes this close: walking side by side, one behind the other


# ---- the label file --------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    frame: int
    box: Box
    occluded: bool
    partial: bool
    note: str = ""
    together: bool = False  # another labelled person's box within TOGETHER_PX

    @property
    def hidden(self) -> bool:
        """More than half hidden or outside the frame: scored apart from everyone else."""
        return self.occluded or self.partial

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def band(self) -> str:
        return next(name for name, lo, hi in BANDS if lo <= self.height < hi)


@dataclass(frozen=True)
class LabelledFrame:
    index: int
    time_s: float
    fingerprint: np.ndarray  # FINGERPRINT_SIZE grey thumbnail, uint8
    people: tuple[Person, ...]


@dataclass(frozen=True)
class Labels:
    file: str
    sha256: str
    width: int
    height: int
    fps: float
    frame_count: int
    frames: tuple[LabelledFrame, ...]
    raw: dict

    @property
    def people(self) -> list[Person]:
        return [p for f in self.frames for p in f.people]


def load_labels(path: Path = LABELS) -> Labels:
    """The label file as objects; `problems()` says whether it is well-formed."""
    return parse_labels(json.loads(path.read_text(encoding="utf-8")))


def parse_labels(raw: dict) -> Labels:
    clip = raw["clip"]
    w, h = FINGERPRINT_SIZE
    frames = tuple(
        LabelledFrame(
            index=int(f["index"]),
            time_s=float(f["time_s"]),
            fingerprint=np.frombuffer(bytes.fromhex(f["fingerprint"]), np.uint8).reshape(h, w),
            people=tuple(
                Person(
                    frame=int(f["index"]),
                    box=_box(p["box"]),
                    occluded=bool(p["occluded"]),
                    partial=bool(p["partial"]),
                    note=str(p.get("note", "")),
                    together=any(
                        _near(_box(p["box"]), _box(q["box"])) for q in f["people"] if q is not p
                    ),
                )
                for p in f["people"]
            ),
        )
        for f in raw["frames"]
    )
    return Labels(
        file=clip["file"],
        sha256=clip["sha256"],
        width=int(clip["width"]),
        height=int(clip["height"]),
        fps=float(clip["fps"]),
        frame_count=int(clip["frames"]),
        frames=frames,
        raw=raw,
    )


def _box(values: Sequence[float]) -> Box:
    x0, y0, x1, y1 = (int(v) for v in values)
    return (x0, y0, x1, y1)


def _near(a: Box, b: Box) -> bool:
    d = TOGETHER_PX
    return b[0] < a[2] + d and b[2] > a[0] - d and b[1] < a[3] + d and b[3] > a[1] - d


def problems(labels: Labels) -> list[str]:
    """Everything wrong with the label file (empty when it is well-formed)."""
    out: list[str] = []
    if len(labels.sha256) != 64 or any(c not in "0123456789abcdef" for c in labels.sha256):
        out.append(f"clip sha256 {labels.sha256!r} is not 64 lower-case hex digits")
    for key in ("method", "labelled", "licence"):
        if not str(labels.raw.get(key, "")).strip():
            out.append(f"{key!r} is missing: say how, when and under which licence")
    indices = [f.index for f in labels.frames]
    if indices != sorted(set(indices)):
        out.append("frame indices are not strictly increasing")
    for f in labels.frames:
        where = f"frame {f.index}"
        if not 0 <= f.index < labels.frame_count:
            out.append(f"{where}: outside the clip's {labels.frame_count} frames")
        if abs(f.time_s - f.index / labels.fps) > 0.5 / labels.fps:
            out.append(f"{where}: time_s {f.time_s} is not index / fps")
        for p in f.people:
            x0, y0, x1, y1 = p.box
            if not (0 <= x0 < x1 <= labels.width and 0 <= y0 < y1 <= labels.height):
                out.append(f"{where}: box {p.box} is empty or outside the frame")
        for i, a in enumerate(f.people):
            for b in f.people[i + 1 :]:
                if a.box == b.box:
                    out.append(f"{where}: box {a.box} labelled twice")
    return out


# ---- the clip --------------------------------------------------------------------------------


class ClipMismatch(RuntimeError):
    """The clip found is not the one the labels were made on."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(bgr: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, FINGERPRINT_SIZE, interpolation=cv2.INTER_AREA)


def fingerprint_gap(bgr: np.ndarray, expected: np.ndarray) -> int:
    """Largest thumbnail-cell difference: <= FINGERPRINT_TOLERANCE for the labelled picture."""
    return int(np.abs(fingerprint(bgr).astype(int) - expected.astype(int)).max())


def decode(path: Path, indices: Iterable[int]) -> dict[int, np.ndarray]:
    """Frames by decode order index, BGR (every frame is decoded; 1,192 take ~2 s)."""
    want = set(indices)
    out: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in want:
                out[i] = frame.to_ndarray(format="bgr24")
                if len(out) == len(want):
                    break
    missing = want - set(out)
    if missing:
        raise ClipMismatch(f"{path}: has no frame {min(missing)} (labels need {max(want)})")
    return out


def _rebuilt(cache: Path) -> Path:
    """The clip rebuilt from its registry source, ignoring ../shared (tests/support/media.py)."""
    saved = media.SHARED
    media.SHARED = cache / "no-shared-media"  # the helper prefers ../shared when it exists
    try:
        return media.pedestrians(cache / "rebuilt")
    finally:
        media.SHARED = saved


def labelled_clip(labels: Labels, cache: Path) -> tuple[Path, dict[int, np.ndarray]]:
    """The clip the labels belong to and its labelled frames.

    ../shared/media's copy (or the helper's rebuild when ../shared is absent) if its SHA-256 is
    the labelled one; otherwise the clip is rebuilt from the registry source. A rebuild made
    with another FFmpeg/x264 build has another hash but the same pictures: it is accepted when
    every labelled frame matches its fingerprint.
    """
    indices = [f.index for f in labels.frames]
    path = media.pedestrians(cache)
    if sha256_of(path) != labels.sha256:
        path = _rebuilt(cache)
    frames = decode(path, indices)
    if sha256_of(path) != labels.sha256:
        gaps = {f.index: fingerprint_gap(frames[f.index], f.fingerprint) for f in labels.frames}
        worst = max(gaps, key=gaps.__getitem__)
        if gaps[worst] > FINGERPRINT_TOLERANCE:
            raise ClipMismatch(
                f"{path} is not the clip the labels were made on (SHA-256 {labels.sha256}): "
                f"frame {worst} differs from its labelled picture by {gaps[worst]} grey levels "
                f"(> {FINGERPRINT_TOLERANCE}); relabel or restore the clip"
            )
    return path, frames


# ---- scoring ---------------------------------------------------------------------------------


def match(truth: Sequence[Box], found: Sequence[Box], threshold: float) -> list[int | None]:
    """For each true box the index of the detection paired with it (None: missed); greedy,
    best IoU first, each detection used once."""
    pairs = sorted(
        (
            (iou(t, d), ti, di)
            for ti, t in enumerate(truth)
            for di, d in enumerate(found)
            if iou(t, d) >= threshold
        ),
        reverse=True,
    )
    out: list[int | None] = [None] * len(truth)
    used: set[int] = set()
    for _, ti, di in pairs:
        if out[ti] is None and di not in used:
            out[ti] = di
            used.add(di)
    return out


@dataclass
class Score:
    """Who was found at each IoU threshold, and how many detections matched nobody."""

    found: dict[float, list[tuple[Person, bool]]]
    detections: int = 0
    false: dict[float, int] | None = None
    frames: int = 0
    cpu_s: float = 0.0

    def recall(self, threshold: float, keep: Callable[[Person], bool]) -> tuple[int, int]:
        hits = [ok for p, ok in self.found[threshold] if keep(p)]
        return sum(hits), len(hits)

    def precision(self, threshold: float) -> float | None:
        if self.false is None or self.detections == 0:
            return None
        return 1 - self.false[threshold] / self.detections


def score(frames: Sequence[LabelledFrame], found: dict[int, Sequence[Box]]) -> Score:
    """Score detections per labelled frame (frames missing from `found` are not scored)."""
    s = Score(found={t: [] for t in IOUS}, false={t: 0 for t in IOUS})
    for f in frames:
        if f.index not in found:
            continue
        boxes = list(found[f.index])
        s.frames += 1
        s.detections += len(boxes)
        truth = [p.box for p in f.people]
        for t in IOUS:
            pairs = match(truth, boxes, t)
            s.found[t] += [(p, m is not None) for p, m in zip(f.people, pairs, strict=True)]
            assert s.false is not None
            s.false[t] += len(boxes) - sum(m is not None for m in pairs)
    return s


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def detector_boxes(
    labels: Labels, frames: dict[int, np.ndarray], run: Callable[[np.ndarray], list]
) -> tuple[dict[int, list[Box]], float]:
    """Boxes per labelled frame and the CPU seconds the detector took."""
    out: dict[int, list[Box]] = {}
    t0 = cpu_seconds()
    for f in labels.frames:
        out[f.index] = [d.box for d in run(frames[f.index])]
    return out, cpu_seconds() - t0


def crop_around(p: Person, width: int, height: int, factor: float = 2.5) -> Box:
    """A square `factor` x the person's height centred on them, shifted inside the frame."""
    side = min(round(p.height * factor), width, height)
    cx, cy = (p.box[0] + p.box[2]) / 2, (p.box[1] + p.box[3]) / 2
    x0 = int(min(max(0, round(cx - side / 2)), width - side))
    y0 = int(min(max(0, round(cy - side / 2)), height - side))
    return (x0, y0, x0 + side, y0 + side)


def oracle_crops(labels: Labels, frames: dict[int, np.ndarray], detector: PersonDetector) -> Score:
    """Recall when every person is looked at through a crop made for them (no precision)."""
    s = Score(found={t: [] for t in IOUS})
    t0 = cpu_seconds()
    for f in labels.frames:
        s.frames += 1
        for p in f.people:
            roi = crop_around(p, labels.width, labels.height)
            boxes = [d.box for d in detector.detect(frames[f.index], roi=roi)]
            for t in IOUS:
                s.found[t].append((p, any(m is not None for m in match([p.box], boxes, t))))
    s.cpu_s = cpu_seconds() - t0
    return s


class _Spy:
    """The analyzer's detector, noting how each look ran (a crop, tiles, the whole frame)."""

    def __init__(self, inner: PersonDetector) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def detect(self, bgr: np.ndarray, roi: Box | None = None) -> list:
        if roi is None:
            self.calls.append("whole frame")
        else:
            self.calls.append(f"crop {roi[2] - roi[0]}x{roi[3] - roi[1]}")
        return self.inner.detect(bgr, roi=roi)

    def detect_tiled(self, bgr: np.ndarray, *args: object, **kwargs: object) -> list:
        tiles = kwargs.get("tiles", args[0] if args else (2, 2))
        whole = "" if kwargs.get("whole", True) else ", no whole frame"
        self.calls.append(f"tiles {tiles[0]}x{tiles[1]}{whole}")  # type: ignore[index]
        return self.inner.detect_tiled(bgr, *args, **kwargs)  # type: ignore[arg-type]


@dataclass
class AnalyzerRun:
    reported: dict[int, list[Box]]  # boxes the analyzer reported at each labelled frame
    looked: dict[int, list[Box]]  # ... at the labelled frames where it ran the detector
    looks: dict[int, str]  # how it looked there: a crop (size), tiles, the whole frame
    samples: int
    detector_runs: int
    cpu_s: float


def run_analyzer(
    path: Path, labels: Labels, sample_fps: float, workdir: Path, skip_s: float = 0.0
) -> AnalyzerRun:
    """The clip through the reader and the analyzer as `pantau analyze` would run them; the
    analyzer is given the samples from `skip_s` on (a camera's schedule has no fixed phase)."""
    from pantau.config.model import Settings
    from pantau.media.reader import StreamReader
    from pantau.pipeline.camera import CameraSpec, make_analyzer

    settings = Settings.model_validate({"data_dir": str(workdir)})
    analyzer = make_analyzer(CameraSpec(id=1, name="pedestrians", url=str(path)), settings)
    assert analyzer is not None, "analytics are disabled in the default settings"
    assert analyzer.detector is not None
    spy = _Spy(analyzer.detector)
    analyzer.detector = spy  # type: ignore[assignment]
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # any aware time: the clip has none
    wanted = {f.index for f in labels.frames}
    reported: dict[int, list[Box]] = {}
    looked: dict[int, list[Box]] = {}
    looks: dict[int, str] = {}
    samples = 0
    t0 = cpu_seconds()
    reader = StreamReader(
        str(path),
        sample="fps",
        sample_fps=sample_fps,
        analytics_width=labels.width,
        live=False,
        start_time=start,
    )
    reader.open()
    try:
        for info in reader.packets():
            frame = reader.sample(info)
            if frame is None:
                continue
            index = round((frame.at - start).total_seconds() * labels.fps)
            if index < skip_s * labels.fps:
                continue
            samples += 1
            spy.calls.clear()
            facts = analyzer.process(frame)
            if index in wanted:
                reported[index] = list(facts.boxes)
                if facts.detector_ran:
                    looked[index] = list(facts.boxes)
                    looks[index] = " + ".join(spy.calls)
    finally:
        reader.close()
    cpu = cpu_seconds() - t0
    return AnalyzerRun(reported, looked, looks, samples, analyzer.detector_runs, cpu)


# ---- report ----------------------------------------------------------------------------------

GROUPS: tuple[tuple[str, Callable[[Person], bool]], ...] = (
    ("all", lambda p: True),
    ("clear", lambda p: not p.hidden),
    ("hidden", lambda p: p.hidden),
    *((f"clear {name}", (lambda p, n=name: not p.hidden and p.band == n)) for name, _, _ in BANDS),
)


def _cell(s: Score, keep: Callable[[Person], bool]) -> str:
    (h5, n), (h3, _) = s.recall(0.5, keep), s.recall(0.3, keep)
    if n == 0:
        return "-"
    return f"{h5 / n:.2f} ({h3 / n:.2f})"


def table(labels: Labels, rows: Sequence[tuple[str, Score]]) -> str:
    people = labels.people
    width = 14
    head = f"{'mode':<30}{'frames':>7}  " + "".join(f"{g:>{width}}" for g, _ in GROUPS)
    count = f"{'people labelled':<30}{len(labels.frames):>7}  " + "".join(
        f"{sum(map(keep, people)):>{width}}" for _, keep in GROUPS
    )
    lines = [head + f"{'precision':>{width}}{'ms CPU/frame':>{width}}", count]
    for name, s in rows:
        p5, p3 = s.precision(0.5), s.precision(0.3)
        prec = "-" if p5 is None or p3 is None else f"{p5:.2f} ({p3:.2f})"
        ms = f"{1000 * s.cpu_s / s.frames:.0f}" if s.frames and s.cpu_s else "-"
        lines.append(
            f"{name:<30}{s.frames:>7}  "
            + "".join(f"{_cell(s, keep):>{width}}" for _, keep in GROUPS)
            + f"{prec:>{width}}{ms:>{width}}"
        )
    return "\n".join(lines)


def crowd_table(rows: Sequence[tuple[str, Score]]) -> str:
    """Clear people alone vs. next to someone (boxes within TOGETHER_PX)."""
    lines = [f"{'mode':<30}{'clear, alone':>14}{'clear, together':>17}"]
    for name, s in rows:
        alone = _cell(s, lambda p: not p.hidden and not p.together)
        together = _cell(s, lambda p: not p.hidden and p.together)
        lines.append(f"{name:<30}{alone:>14}{together:>17}")
    return "\n".join(lines)


def variants(detector: PersonDetector) -> list[tuple[str, Callable[[np.ndarray], list]]]:
    """Other ways to run the detector, for tuning (`--variants`)."""
    loose = PersonDetector(threads=1, score_threshold=0.4)
    out: list[tuple[str, Callable[[np.ndarray], list]]] = [
        ("tiled 3x2", lambda f: detector.detect_tiled(f, tiles=(3, 2))),
        ("tiled 2x2, score >= 0.4", loose.detect_tiled),
    ]
    if "whole" in inspect.signature(detector.detect_tiled).parameters:  # newer detectors
        out += [
            ("2x2 tiles, no whole frame", lambda f: detector.detect_tiled(f, whole=False)),
            (
                "2x1 halves, no whole frame",
                lambda f: detector.detect_tiled(f, tiles=(2, 1), overlap=0.25, whole=False),
            ),
        ]
    return out


def misses(s: Score, found: dict[int, Sequence[Box]] | None) -> list[str]:
    """One line per person missed at IoU 0.5: where, how tall, and the closest detection."""
    out = []
    for p, ok in s.found[0.5]:
        if ok:
            continue
        near = ""
        if found is not None and found.get(p.frame):
            best = max(iou(p.box, d) for d in found[p.frame])
            near = f"  closest detection IoU {best:.2f}"
        flags = "occluded " if p.occluded else ""
        flags += "partial " if p.partial else ""
        note = f" ({p.note})" if p.note else ""
        out.append(f"  frame {p.frame:4d}  {p.box}  {p.height:3d} px  {flags}{note}{near}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--sample-fps", type=float, default=1.0, help="analyzer samples per second")
    ap.add_argument("--misses", action="store_true", help="list every person missed")
    ap.add_argument("--no-analyzer", action="store_true", help="skip the analyzer run")
    ap.add_argument("--variants", action="store_true", help="also other tilings, score 0.4")
    args = ap.parse_args()

    labels = load_labels(args.labels)
    wrong = problems(labels)
    if wrong:
        sys.exit("label file problems:\n  " + "\n  ".join(wrong))
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-real-"))
    path, frames = labelled_clip(labels, work / "media")
    cv2.setNumThreads(1)
    detector = PersonDetector(threads=1)
    detector.detect(frames[labels.frames[0].index])  # warm up (first run allocates)

    rows: list[tuple[str, Score]] = []
    boxes: dict[str, dict[int, list[Box]]] = {}
    modes: list[tuple[str, Callable[[np.ndarray], list]]] = [
        ("full frame", detector.detect),
        ("tiled 2x2", detector.detect_tiled),
        ("tiled 2x1", lambda f: detector.detect_tiled(f, tiles=(2, 1), overlap=0.25)),
    ]
    for name, run in modes + (variants(detector) if args.variants else []):
        found, cpu = detector_boxes(labels, frames, run)
        s = score(labels.frames, found)
        s.cpu_s = cpu
        rows.append((name, s))
        boxes[name] = found
    runs: list[tuple[float, AnalyzerRun]] = []
    if not args.no_analyzer:
        for skip in (0.0, 1.0):
            a = run_analyzer(path, labels, args.sample_fps, work / "data", skip)
            runs.append((skip, a))
            reported = score(labels.frames, a.reported)
            reported.cpu_s = a.cpu_s * reported.frames / max(a.samples, 1)  # per sample
            rows.append((f"analyzer from {skip:g} s, reported", reported))
            boxes[rows[-1][0]] = a.reported
        for skip, a in runs:
            rows.append((f"analyzer from {skip:g} s, looked", score(labels.frames, a.looked)))
            boxes[rows[-1][0]] = a.looked
    rows.append(("crop 2.5x person (oracle)", oracle_crops(labels, frames, detector)))

    exact = "same SHA-256" if sha256_of(path) == labels.sha256 else "re-encode, fingerprints match"
    print(f"clip {path} ({exact})")
    n = len(labels.people)
    hidden = sum(p.hidden for p in labels.people)
    print(
        f"{len(labels.frames)} labelled frames, {n} people ({n - hidden} clear, {hidden} occluded "
        f"or partial); recall at IoU >= 0.5 (>= 0.3 in brackets); clear <60 etc.: box height px"
    )
    print(table(labels, rows))
    for skip, a in runs:
        counted = sum(len(b) for b in a.reported.values())
        there = sum(len(f.people) for f in labels.frames if f.index in a.reported)
        print(
            f"analyzer from {skip:g} s: {a.samples} samples at {args.sample_fps:g}/s, "
            f"{a.detector_runs} detector passes, {1000 * a.cpu_s / max(a.samples, 1):.0f} ms CPU "
            f"per sample (decode, motion, light, tamper, detector); detector ran on "
            f"{len(a.looked)} of {len(a.reported)} labelled frames; people reported there "
            f"{counted}, labelled {there}"
        )
    print()
    print(crowd_table(rows))
    for skip, a in runs:
        print(f"analyzer from {skip:g} s, clear people on the labelled frames it looked, by look:")
        crops = {i for i, k in a.looks.items() if k.startswith("crop")}
        groups = [("crop around motion", crops)] if crops else []
        kinds = sorted({k for k in a.looks.values() if not k.startswith("crop")})
        groups += [(k, {i for i in a.looks if a.looks[i] == k}) for k in kinds]
        for kind, which in groups:
            s = score(labels.frames, {i: a.looked[i] for i in which})
            print(f"  {kind:<32}{s.frames:>3} frames {_cell(s, lambda p: not p.hidden):>14}")
        if crops:
            sizes = sorted(a.looks[i] for i in crops)
            print(f"  crop sizes: {', '.join(k.removeprefix('crop ') for k in sizes)}")
    if args.misses:
        for name, s in rows:
            lines = misses(s, boxes.get(name))
            print(f"\nmissed at IoU 0.5, {name}: {len(lines)}")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
