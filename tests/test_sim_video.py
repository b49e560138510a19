"""The simulator's two ways out: live over the real RTSP server, and recorded days on disk."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import av
import numpy as np

from pantau.media.reader import StreamReader
from pantau.sim.groundtruth import read
from pantau.sim.live import LiveCameraSpec, LiveSim, SimClock, free_udp_port
from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim, ScheduledEvent
from pantau.sim.record import record

WITA = ZoneInfo("Asia/Makassar")


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_seven_recorded_days_have_frame_times_matching_the_ground_truth(tmp_path):
    events = [
        ScheduledEvent(kind="camera_offline", at="2026-11-25 10.00", minutes=60, view="interior")
    ]
    [office] = select_offices(
        SimConfig(
            offices=[
                OfficeSim(site="kel-kambu", profile="punctual", random_events=False, events=events)
            ]
        )
    )
    scene = make_scene(office.seed, "interior", 320, 180)
    interval = 120.0
    files = record(
        office.world, {"interior": scene}, tmp_path, date(2026, 11, 23), 7, interval_s=interval
    )
    assert [f.day for f in files] == [f"2026-11-{d}" for d in range(23, 30)]
    truth = read(tmp_path / "kel-kambu" / "groundtruth.jsonl")
    assert sum(1 for e in truth if e["type"] == "day") == 7
    outage = next(e for e in truth if e["type"] == "outage_start")
    outage_end = next(e for e in truth if e["type"] == "outage_end")

    for rec in files:
        path = tmp_path / "kel-kambu" / "interior" / rec.path
        side = json.loads(path.with_suffix(".json").read_text())
        start = parse(side["start_utc"])
        midnight = datetime.combine(date.fromisoformat(rec.day), datetime.min.time(), WITA)
        with av.open(str(path)) as container:
            assert container.metadata.get("pantau_start_utc") == side["start_utc"]
            stream = container.streams.video[0]
            times = [
                start + timedelta(seconds=float(f.pts * f.time_base))
                for f in container.decode(stream)
            ]
        assert len(times) == side["frames"] == rec.frames
        offsets = [(t - midnight).total_seconds() / interval for t in times]
        assert all(abs(o - round(o)) < 0.01 for o in offsets), "frames off the simulated grid"
        gap = [t for t in times if parse(outage["utc"]) <= t < parse(outage_end["utc"])]
        assert not gap, "frames recorded while the camera was offline"
        if rec.day == "2026-11-25":
            assert len(times) == 720 - 30 and side["gaps"]
        else:
            assert len(times) == 720 and not side["gaps"]

    # Pantau's own reader recovers the same capture times from the file and its start time.
    first = files[0]
    with StreamReader(
        str(tmp_path / "kel-kambu" / "interior" / first.path),
        live=False,
        start_time=parse(first.start_utc),
    ) as reader:
        got = [p.at for p in reader.packets()]
    assert got[0] == parse(first.start_utc)
    assert got[-1] == parse(first.start_utc) + timedelta(seconds=interval * (first.frames - 1))


def test_a_simulated_day_plays_through_the_real_rtsp_server(tmp_path):
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-mandonga", profile="punctual", random_events=False)])
    )
    midnight = datetime(2026, 11, 23, 0, 0, tzinfo=WITA).astimezone(UTC)
    cam = LiveCameraSpec(
        office.world,
        "interior",
        make_scene(office.seed, "interior", 320, 180),
        "kel-mandonga/interior",
        free_udp_port(),
    )
    clock = SimClock(midnight, speed=3600.0)  # one simulated hour per second
    with LiveSim([cam], fps=5, clock=clock, truth_dir=tmp_path) as live:
        url = live.url("kel-mandonga/interior")
        hours: dict[int, list[float]] = {}
        reader = StreamReader(url, open_timeout=10, stall_timeout=5, analytics_width=320)
        deadline = time.monotonic() + 30
        with reader:
            for info in reader.packets():
                frame = reader.sample(info)
                if frame is not None:
                    hour = clock.now().astimezone(WITA).hour
                    bgr = frame.bgr.astype(np.int16)
                    colour = np.abs(bgr[..., 0] - bgr[..., 1]) + np.abs(bgr[..., 1] - bgr[..., 2])
                    hours.setdefault(hour, []).append(float(colour.mean()))
                if clock.now() >= midnight + timedelta(hours=22) or time.monotonic() > deadline:
                    break
    assert (1 in hours or 2 in hours or 3 in hours) and 12 in hours
    night = np.mean(hours.get(2) or hours.get(1) or hours[3])
    noon = np.mean(hours[12])
    # At night the camera is in grey IR mode; at noon the office is in colour.
    assert noon > 3 * night + 2, f"noon colour {noon:.1f} vs night {night:.1f}"
    truth = read(tmp_path / "kel-mandonga.jsonl")
    assert truth[0]["type"] == "day" and truth[0]["date"] == "2026-11-23"


def test_unwritable_output_and_busy_port_are_refused_cleanly(tmp_path):
    import pytest

    from pantau.sim.record import RecordError
    from pantau.sim.rtsp import RtspServer, RtspServerError

    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-kambu", profile="punctual", random_events=False)])
    )
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(RecordError, match="not writable"):
        record(
            office.world,
            {"interior": make_scene(office.seed, "interior", 320, 180)},
            blocker / "out",
            date(2026, 11, 23),
            1,
            interval_s=600,
        )
    assert not (blocker.parent / "out").exists()
    busy = RtspServer({"a": "udp:9"}).start()
    try:
        with pytest.raises(RtspServerError, match="port already in use"):
            RtspServer({"a": "udp:9"}, port=busy.port, start_timeout=1).start()
    finally:
        busy.stop()


def test_recording_part_of_each_day_keeps_the_local_hours(tmp_path):
    """`hours` cuts each local day (e.g. 05.30-18.30 for opening-hours benchmarks)."""
    import pytest

    from pantau.sim.record import RecordError

    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-kambu", profile="late", random_events=False)])
    )
    scene = make_scene(office.seed, "interior", 320, 180)
    [rec] = record(
        office.world, {"interior": scene}, tmp_path, date(2026, 11, 24), 1,
        interval_s=600, hours=(5.5, 18.5),
    )  # fmt: skip
    wita = ZoneInfo("Asia/Makassar")
    start = datetime.fromisoformat(rec.start_utc.replace("Z", "+00:00")).astimezone(wita)
    end = datetime.fromisoformat(rec.end_utc.replace("Z", "+00:00")).astimezone(wita)
    assert (start.hour, start.minute) == (5, 30)
    assert (end.hour, end.minute) == (18, 30)
    assert rec.frames == 13 * 6
    with pytest.raises(RecordError, match="0-24"):
        record(office.world, {"interior": scene}, tmp_path, date(2026, 11, 24), 1, hours=(9, 7))
