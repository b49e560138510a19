"""Contact sheets: a simulated day at a glance, to eyeball scenes the way an operator would.

Rendering itself lives in :mod:`pantau.sim.scene`; this module only lays frames out in a grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import cv2
import numpy as np

from pantau.sim.plan import TamperKind, Visit
from pantau.sim.scene import Scene

PlanFn = Callable[[Scene, datetime], tuple[Sequence[Visit], bool, TamperKind | None]]


def contact_sheet(
    scenes: Sequence[Scene],
    times: Sequence[datetime],
    plan_fn: PlanFn,
    *,
    thumb_width: int = 320,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """One row per scene, one column per time: BGR image of thumbnails with a label per row.

    `plan_fn(scene, at)` says who is present, whether the lights are on and any tamper at
    `at`, so the sheet shows exactly what the camera would stream then (clock overlay included).
    """
    if not scenes or not times:
        raise ValueError("contact_sheet needs at least one scene and one time")
    band = 20
    gap = 4
    rows = []
    for i, scene in enumerate(scenes):
        th = round(thumb_width * scene.height / scene.width)
        cells = []
        for k, at in enumerate(times):
            present, lights, tamper = plan_fn(scene, at)
            frame = scene.render(at, present, lights, tamper, frame_index=k)
            cells.append(cv2.resize(frame, (thumb_width, th), interpolation=cv2.INTER_AREA))
            cells.append(np.full((th, gap, 3), 24, np.uint8))
        strip = np.hstack(cells[:-1])
        label = labels[i] if labels else f"seed {scene.seed} / {scene.view}"
        head = np.full((band, strip.shape[1], 3), 24, np.uint8)
        cv2.putText(
            head,
            label,
            (6, band - 6),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (230, 230, 230),
            1,
            cv2.LINE_AA,
        )
        rows.append(np.vstack([head, strip, np.full((gap, strip.shape[1], 3), 24, np.uint8)]))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=24) for r in rows]
    return np.vstack(rows)
