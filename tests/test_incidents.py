"""Incidents: the pure rules, idempotent evaluation against the calendar, the API workflow."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

import pantau.incidents.evaluator as evaluator_module
from pantau.config.loader import format_loc
from pantau.incidents.evaluator import IncidentEvaluator
from pantau.incidents.evidence import Footage, evidence_taker, footage_span
from pantau.incidents.hours import UNKNOWN, Margins, expected_predicate, widened
from pantau.incidents.rules import (
    IncidentSpec,
    MinuteFacts,
    detect,
    incident_id,
    offline_incidents,
)
from pantau.incidents.store import evaluate_camera, evaluate_range, upsert_incidents
from pantau.incidents.windows import AllowedWindow, allowed_predicate, parse_windows
from pantau.media.snapshot import write_latest
from pantau.pipeline.shard import ShardManager
from pantau.recordings.index import add_segment
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, Camera, HealthSample, Incident, Observation, Site
from pantau.store.types import utcnow
from tests.support.media import run

MIN = timedelta(minutes=1)
NIGHT = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 22:00 WITA
DAY = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 WITA


def office(m: datetime) -> bool:
    """08:00-16:00 WITA = 00:00-08:00 UTC."""
    return m.hour < 8


def obs(
    start: datetime,
    people: list[int],
    tamper: dict[int, dict[str, float]] | None = None,
    motion: list[float] | None = None,
    ir: bool | None = None,
) -> list[MinuteFacts]:
    return [
        MinuteFacts(1, start + i * MIN, p, (tamper or {}).get(i, {}), (motion or [0.0] * 99)[i], ir)
        for i, p in enumerate(people)
    ]


# --- rules -----------------------------------------------------------------------------------


def test_night_person_three_minutes_is_an_intrusion() -> None:
    specs = detect(obs(NIGHT, [0, 1, 2, 1, 0, 0]), scheduled=office)
    assert len(specs) == 1
    s = specs[0]
    assert (s.kind, s.start, s.end) == ("intrusion", NIGHT + MIN, NIGHT + 4 * MIN)
    assert s.evidence_minute == NIGHT + 2 * MIN and s.detail["people_max"] == 2


def test_one_minute_is_not_an_intrusion() -> None:
    assert detect(obs(NIGHT, [0, 1, 0, 0, 0]), scheduled=office) == []


def test_one_minute_gap_bridges_and_open_while_ongoing() -> None:
    specs = detect(obs(NIGHT, [1, 0, 1, 1]), scheduled=office)
    assert [(s.start, s.end, s.detail["minutes"]) for s in specs] == [(NIGHT, None, 3)]
    two_gaps = detect(obs(NIGHT, [1, 0, 0, 1, 0]), scheduled=office)
    assert two_gaps == []


def test_guard_window_is_allowed() -> None:
    def guard(m: datetime) -> bool:  # 21:45-22:15 WITA
        return NIGHT - 15 * MIN <= m < NIGHT + 15 * MIN

    assert detect(obs(NIGHT, [1, 1, 1, 1, 0]), scheduled=office, allowed=guard) == []


def test_office_hours_are_not_intrusion() -> None:
    assert detect(obs(DAY, [3, 3, 3, 3, 0]), scheduled=office) == []


def test_office_margins_widen_working_days_only() -> None:
    """The cleaner at 06.30 and staff until 16.59 are expected; 05.59, 17.00 and any time on a
    Saturday are not (Monday 30 November 2026, 07.30-16.00 WITA)."""
    monday, saturday = date(2026, 11, 30), date(2026, 12, 5)

    def hours_of(day: date) -> tuple[dtime, dtime] | None:
        return (dtime(7, 30), dtime(16)) if day == monday else None

    expected = expected_predicate(hours_of, "Asia/Makassar", Margins(90, 60))
    wita = timezone(timedelta(hours=8))

    def at(day: date, hh: int, mm: int) -> bool:
        return expected(datetime.combine(day, dtime(hh, mm), wita).astimezone(UTC))

    assert [at(monday, *t) for t in ((5, 59), (6, 0), (6, 30), (16, 59), (17, 0))] == [
        False, True, True, True, False,
    ]  # fmt: skip
    assert not at(saturday, 6, 30) and not at(saturday, 10, 0)
    strict = expected_predicate(hours_of, "Asia/Makassar", Margins(0, 0))
    assert not strict(datetime.combine(monday, dtime(7, 29), wita))
    assert strict(datetime.combine(monday, dtime(7, 30), wita))
    # a margin past midnight stops at the day's edge; an unknown day is never an intrusion
    assert widened(monday, (dtime(1), dtime(23)), Margins(240, 240)) == (
        datetime(2026, 11, 30), datetime(2026, 12, 1),
    )  # fmt: skip
    unknown = expected_predicate(lambda _d: UNKNOWN, "Asia/Makassar", Margins())
    assert unknown(datetime.combine(saturday, dtime(3), wita))


def test_margins_keep_early_staff_and_still_catch_the_night() -> None:
    monday = date(2026, 11, 30)
    expected = expected_predicate(
        lambda d: (dtime(7, 30), dtime(16)) if d == monday else None, "Asia/Makassar", Margins()
    )
    early = datetime(2026, 11, 29, 22, 25, tzinfo=UTC)  # Monday 06.25 WITA, the cleaner
    late = datetime(2026, 11, 30, 8, 50, tzinfo=UTC)  # Monday 16.50 WITA
    night = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # Monday 17.30 WITA
    assert detect(obs(early, [1] * 20), scheduled=expected) == []
    assert detect(obs(late, [1] * 9), scheduled=expected) == []
    specs = detect(obs(late, [1] * 40), scheduled=expected)  # stays on past 17.00
    assert [(s.start, s.end) for s in specs] == [(late + 10 * MIN, None)]
    assert len(detect(obs(night, [1, 1, 1, 0]), scheduled=expected)) == 1


def test_motion_in_the_dark_is_an_intrusion_the_detector_missed() -> None:
    """At night the model finds a person in an infrared picture on few frames; a dark office
    that moves for minutes is an intrusion all the same, and says it rests on motion."""
    moving = [0.0, 0.6, 1.4, 0.8, 0.0, 0.0]
    [spec] = detect(obs(NIGHT, [0] * 6, motion=moving, ir=True), scheduled=office)
    assert (spec.kind, spec.start, spec.end) == ("intrusion", NIGHT + MIN, NIGHT + 4 * MIN)
    assert spec.detail == {"people_max": 0, "minutes": 3, "basis": "motion"}
    assert spec.evidence_minute == NIGHT + 2 * MIN  # the minute that moved most
    mixed = detect(obs(NIGHT, [0, 1, 0, 0], motion=[0.5, 0.5, 0.5, 0.0], ir=True), scheduled=office)
    assert [s.detail["basis"] for s in mixed] == ["people"]
    # Not an intrusion: the same motion in a colour picture (lamps or daylight: the detector
    # sees well there), below the threshold, under a tamper, or in office hours.
    assert detect(obs(NIGHT, [0] * 6, motion=moving, ir=False), scheduled=office) == []
    assert detect(obs(NIGHT, [0] * 6, motion=[0.05] * 6, ir=True), scheduled=office) == []
    covered = {i: {"covered": 0.9} for i in range(6)}
    specs = detect(obs(NIGHT, [0] * 6, covered, moving, True), scheduled=office)
    assert [s.kind for s in specs] == ["tamper"]
    assert detect(obs(DAY, [0] * 6, motion=moving, ir=True), scheduled=office) == []
    night = obs(NIGHT, [0] * 6, motion=moving, ir=True)
    assert detect(night, scheduled=office, dark_motion_pct=0) == []  # the setting's "off"


def test_tamper_two_minutes_names_the_kind() -> None:
    flags = {1: {"covered": 0.9}, 2: {"covered": 0.95, "defocused": 0.4}}
    specs = detect(obs(DAY, [0, 0, 0, 0], flags), scheduled=office)
    assert len(specs) == 1
    s = specs[0]
    assert (s.kind, s.start, s.end) == ("tamper", DAY + MIN, DAY + 3 * MIN)
    assert s.detail["kind"] == "covered" and s.detail["kinds"] == ["covered", "defocused"]
    assert (
        detect(obs(DAY, [0, 0], {0: {"moved": 0.8}}), scheduled=office, tamper_min_minutes=2) == []
    )


def test_offline_needs_ten_minutes() -> None:
    def samples(states: str) -> list[Any]:
        return [
            SimpleNamespace(
                camera_id=1, minute=NIGHT + i * MIN, state="offline" if c == "x" else "online"
            )
            for i, c in enumerate(states)
        ]

    assert offline_incidents(samples("o" + "x" * 9 + "o")) == []
    specs = offline_incidents(samples("o" + "x" * 10 + "o"))
    assert [(s.kind, s.start, s.end) for s in specs] == [
        ("camera_offline", NIGHT + MIN, NIGHT + 11 * MIN)
    ]
    assert offline_incidents(samples("o" + "x" * 12))[0].end is None


def test_incident_id_is_stable() -> None:
    a = incident_id(7, "intrusion", NIGHT)
    assert a == incident_id(7, "intrusion", NIGHT + timedelta(seconds=30))
    assert len(a) == 32 and a != incident_id(7, "tamper", NIGHT)


# --- evaluation against the database ----------------------------------------------------------


def _camera(session: Any, kelurahan: str = "74.71.01.1006") -> Camera:
    site = session.scalar(
        select(Site).where(Site.kelurahan_code == kelurahan).order_by(Site.id).limit(1)
    )
    cam = Camera(site=site, name=f"cam-{uuid.uuid4().hex[:8]}", purpose="keamanan", main_stream="")
    session.add(cam)
    session.flush()
    return cam


def _observe(session: Any, camera_id: int, start: datetime, people: list[int], **kw: Any) -> None:
    for i, p in enumerate(people):
        session.merge(Observation(camera_id=camera_id, minute=start + i * MIN, people_max=p, **kw))


def _colour_clip(path: Path, colours: list[str], seconds: float, fmt: str) -> Path:
    """An H.264 clip of solid colours, `seconds` each: which frame was taken is visible."""
    inputs = "".join(f"color=c={c}:s=160x120:r=5:d={seconds}[v{i}];" for i, c in enumerate(colours))
    chain = "".join(f"[v{i}]" for i in range(len(colours)))
    run(
        [
            "ffmpeg", "-y", "-loglevel", "error", "-filter_complex",
            f"{inputs}{chain}concat=n={len(colours)}:v=1[out]", "-map", "[out]",
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "5",
            "-pix_fmt", "yuv420p", "-f", fmt, str(path),
        ]
    )  # fmt: skip
    return path


def _colour_of(path: Path) -> str:
    bgr = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    b, g, r = (float(v) for v in bgr.reshape(-1, 3).mean(axis=0))
    scores = {"red": r - g - b, "green": g - r - b, "blue": b - r - g}
    return max(scores, key=lambda k: scores[k])


def _index(rt: Runtime, camera_id: int, clip: Path, start: datetime, seconds: float) -> None:
    """Put a clip into the recordings folder as the recorder names it, and index it."""
    rel = f"{camera_id}/{start:%Y-%m-%d}/{start:%H%M%S}_{start.microsecond // 1000:03d}Z.ts"
    dest = rt.settings.recordings_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, dest)
    info = SimpleNamespace(
        camera_id=camera_id,
        start=start,
        end=start + timedelta(seconds=seconds),
        path=rel,
        bytes=dest.stat().st_size,
        keyframes=2,
        recovered=False,
    )
    with transaction(rt.sessions) as s:
        add_segment(s, info)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("colours")
    return {
        "red": _colour_clip(d / "red.ts", ["red"], 10, "mpegts"),
        "blue": _colour_clip(d / "blue.ts", ["blue"], 10, "mpegts"),
        "blue-red": _colour_clip(d / "blue-red.mp4", ["blue", "red"], 60, "mp4"),
    }


def _incidents(rt: Runtime, camera_id: int) -> dict[str, Incident]:
    with rt.sessions() as s:
        rows = s.scalars(select(Incident).where(Incident.camera_id == camera_id))
        return {r.kind: r for r in rows}


def test_evaluate_is_idempotent_and_keeps_state(
    fresh_runtime: Runtime, clips: dict[str, Path]
) -> None:
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        cam = _camera(s)
        cam_id = cam.id
        _observe(s, cam_id, NIGHT, [0, 1, 1, 1, 0, 0])
        _observe(s, cam_id, DAY, [2, 2, 2, 0])  # office hours: fine
        _observe(s, cam_id, DAY + 10 * MIN, [0, 0], tamper={"covered": 0.9})
        for i in range(12):
            s.add(HealthSample(camera_id=cam_id, minute=DAY + 30 * MIN + i * MIN, state="offline"))
    # The moment of the intrusion (peak minute NIGHT+1, middle at +30 s) is recorded in red,
    # the seconds after it in blue; the camera's latest frame (green) is from today, not then.
    _index(rt, cam_id, clips["red"], NIGHT + MIN + timedelta(seconds=25), 10)
    _index(rt, cam_id, clips["blue"], NIGHT + MIN + timedelta(seconds=35), 10)
    write_latest(rt.settings.snapshots_dir, cam_id, np.full((24, 32, 3), (0, 255, 0), np.uint8))
    since, until = DAY - 60 * MIN, NIGHT + 60 * MIN

    def run() -> list[tuple[str, str, datetime, datetime | None]]:
        with transaction(rt.sessions) as s:
            evaluate_camera(s, rt.settings, cam_id, since, until)
        with rt.sessions() as s:
            rows = s.scalars(select(Incident).where(Incident.camera_id == cam_id))
            return sorted((r.id, r.kind, r.start, r.end) for r in rows)

    first = run()
    assert sorted(k for _, k, _, _ in first) == ["camera_offline", "intrusion", "tamper"]
    assert run() == first
    intrusion = next(i for i, k, _, _ in first if k == "intrusion")
    assert _colour_of(rt.settings.data_dir / "incidents" / f"{intrusion}.jpg") == "red"
    rows = _incidents(rt, cam_id)
    assert rows["intrusion"].detail["evidence"]["source"] == "recording"
    assert rows["intrusion"].detail["evidence"]["at"] == "2026-11-25T14:01:30Z"
    # No recording of the tamper or the outage, and the latest frame is of another time:
    # no picture rather than a wrong one, and the incident says why.
    for kind, reason in (("tamper", "no_frame_at_time"), ("camera_offline", "camera_offline")):
        assert rows[kind].snapshot_path is None
        assert rows[kind].detail["evidence"]["reason"] == reason
        assert rows[kind].detail["evidence"]["note"]

    with transaction(rt.sessions) as s:  # resolved by a person, then the visit goes on
        s.get(Incident, intrusion).state = "resolved"
        _observe(s, cam_id, NIGHT + 4 * MIN, [1, 1, 1, 0, 0])
    again = {i: end for i, _, _, end in run()}
    assert set(again) == {i for i, *_ in first}
    with rt.sessions() as s:
        row = s.get(Incident, intrusion)
        assert row.state == "resolved" and row.end == NIGHT + 7 * MIN
        assert row.snapshot_path == f"incidents/{intrusion}.jpg"
        assert row.detail["people_max"] == 1 and row.detail["evidence"]["source"] == "recording"


def test_latest_frame_only_when_it_is_from_the_moment(fresh_runtime: Runtime) -> None:
    """Live: the recording of the last minute may not be indexed yet; the latest frame is."""
    rt = fresh_runtime
    now = utcnow().replace(second=0, microsecond=0)
    with transaction(rt.sessions) as s:
        cam_id = _camera(s).id
    write_latest(rt.settings.snapshots_dir, cam_id, np.full((24, 32, 3), (0, 255, 0), np.uint8))
    recent = IncidentSpec("intrusion", now - 2 * MIN, None, cam_id, now - MIN, {})
    old = IncidentSpec("intrusion", now - 60 * MIN, None, cam_id, now - 59 * MIN, {})
    with transaction(rt.sessions) as s:
        fresh, stale = upsert_incidents(s, [recent, old], evidence_taker(s, rt.settings, cam_id))
        assert fresh.snapshot_path and fresh.detail["evidence"]["source"] == "latest"
        assert stale.snapshot_path is None
        assert stale.detail["evidence"]["reason"] == "no_frame_at_time"
    assert _colour_of(rt.settings.data_dir / fresh.snapshot_path) == "green"


def test_missing_evidence_is_taken_once_the_recording_is_indexed(
    fresh_runtime: Runtime, clips: dict[str, Path]
) -> None:
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        cam_id = _camera(s).id
        _observe(s, cam_id, NIGHT, [1, 1, 1, 0, 0])

    def evaluate() -> Incident:
        with transaction(rt.sessions) as s:
            evaluate_camera(s, rt.settings, cam_id, NIGHT - 10 * MIN, NIGHT + 10 * MIN)
        return _incidents(rt, cam_id)["intrusion"]

    assert evaluate().snapshot_path is None
    _index(rt, cam_id, clips["red"], NIGHT + timedelta(seconds=20), 10)
    row = evaluate()
    assert row.snapshot_path and row.detail["evidence"]["source"] == "recording"
    assert _colour_of(rt.settings.data_dir / row.snapshot_path) == "red"


def test_evaluate_range_takes_evidence_from_the_analysed_file(
    fresh_runtime: Runtime, clips: dict[str, Path]
) -> None:
    """A carried disk: the hub has no recording, the analysed file has the moment."""
    rt = fresh_runtime
    start = NIGHT + 10 * MIN
    with transaction(rt.sessions) as s:
        cam_id = _camera(s).id
        _observe(s, cam_id, start, [0, 2, 1, 0, 0])  # peak: the second minute (red part)
        footage = [Footage(clips["blue-red"], start, None)]
        since, until = footage_span(footage)
        assert (since, until) == (start, start + 2 * MIN)
        rows = evaluate_range(s, rt.settings, cam_id, since, until, footage)
    assert [(r.kind, r.start, r.end) for r in rows] == [("intrusion", start + MIN, start + 3 * MIN)]
    assert rows[0].detail["evidence"]["source"] == "footage"
    assert _colour_of(rt.settings.data_dir / rows[0].snapshot_path) == "red"


def test_open_incident_closes_and_a_shorter_window_changes_nothing(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        cam_id = _camera(s).id
        _observe(s, cam_id, NIGHT, [1, 1, 1])

    def evaluate(since: datetime, until: datetime) -> Incident:
        with transaction(rt.sessions) as s:
            evaluate_camera(s, rt.settings, cam_id, since, until)
        return _incidents(rt, cam_id)["intrusion"]

    assert evaluate(NIGHT, NIGHT + 30 * MIN).end is None  # still there at the last minute
    with transaction(rt.sessions) as s:
        _observe(s, cam_id, NIGHT + 3 * MIN, [1, 0, 0, 0])
    assert evaluate(NIGHT, NIGHT + 30 * MIN).end == NIGHT + 4 * MIN  # gone: closed
    short = evaluate(NIGHT, NIGHT + 2 * MIN)  # knows less: changes nothing
    assert (short.end, short.detail["minutes"]) == (NIGHT + 4 * MIN, 4)
    with transaction(rt.sessions) as s:  # came back after a two-minute absence: a new visit
        _observe(s, cam_id, NIGHT + 7 * MIN, [1, 1])
    assert len(_all(rt, cam_id)) == 1
    evaluate(NIGHT, NIGHT + 30 * MIN)
    assert len(_all(rt, cam_id)) == 2


def _all(rt: Runtime, camera_id: int) -> list[Incident]:
    with rt.sessions() as s:
        return list(s.scalars(select(Incident).where(Incident.camera_id == camera_id)))


def test_sliding_windows_keep_one_incident(fresh_runtime: Runtime) -> None:
    """The hub re-reads the last hours each pass: a long outage or a visit that began just
    before the window keeps its start (and id) instead of starting again at the window."""
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        cam_id = _camera(s).id
        for i in range(46):
            state = "offline" if i < 40 else "online"
            s.add(HealthSample(camera_id=cam_id, minute=NIGHT + i * MIN, state=state))
    for since in (NIGHT - 5 * MIN, NIGHT + 30 * MIN, NIGHT + 60 * MIN):
        if since == NIGHT + 60 * MIN:  # arrives late: only the last window sees this visit
            with transaction(rt.sessions) as s:
                _observe(s, cam_id, NIGHT + 59 * MIN, [1, 1, 1, 0, 0])
        with transaction(rt.sessions) as s:
            evaluate_camera(s, rt.settings, cam_id, since, since + 6 * 60 * MIN)
    rows = {r.kind: r for r in _all(rt, cam_id)}
    assert len(_all(rt, cam_id)) == 2
    assert (rows["camera_offline"].start, rows["camera_offline"].end) == (NIGHT, NIGHT + 40 * MIN)
    assert rows["camera_offline"].detail["minutes"] == 40
    assert rows["intrusion"].start == NIGHT + 59 * MIN  # one minute before the last window


def test_site_windows_allow_the_guard_round(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        cam = _camera(s)
        cam_id = cam.id
        cam.site.allowed_windows = [
            {"days": None, "from": "21.45", "to": "22.15", "note": "ronda satpam"}
        ]
        _observe(s, cam_id, NIGHT, [1, 1, 1, 0, 0])  # 22.00 WITA: the round
        _observe(s, cam_id, NIGHT + 60 * MIN, [1, 1, 1, 0, 0])  # 23.00 WITA: nobody expected
    with transaction(rt.sessions) as s:
        rows = evaluate_camera(s, rt.settings, cam_id, NIGHT - 60 * MIN, NIGHT + 2 * 60 * MIN)
    assert [(r.kind, r.start) for r in rows] == [("intrusion", NIGHT + 60 * MIN)]


# --- allowed windows --------------------------------------------------------------------------


def _local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def test_window_times_days_and_midnight() -> None:
    guard = AllowedWindow.model_validate({"from": "21.45", "to": "22:15", "note": "ronda"})
    assert guard.days is None and guard.as_json()["from"] == "21.45"
    assert guard.covers(_local("2026-11-25 21:45")) and not guard.covers(_local("2026-11-25 22:15"))
    night = AllowedWindow.model_validate({"days": ["Fri"], "from": "23.00", "to": "01.00"})
    assert night.covers(_local("2026-11-27 23:30"))  # Friday
    assert night.covers(_local("2026-11-28 00:30"))  # Saturday morning: Friday's window
    assert not night.covers(_local("2026-11-29 00:30"))  # Sunday morning: Saturday's, none
    assert not night.covers(_local("2026-11-26 23:30"))  # Thursday
    allowed = allowed_predicate([guard], "Asia/Makassar")
    assert allowed(NIGHT) and not allowed(NIGHT + 20 * MIN)  # 22.00 / 22.20 WITA


@pytest.mark.parametrize(
    ("window", "field", "words"),
    [
        ({"from": "25.00", "to": "01.00"}, "windows[0].from", "time"),
        ({"from": "21.45", "to": "21.45"}, "windows[0].to", "empty"),
        ({"days": ["senin"], "from": "21.45", "to": "22.15"}, "windows[0].days", "unknown day"),
        ({"days": [], "from": "21.45", "to": "22.15"}, "windows[0].days", "at least one"),
        ({"from": "21.45"}, "windows[0].to", "required"),
        ({"from": "21.45", "to": "22.15", "until": "x"}, "windows[0].until", "not permitted"),
    ],
)
def test_bad_windows_name_the_field(window: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_windows([window])
    errors = {format_loc(e["loc"]): e["msg"] for e in caught.value.errors()}
    assert field in errors, errors
    assert words in errors[field].lower(), errors


# --- the evaluator in the hub -----------------------------------------------------------------


def test_evaluator_carries_on_past_a_failing_camera(
    fresh_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        bad, good = _camera(s), _camera(s)
        off = Camera(site=bad.site, name=f"off-{uuid.uuid4().hex[:6]}", purpose="keamanan")
        off.main_stream, off.enabled = "", False
        s.add(off)
        s.flush()
        ids, bad_name = (bad.id, good.id, off.id), bad.name
        for cam_id in ids:
            _observe(s, cam_id, NIGHT, [1, 1, 1, 0, 0])
    real = evaluator_module.evaluate_camera

    def flaky(session: Any, settings: Any, camera_id: int, *a: Any, **kw: Any) -> Any:
        if camera_id == ids[0]:
            raise RuntimeError("broken row")
        return real(session, settings, camera_id, *a, **kw)

    monkeypatch.setattr(evaluator_module, "evaluate_camera", flaky)
    evaluator = IncidentEvaluator(rt, clock=lambda: NIGHT + 30 * MIN)
    with caplog.at_level(logging.ERROR, logger="pantau.incidents.evaluator"):
        report = evaluator.run_once()
    assert report.cameras == 2  # the disabled camera is not evaluated
    assert set(report.failed) == {ids[0]} and "broken row" in report.failed[ids[0]]
    assert f"camera {bad_name} ({ids[0]})" in caplog.text
    assert report.new == 1 and [r.kind for r in _all(rt, ids[1])] == ["intrusion"]
    assert _all(rt, ids[2]) == []
    again = evaluator.run_once()
    assert (again.new, again.updated) == (0, 1)  # the next pass finds it known


def test_evaluator_loop_runs_until_stopped(
    fresh_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = fresh_runtime
    now = utcnow().replace(second=0, microsecond=0)
    with transaction(rt.sessions) as s:
        cam_id = _camera(s).id
        for i in range(12):
            s.add(HealthSample(camera_id=cam_id, minute=now - (20 - i) * MIN, state="offline"))
    stop = threading.Event()
    passes: list[Any] = []
    evaluator = IncidentEvaluator(rt)
    real = evaluator.run_once

    def counted(*a: Any, **kw: Any) -> Any:
        passes.append(real(*a, **kw))
        if len(passes) == 2:
            stop.set()
        return passes[-1]

    monkeypatch.setattr(evaluator, "run_once", counted)
    monkeypatch.setattr(evaluator, "interval", 0.0)
    thread = threading.Thread(target=evaluator.run, args=(stop, 0.0))
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive() and len(passes) == 2
    assert [r.kind for r in _all(rt, cam_id)] == ["camera_offline"]
    assert passes[0].new == 1 and passes[1].new == 0


# --- API workflow -----------------------------------------------------------------------------


def _incident(rt: Runtime, kelurahan: str) -> str:
    with transaction(rt.sessions) as s:
        cam = _camera(s, kelurahan)
        start = NIGHT + timedelta(days=uuid.uuid4().int % 1000)
        spec = IncidentSpec("intrusion", start, None, cam.id, start, {"people_max": 1})
        return upsert_incidents(s, [spec])[0].id


def _denied(rt: Runtime, incident: str, actor: str) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_id == incident,
                    AuditEntry.actor == actor,
                    AuditEntry.outcome == "denied",
                )
            )
        )


def test_acknowledge_and_resolve(
    client: TestClient, shared_runtime: Runtime, auth: Callable[[str], dict[str, str]]
) -> None:
    inc = _incident(shared_runtime, "74.71.01.1005")  # Kelurahan Mandonga
    url = f"/api/incidents/{inc}"
    op = auth("operator")
    client.cookies.clear()
    r = client.post(f"{url}/acknowledge", json={"note": "ok"}, headers=op)
    assert r.status_code == 422, r.text
    r = client.post(f"{url}/acknowledge", json={"note": "penjaga dicek via HT"}, headers=op)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "operator"
    assert body["acknowledged_at"] and body["note"] == "penjaga dicek via HT"
    r = client.post(f"{url}/assign", json={"assignee": "Satpol PP"}, headers=op)
    assert r.status_code == 200 and r.json()["assignee"] == "Satpol PP"
    r = client.post(f"{url}/resolve", json={"note": "petugas kebersihan"}, headers=auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "resolved" and r.json()["resolved_by"] == "admin"
    r = client.post(f"{url}/resolve", json={}, headers=op)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    with shared_runtime.sessions() as s:
        actions = {
            a.action
            for a in s.scalars(select(AuditEntry).where(AuditEntry.object_id == inc))
            if a.outcome == "ok"
        }
    assert actions == {"incident.acknowledge", "incident.assign", "incident.resolve"}

    listed = client.get("/api/incidents?state=resolved&kind=intrusion", headers=op).json()
    assert inc in {i["id"] for i in listed}
    camat = client.get(url, headers=auth("camat"))  # Mandonga is the camat's kecamatan
    assert camat.status_code == 200


def test_outside_scope_and_read_only_roles_are_refused(
    client: TestClient, shared_runtime: Runtime, auth: Callable[[str], dict[str, str]]
) -> None:
    inc = _incident(shared_runtime, "74.71.01.1005")  # not the lurah's Korumba
    url = f"/api/incidents/{inc}"
    client.cookies.clear()
    assert client.get(url, headers=auth("lurah")).status_code == 403
    assert inc not in {i["id"] for i in client.get("/api/incidents", headers=auth("lurah")).json()}
    r = client.post(f"{url}/acknowledge", json={"note": "saya lihat"}, headers=auth("lurah"))
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.post(f"{url}/acknowledge", json={"note": "saya lihat"}, headers=auth("camat"))
    assert r.status_code == 403
    assert len(_denied(shared_runtime, inc, "lurah")) == 2
    assert len(_denied(shared_runtime, inc, "camat")) == 1
    assert client.get(url, headers=auth("admin")).json()["state"] == "new"


def test_the_running_hub_evaluates_cameras(fresh_runtime: Runtime) -> None:
    """`pantau serve`'s worker processes: shard 0 raises incidents without anyone asking."""
    rt = fresh_runtime
    settings = rt.settings.model_copy(
        update={
            "analytics": rt.settings.analytics.model_copy(
                update={"enabled": False, "incident_interval_seconds": 10}
            ),
            "recording": rt.settings.recording.model_copy(update={"enabled": False}),
        }
    )
    now = utcnow().replace(second=0, microsecond=0)
    with transaction(rt.sessions) as s:
        cam = _camera(s)
        cam.main_stream = "rtsp://127.0.0.1:9/none"  # refused at once: the camera is offline
        cam_id = cam.id
        _observe(s, cam_id, now - 20 * MIN, [0, 0, 0, 0], tamper={"covered": 0.9})
        _observe(s, cam_id, now - 16 * MIN, [0])
    manager = ShardManager(settings, processes=1).start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _all(rt, cam_id):
            time.sleep(1)
    finally:
        manager.stop()
    [row] = _all(rt, cam_id)
    assert (row.kind, row.start, row.end) == ("tamper", now - 20 * MIN, now - 16 * MIN)
    assert row.detail["evidence"]["reason"] == "no_frame_at_time"
