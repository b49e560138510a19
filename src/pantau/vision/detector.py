"""Person detector: a BGR frame in, person boxes out (SSDLite-MobileNetV2, ONNX, CPU).

Pure: no clock, no database, no network. The model file ships with the package
(`pantau/models/`), and its SHA-256 is checked on load so a truncated copy or a different
conversion never silently changes what the control room counts. Presence and counting only
(UU 27/2022): the model has one class, *person*, and nothing here identifies anyone.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

MODEL_NAME = "person-ssdlite-mobilenetv2.onnx"
MODEL_SHA256 = "bdffa26b62e5407812f8f6951510027d3b1262c0e2b6c3610a78ad872dad07c3"
INPUT_SIZE = 300
PERSON_CLASS = 1

# (resolved path, size, mtime_ns) of files whose checksum already matched: hashing 12 MB costs
# ~30 ms, which adds up when every camera worker builds its own detector.
_verified: set[tuple[str, int, int]] = set()
_verified_lock = threading.Lock()


class ModelError(RuntimeError):
    """The model file is missing, unreadable or not the expected one."""


@dataclass(frozen=True, slots=True)
class Detection:
    """One person: box in frame pixels (x1, y1 exclusive) and the model's score."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def default_model_path() -> Path:
    """The model shipped inside the package (works for editable and wheel installs)."""
    return Path(str(resources.files("pantau") / "models" / MODEL_NAME))


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _how_to_get(path: Path) -> str:
    return (
        f"copy {MODEL_NAME} from the project's models folder (src/pantau/models/ in the source "
        f"tree) to {path}, or rebuild it as described in src/pantau/models/README.md"
    )


