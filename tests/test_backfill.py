"""`pantau analyze`: recorded footage into the same observations a live camera gives."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pantau.cli import app
from pantau.config.model import Settings
from pantau.runtime import open_runtime
from pantau.sim.groundtruth import read
from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.sim.record import record
from pantau.store.db import transaction
from pantau.store.models import Camera, Observation, Site


@pytest.fixture(scope="module")
def recorded_day(tmp_path_factory):
    out = tmp_path_factory.mktemp("simrec")
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-mandonga", profile="punctual", random_events=False)])
    )
    scene = make_scene(office.seed, "interior", 640, 360)
    record(office.world, {"interior": scene}, out, date(2026, 11, 23), 1, interval_s=240)
    return out


def test_analyze_writes_observations_idempotently_and_matches_the_day(
    recorded_day, make_settings, backend, tmp_path
):
    settings: Settings = make_settings(backend)
    cfg = tmp_path / "pantau.yaml"
    cfg.write_text(f"data_dir: {settings.data_dir}\ndatabase:\n  url: {settings.database_url}\n")
    rt = open_runtime(settings)
    with transaction(rt.sessions) as session:
        site = session.scalar(select(Site).where(Site.slug == "kel-mandonga"))
        cam = Camera(
            site=site, name="Ruang pelayanan", purpose="pelayanan", main_stream="rtsp://10.0.0.1/x"
        )
        session.add(cam)
        session.flush()
        camera_id = cam.id
    folder = recorded_day / "kel-mandonga" / "interior"
    runner = CliRunner()
    first = runner.invoke(
        app, ["--config", str(cfg), "analyze", str(folder), "--camera", str(camera_id)]
    )
    assert first.exit_code == 0, first.output
    with rt.sessions() as session:
        rows = list(
            session.scalars(
                select(Observation)
                .where(Observation.camera_id == camera_id)
                .order_by(Observation.minute)
            )
        )
    assert len(rows) == 360  # one frame every 4 minutes: one row per minute with a frame
    assert all(r.source == "backfill" for r in rows)
    truth = read(recorded_day / "kel-mandonga" / "groundtruth.jsonl")
    day = truth[0]
    opened = next(e for e in truth if e["type"] == "office_open")["utc"]
    closed = next(e for e in truth if e["type"] == "office_close")["utc"]
    staffed = [r for r in rows if opened < r.minute.isoformat() < closed]
    night = [r for r in rows if r.minute.hour in (18, 19)]  # 02.00-03.59 WITA
    assert day["working"] is True
    assert sum(r.people_max > 0 for r in staffed) >= 0.8 * len(staffed)
    assert all(r.people_max == 0 for r in night)
    assert all(r.lights_on for r in staffed[5:-5])

    # Running it again changes nothing: the resume log says the file is done, and writing
    # the same minutes again (a re-analysis, a retried upload) replaces rows, never adds.
    again = runner.invoke(
        app, ["--config", str(cfg), "analyze", str(folder), "--camera", str(camera_id)]
    )
    assert again.exit_code == 0, again.output
    assert "0 minute observations" in again.output
    from pantau.pipeline.sinks import DbSink

    cols = [c.key for c in Observation.__table__.columns if c.key != "updated_at"]
    DbSink(rt, "test").observations(camera_id, [{k: getattr(r, k) for k in cols} for r in rows])
    with rt.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(Observation).where(Observation.camera_id == camera_id)
        )
    assert count == 360
    rt.close()


def test_analyze_refuses_mixed_cameras_and_files_without_time(tmp_path, recorded_day):
    runner = CliRunner()
    mixed = tmp_path / "mixed"
    shutil.copytree(recorded_day / "kel-mandonga", mixed / "a")
    for f in (mixed / "a" / "interior").glob("*.json"):
        f.write_text(
            f.read_text().replace('"interior"', '"entrance"').replace("2026-11-23", "2026-11-23")
        )
    shutil.copytree(recorded_day / "kel-mandonga" / "interior", mixed / "b")
    out = runner.invoke(app, ["analyze", str(mixed), "--camera", "1"])
    assert out.exit_code != 0 and "several cameras" in out.output
    bare = tmp_path / "bare.mp4"
    shutil.copy(next((recorded_day / "kel-mandonga" / "interior").glob("*.mp4")), bare)
    out = runner.invoke(app, ["analyze", str(bare), "--camera", "1"])
    assert out.exit_code != 0 and "no time information" in out.output and "--start" in out.output


def _segments(folder, start, seconds: int = 150, every: int = 7):
    """Recorder-like MPEG-TS segments named <camera>/<date>/<HHMMSS>_<ms>Z.ts."""
    import subprocess
    from datetime import timedelta

    tmp = folder / "split"
    tmp.mkdir(parents=True)
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi",
         "-i", "testsrc2=size=640x360:rate=5", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "ultrafast", "-g", "5", "-bf", "0", "-pix_fmt", "yuv420p",
         "-f", "segment", "-segment_time", str(every), "-reset_timestamps", "1",
         str(tmp / "%03d.ts")],
        check=True,
    )  # fmt: skip
    out = folder / "7" / start.strftime("%Y-%m-%d")
    out.mkdir(parents=True)
    for k, part in enumerate(sorted(tmp.glob("*.ts"))):
        at = start + timedelta(seconds=k * every)
        part.rename(out / f"{at:%H%M%S}_000Z.ts")
    return folder / "7"


@pytest.mark.parametrize("jobs", [1, 2])
def test_minutes_spanning_segment_files_are_whole(tmp_path, jobs):
    """A minute spread over several recorder segments is one row with all their samples,
    whether one worker reads them all or two split the files between them (the second group
    starts at 00:01:26, so five of its files lie before the minute where the groups meet)."""
    from datetime import UTC, datetime, timedelta

    from pantau.pipeline.backfill import ResumeLog, discover, plan
    from pantau.pipeline.backfill_pool import backfill
    from pantau.pipeline.camera import CameraSpec

    start = datetime(2026, 11, 23, 0, 0, 30, tzinfo=UTC)  # 08.00.30 WITA: minutes straddle files
    folder = _segments(tmp_path, start)
    groups = plan(discover(folder, None), jobs)
    assert len(groups) == jobs
    rows: list[dict] = []
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data")})
    backfill(
        groups, CameraSpec(id=7, name="c", url=""), settings, rows.extend,
        ResumeLog(tmp_path / "resume"), sample_fps=0.2,
    )  # fmt: skip
    by_minute: dict = {}
    for r in rows:
        assert r["minute"] not in by_minute, f"minute {r['minute']} written twice"
        by_minute[r["minute"]] = r
    whole = [start + timedelta(seconds=30 + 60 * k) for k in range(2)]  # 00:01, 00:02
    for m in whole:
        assert by_minute[m]["samples"] == 12, (m, by_minute[m]["samples"])
        assert by_minute[m]["coverage_seconds"] == 60