def verify_model(path: Path) -> None:
    """Raise ModelError unless `path` exists and has the known SHA-256."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"person model {path} not found: {_how_to_get(path)}") from exc
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelError(
            f"person model {path} cannot be read ({exc}): {_how_to_get(path)}"
        ) from exc
    got = digest.hexdigest()
    if got != MODEL_SHA256:
        raise ModelError(
            f"person model {path} has SHA-256 {got}, expected {MODEL_SHA256} "
            f"(damaged or a different conversion): {_how_to_get(path)}"
        )
    with _verified_lock:
        _verified.add(key)


def _check_frame(bgr: object) -> np.ndarray:
    if not isinstance(bgr, np.ndarray):
        raise ValueError(f"frame must be a numpy array, got {type(bgr).__name__}")
    if bgr.ndim != 3 or bgr.shape[2] != 3:
        raise ValueError(f"frame must be HxWx3 (BGR), got shape {bgr.shape}")
    if bgr.dtype != np.uint8:
        raise ValueError(f"frame must be uint8, got dtype {bgr.dtype}")
    if bgr.shape[0] < 2 or bgr.shape[1] < 2:
        raise ValueError(f"frame too small: {bgr.shape[1]}x{bgr.shape[0]}")
    return bgr


class PersonDetector:
    """SSDLite person detector on onnxruntime's CPU provider.

    One instance per worker thread is the intended use; `threads` bounds onnxruntime's
    intra-op pool so N camera workers on N cores do not oversubscribe the CPU.
    """

    def __init__(
        self, model_path: Path | None = None, threads: int = 1, score_threshold: float = 0.5
    ) -> None:
        import onnxruntime as ort  # heavy import, only when a detector is really built

        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if not 0.0 <= score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold}")
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.score_threshold = score_threshold
        verify_model(self.model_path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                os.fspath(self.model_path), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"person model {self.model_path} cannot be loaded: {exc}") from exc
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]

    def detect(
        self, bgr: np.ndarray, roi: tuple[int, int, int, int] | None = None
    ) -> list[Detection]:
        """People in `bgr` (HxWx3 uint8), best first.

        The frame (or `roi` = (x0, y0, x1, y1)) is resized to the model's 300x300 input, aspect
        not kept. The model finds people best when they stand ~95-155 px tall in that input and
        hardly at all below ~65 px (docs/sprites.md): a 60 px person in a 1080p frame is ~17 px
        after a full-frame resize, but a square crop 2-3x their height shows them at ~120 px.
        Boxes are always in frame pixels.
        """
        frame = _check_frame(bgr)
        h, w = frame.shape[:2]
        if roi is None:
            x0, y0, x1, y1 = 0, 0, w, h
        else:
            if len(roi) != 4:
                raise ValueError(f"roi must be (x0, y0, x1, y1), got {roi!r}")
            x0, y0 = max(0, int(roi[0])), max(0, int(roi[1]))
            x1, y1 = min(w, int(roi[2])), min(h, int(roi[3]))
            if x1 - x0 < 2 or y1 - y0 < 2:
                raise ValueError(f"roi {roi!r} is empty inside a {w}x{h} frame")
        return self._run(frame[y0:y1, x0:x1], x0, y0)

    def detect_tiled(
        self,
        bgr: np.ndarray,
        tiles: tuple[int, int] = (2, 2),
        overlap: float = 0.2,
        *,
        nms_iou: float = 0.45,
        contained: float = 0.7,
        whole: bool = True,
    ) -> list[Detection]:
        """Full frame plus overlapping tiles (cols, rows), merged with non-maximum suppression.

        Tiles find small people; the full-frame pass finds people larger than a tile. Prefer
        tiles that are about square (2x1 for a 16:9 frame): each is squeezed to 300x300 and a
        distorted person is found less often. The same
        person seen in two views gives boxes that IoU-based NMS cannot always pair (a tile shows
        only the upper half of someone the full frame shows whole), so after NMS a box lying
        `contained` or more inside a larger box from another view is folded into it.
        `whole=False` skips the full-frame pass (2x1 halves of a 16:9 frame already hold
        anyone who fits in the frame's height).
        """
        frame = _check_frame(bgr)
        cols, rows = int(tiles[0]), int(tiles[1])
        if cols < 1 or rows < 1:
            raise ValueError(f"tiles must be >= (1, 1), got {tiles!r}")
        if not 0.0 <= overlap < 1.0:
            raise ValueError(f"overlap must be in [0, 1), got {overlap}")
        h, w = frame.shape[:2]
        found = [(d, 0) for d in self._run(frame, 0, 0)] if whole or cols * rows == 1 else []
        if cols * rows > 1:
            views = [(x, y) for x in _spans(w, cols, overlap) for y in _spans(h, rows, overlap)]
            for view, ((tx0, tx1), (ty0, ty1)) in enumerate(views, start=1):
                found += [(d, view) for d in self._run(frame[ty0:ty1, tx0:tx1], tx0, ty0)]
        kept = nms([d for d, _ in found], nms_iou, self.score_threshold)
        view_of = {id(d): v for d, v in found}
        merged: list[tuple[Detection, int]] = []
        for d in sorted(kept, key=lambda d: (d.x1 - d.x0) * (d.y1 - d.y0), reverse=True):
            for i, (big, view) in enumerate(merged):
                if view != view_of[id(d)] and _inside(d.box, big.box) >= contained:
                    if d.score > big.score:
                        merged[i] = (replace(big, score=d.score), view)
                    break
            else:
                merged.append((d, view_of[id(d)]))
        return sorted((d for d, _ in merged), key=lambda d: d.score, reverse=True)

    def _run(self, crop: np.ndarray, ox: int, oy: int) -> list[Detection]:
        ch, cw = crop.shape[:2]
        interp = cv2.INTER_AREA if ch > INPUT_SIZE or cw > INPUT_SIZE else cv2.INTER_LINEAR
        rgb = cv2.cvtColor(
            cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=interp), cv2.COLOR_BGR2RGB
        )
        num, boxes, scores, classes = self._session.run(self._outputs, {self._input: rgb[None]})
        n = int(num[0])
        out: list[Detection] = []
        for box, score, cls in zip(boxes[0, :n], scores[0, :n], classes[0, :n], strict=True):
            if int(cls) != PERSON_CLASS or score < self.score_threshold:
                continue
            ymin, xmin, ymax, xmax = np.clip(box, 0.0, 1.0)
            d = Detection(
                x0=ox + round(float(xmin) * cw),
                y0=oy + round(float(ymin) * ch),
                x1=ox + round(float(xmax) * cw),
                y1=oy + round(float(ymax) * ch),
                score=float(score),
            )
            if d.x1 > d.x0 and d.y1 > d.y0:
                out.append(d)
        out.sort(key=lambda d: d.score, reverse=True)
        return out


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Share of box `a`'s area that lies inside box `b`."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return ix * iy / area if area > 0 else 0.0


def _spans(length: int, n: int, overlap: float) -> list[tuple[int, int]]:
    """`n` equal windows covering [0, length) where neighbours share `overlap` of a window."""
    if n == 1:
        return [(0, length)]
    size = length / (n - (n - 1) * overlap)
    step = size * (1 - overlap)
    return [(round(i * step), min(length, round(i * step + size))) for i in range(n)]


def nms(
    dets: list[Detection], iou_threshold: float = 0.45, score_threshold: float = 0.0
) -> list[Detection]:
    """Non-maximum suppression (OpenCV's), best first."""
    if not dets:
        return []
    boxes = [[d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0] for d in dets]
    scores = [d.score for d in dets]
    keep = cv2.dnn.NMSBoxes(boxes, scores, score_threshold, iou_threshold)
    kept = [dets[int(i)] for i in np.asarray(keep).reshape(-1)]
    kept.sort(key=lambda d: d.score, reverse=True)
    return kept
