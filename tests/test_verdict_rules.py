"""The daily verdict on hand-built observation days: every status, and the ways data goes wrong.

`ObsDay` builds one site's day minute by minute (by default: one camera, seen all day, nobody
there, lights off); each test adds people, lights, outages or tamper in local WITA times.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pantau.registry.calendar import CalendarRule, default_city_rules, schedule_for_day
from pantau.verdicts import STATUSES, Verdict, VerdictConfig, decide_day

TZ = ZoneInfo("Asia/Makassar")
RULES = default_city_rules()
MON = date(2026, 11, 23)
THU = date(2026, 11, 26)
FRI = date(2026, 11, 27)
CHRISTMAS = date(2026, 12, 25)  # a Friday and a national holiday
RAMADAN_MON = date(2026, 3, 2)


def hm(text: str) -> int:
    """Minute of the day of a local "07.30"."""
    h, m = text.split(".")
    return int(h) * 60 + int(m)


def local(day: date, text: str) -> datetime:
    return (datetime.combine(day, time(0), tzinfo=TZ) + timedelta(minutes=hm(text))).astimezone(UTC)


class ObsDay:
    """One site's observation rows for a local day, edited with local times [start, end)."""

    def __init__(
        self,
        day: date = MON,
        cameras: tuple[int, ...] = (1,),
        zones: dict[int, list[str]] | None = None,
    ) -> None:
        self.day = day
        self.zones = zones or {}
        self.rows: dict[tuple[int, int], dict[str, Any]] = {}
        for cam in cameras:
            for m in range(24 * 60):
                self.rows[(cam, m)] = {
                    "camera_id": cam,
                    "minute": local(day, "00.00") + timedelta(minutes=m),
                    "people_max": 0,
                    "people_mean": 0.0,
                    "zones": {z: {"max": 0, "mean": 0.0} for z in self.zones.get(cam, [])},
                    "lights_on": False,
                    "coverage_seconds": 60.0,
                    "tamper": {},
                }

    def _each(self, start: str, end: str, cameras: tuple[int, ...] | None):
        for (cam, m), row in self.rows.items():
            if hm(start) <= m < hm(end) and (cameras is None or cam in cameras):
                yield row

    def people(
        self,
        start: str,
        end: str,
        n: int = 2,
        *,
        cameras: tuple[int, ...] | None = None,
        lights: bool | None = True,
        zone: str | None = "area layanan",
    ) -> ObsDay:
        for row in self._each(start, end, cameras):
            row["people_max"] = n
            if zone in row["zones"]:
                row["zones"][zone] = {"max": n, "mean": float(n)}
            row["lights_on"] = lights
        return self

    def lights(self, start: str, end: str, on: bool | None) -> ObsDay:
        for row in self._each(start, end, None):
            row["lights_on"] = on
        return self

    def motion(self, start: str, end: str, pct: float = 0.02) -> ObsDay:
        for row in self._each(start, end, None):
            row["motion_pct"] = pct
        return self

    def down(self, start: str, end: str, cameras: tuple[int, ...] | None = None) -> ObsDay:
        """No rows at all: camera or link down."""
        gone = [
            k
            for k in self.rows
            if hm(start) <= k[1] < hm(end) and (cameras is None or k[0] in cameras)
        ]
        for k in gone:
            del self.rows[k]
        return self

    def tamper(self, start: str, end: str, kind: str = "covered") -> ObsDay:
        for row in self._each(start, end, None):
            row["tamper"] = {kind: 0.9}
            row["people_max"] = 0
        return self

    def coverage(self, start: str, end: str, seconds: float) -> ObsDay:
        for row in self._each(start, end, None):
            row["coverage_seconds"] = seconds
        return self

    def list(self) -> list[dict[str, Any]]:
        return [dict(r, zones=dict(r["zones"])) for _, r in sorted(self.rows.items())]


def verdict(
    obs: ObsDay | list[dict[str, Any]],
    day: date | None = None,
    config: VerdictConfig | None = None,
    rules: list[CalendarRule] | None = None,
) -> Verdict:
    rows = obs.list() if isinstance(obs, ObsDay) else obs
    d = day or (obs.day if isinstance(obs, ObsDay) else MON)
    return decide_day(rows, schedule_for_day(rules or RULES, d), config, tz=TZ, tz_label="WITA")


def at(v_time: datetime | None) -> str | None:
    """A verdict time as local "07.30" (None stays None)."""
    return None if v_time is None else v_time.astimezone(TZ).strftime("%H.%M")


# ---- the statuses --------------------------------------------------------------------------


def test_punctual_day() -> None:
    v = verdict(ObsDay().people("07.24", "16.05"))
    assert v.status == "tepat_waktu"
    assert (at(v.opened_at), at(v.closed_at)) == ("07.24", "16.05")
    assert v.opening_status == v.closing_status == "tepat_waktu"
    assert v.late_minutes is None and v.early_minutes is None
    assert v.staffed_minutes == hm("16.00") - hm("07.30")
    assert at(v.scheduled_open) == "07.30" and at(v.scheduled_close) == "16.00"
    assert v.schedule_rule == "weekly"
    assert v.reason == "Buka 07.24 WITA, tepat waktu (jadwal 07.30 WITA); tutup 16.05 WITA"
    assert v.first_presence is not None and v.first_presence.camera_id == 1
    assert at(v.first_presence.minute) == "07.24"
    assert v.last_presence is not None and at(v.last_presence.minute) == "16.04"


def test_late_42_minutes() -> None:
    v = verdict(ObsDay().people("08.12", "16.10"))
    assert v.status == "terlambat"
    assert v.late_minutes == 42
    assert at(v.opened_at) == "08.12"
    assert v.reason.startswith("Buka 08.12 WITA, terlambat 42 menit dari jadwal 07.30 WITA")
    assert v.opening_coverage is not None
    assert (at(v.opening_coverage.start), at(v.opening_coverage.end)) == ("07.00", "08.12")
    assert v.opening_coverage.minutes == 72 and v.opening_coverage.fraction == 1.0


def test_grace_period_edges() -> None:
    assert verdict(ObsDay().people("07.35", "16.05")).status == "tepat_waktu"
    late = verdict(ObsDay().people("07.36", "16.05"))
    assert (late.status, late.late_minutes) == ("terlambat", 6)
    strict = verdict(ObsDay().people("07.35", "16.05"), config=VerdictConfig(grace=0))
    assert (strict.status, strict.late_minutes) == ("terlambat", 5)


def test_opened_after_ten_is_heavy_late() -> None:
    v = verdict(ObsDay().people("10.20", "16.05"))
    assert v.status == "terlambat_berat"
    assert v.late_minutes == 170
    assert "terlambat berat 170 menit" in v.reason and "10.00 WITA" in v.reason
    nine = verdict(ObsDay().people("09.30", "16.05"))
    assert nine.status == "terlambat"
    earlier = verdict(
        ObsDay().people("09.30", "16.05"), config=VerdictConfig(heavy_late_after="09.00")
    )
    assert earlier.status == "terlambat_berat"


def test_never_opened() -> None:
    v = verdict(ObsDay())
    assert v.status == "tidak_buka"
    assert v.opened_at is None and v.closed_at is None and v.closing_status is None
    assert v.staffed_minutes == 0
    assert v.reason.startswith("Tidak buka")
    assert v.opening_coverage is not None and v.opening_coverage.fraction == 1.0


def test_never_opened_with_a_short_outage_is_still_not_open() -> None:
    # 30 unseen minutes could not hide a 45-minute presence, and 94 % of the hours were seen.
    v = verdict(ObsDay().down("12.00", "12.30"))
    assert v.status == "tidak_buka"


def test_closed_early() -> None:
    v = verdict(ObsDay().people("07.25", "14.30"))
    assert v.status == "pulang_cepat"
    assert v.opening_status == "tepat_waktu" and v.closing_status == "pulang_cepat"
    assert v.early_minutes == 90
    assert at(v.closed_at) == "14.30"
    assert "pulang cepat: tutup 14.30 WITA, 90 menit sebelum jadwal 16.00 WITA" in v.reason


def test_late_and_closed_early_keeps_late_as_status() -> None:
    v = verdict(ObsDay().people("08.12", "14.00"))
    assert v.status == "terlambat"
    assert v.closing_status == "pulang_cepat" and v.early_minutes == 120
    assert "terlambat 42 menit" in v.reason and "pulang cepat" in v.reason


def test_holiday_with_people_is_libur_with_evidence() -> None:
    assert schedule_for_day(RULES, CHRISTMAS).rule == "holiday"
    v = verdict(ObsDay(CHRISTMAS).people("09.00", "11.00"))
    assert v.status == "libur"
    assert not v.working
    assert (at(v.opened_at), at(v.closed_at)) == ("09.00", "11.00")
    assert v.opening_status is None and v.late_minutes is None
    assert v.reason.startswith("Libur: Libur nasional:")
    assert "09.00–11.00 WITA" in v.reason
    empty = verdict(ObsDay(CHRISTMAS))
    assert empty.status == "libur" and empty.opened_at is None


def test_weekend_is_libur() -> None:
    v = verdict(ObsDay(date(2026, 11, 28)).people("08.00", "12.00"))
    assert v.status == "libur" and v.schedule_rule == "no_hours"
    assert at(v.opened_at) == "08.00"


# ---- who is not staff --------------------------------------------------------------------------


@pytest.mark.parametrize("cleaner_lights", [True, False])
def test_cleaner_before_punctual_staff(cleaner_lights: bool) -> None:
    obs = ObsDay().people("06.30", "06.50", n=1, lights=cleaner_lights).people("07.20", "16.05")
    v = verdict(obs)
    assert at(v.opened_at) == "07.20"
    assert v.status == "tepat_waktu"


def test_cleaner_alone_is_not_opening() -> None:
    v = verdict(ObsDay().people("06.25", "07.00", n=1))
    assert v.status == "tidak_buka" and v.opened_at is None
    # Even a cleaner staying 50 minutes with the lights on (long enough to be a session)
    # leaves before the office should open.
    long = verdict(ObsDay().people("06.10", "07.00", n=1))
    assert long.status == "tidak_buka" and long.opened_at is None


def test_guard_at_night_is_not_closing() -> None:
    obs = (
        ObsDay()
        .people("07.25", "16.02")
        .people("21.55", "22.10", n=1)
        .lights("21.55", "22.10", None)
    )
    assert at(verdict(obs).closed_at) == "16.02"
    # A guard sitting in the lit service room 20.00-23.00 is a presence outside the hours.
    sitting = ObsDay().people("07.25", "16.02").people("20.00", "23.00", n=1)
    v = verdict(sitting)
    assert at(v.closed_at) == "16.02" and v.status == "tepat_waktu"


def test_a_short_visit_is_not_opening() -> None:
    # Someone drops by for 20 minutes at 08.00 and leaves; the staff come at 09.10.
    v = verdict(ObsDay().people("08.00", "08.20", n=1).people("09.10", "16.05"))
    assert at(v.opened_at) == "09.10" and v.late_minutes == 100


def test_people_in_the_dark_are_not_staff_unless_light_is_unknown() -> None:
    dark = ObsDay().people("07.25", "16.05", lights=False)
    assert verdict(dark).status == "tidak_buka"
    assert verdict(dark, config=VerdictConfig(require_lights=False)).status == "tepat_waktu"
    unknown = ObsDay().people("07.25", "16.05", lights=None)
    assert verdict(unknown).status == "tepat_waktu"


def test_opening_is_the_arrival_not_the_light_switch() -> None:
    obs = ObsDay().people("07.24", "16.05").lights("07.24", "07.27", False)
    v = verdict(obs)
    assert at(v.opened_at) == "07.24"
    late = ObsDay().people("08.10", "16.05").lights("08.10", "08.13", False)
    assert verdict(late).late_minutes == 40
    # ... and the closing is when the last person left, not when the lights went off.
    leaving = ObsDay().people("07.24", "15.40").lights("15.38", "15.40", False)
    assert at(verdict(leaving).closed_at) == "15.40"


def test_a_missed_minute_at_the_door_is_bridged() -> None:
    # In at 07.24, not detected at 07.25, lights on at 07.27.
    obs = ObsDay().people("07.24", "16.05").lights("07.24", "07.27", False)
    obs.people("07.25", "07.26", n=0, lights=False)
    assert at(verdict(obs).opened_at) == "07.24"
    assert at(verdict(obs, config=VerdictConfig(edge_gap=0)).opened_at) == "07.26"
    # Three missed minutes are a gap, not a miss: 07.20 is not the arrival.
    gap = ObsDay().people("07.20", "07.21", n=1, lights=False).people("07.25", "16.05")
    assert at(verdict(gap).opened_at) == "07.25"


def clerk_unseen_by_the_detector(arrive: str, lights: str, detected: str) -> ObsDay:
    """A clerk walks in at `arrive` (motion, lights still off), switches the lights on at
    `lights` and sits at the counter moving a little; the detector first finds anyone at
    `detected` (docs/verdicts.md, "A clerk the detector does not find")."""
    return (
        ObsDay()
        .motion(arrive, lights, 0.7)
        .lights(lights, "16.05", True)
        .motion(lights, "16.05", 0.02)
        .people(detected, "16.05")
    )


def test_a_clerk_the_detector_misses_opens_the_office_by_their_motion() -> None:
    obs = clerk_unseen_by_the_detector("07.28", "07.30", "07.45")
    v = verdict(obs)
    assert at(v.opened_at) == "07.28" and v.status == "tepat_waktu"
    assert v.first_presence is not None and at(v.first_presence.minute) == "07.28"
    assert v.reason.startswith("Buka 07.28 WITA, tepat waktu (jadwal 07.30 WITA)")
    assert "07.45 WITA" in v.reason  # when the detector found someone: the evidence to check
    off = verdict(obs, config=VerdictConfig(activity_motion=0))
    assert at(off.opened_at) == "07.45" and off.status == "terlambat"
    # Motion below the threshold (sensor noise) is not a person.
    quiet = verdict(obs, config=VerdictConfig(activity_motion=0.05))
    assert at(quiet.opened_at) == "07.45"


def test_motion_alone_never_opens_an_office() -> None:
    obs = ObsDay().lights("07.00", "16.05", True).motion("07.00", "16.05", 0.5)
    v = verdict(obs)
    assert v.status == "tidak_buka" and v.opened_at is None


def test_motion_is_walked_only_while_the_room_is_lit_and_only_so_far() -> None:
    # The cleaner (lights on) left at 06.50 and switched the lights off; staff came at 07.40.
    cleaner = ObsDay().people("06.30", "06.50", n=1).motion("06.30", "06.50", 1.0)
    cleaner.motion("06.50", "06.52", 0.3).people("07.40", "16.05").motion("07.40", "16.05")
    v = verdict(cleaner)
    assert at(v.opened_at) == "07.40" and v.late_minutes == 10
    # Sunlight moving over a lit room from 06.00: at most `activity_reach` minutes of it count.
    sunny = ObsDay().lights("06.00", "16.05", True).motion("06.00", "16.05", 0.3)
    sunny.people("09.00", "16.05")
    v = verdict(sunny)
    assert at(v.opened_at) == "08.00" and v.status == "terlambat"
    assert at(verdict(sunny, config=VerdictConfig(activity_reach=10)).opened_at) == "08.50"


def test_the_last_clerk_the_detector_loses_closes_the_office_by_their_motion() -> None:
    obs = ObsDay().people("07.25", "15.40").lights("07.25", "16.02", True)
    obs.motion("15.40", "16.02", 0.02).motion("16.02", "16.04", 0.5)
    v = verdict(obs)
    assert at(v.closed_at) == "16.04" and v.status == "tepat_waktu"
    assert v.last_presence is not None and at(v.last_presence.minute) == "16.03"
    off = verdict(obs, config=VerdictConfig(activity_motion=0))
    assert at(off.closed_at) == "15.40" and off.status == "pulang_cepat"


def test_a_separate_presence_never_props_up_the_one_before() -> None:
    # With a 30-minute window, 07.00-07.06 plus the staff from 07.17 would hold 10 of 30
    # minutes; but 11 empty minutes separate them, so 07.00 is not the opening.
    obs = ObsDay().people("07.00", "07.06", n=1).people("07.17", "16.05")
    v = verdict(obs, config=VerdictConfig(window=30, min_present=10))
    assert at(v.opened_at) == "07.17"


def test_only_the_service_zone_counts() -> None:
    zones = {1: ["area layanan", "ruang tunggu"]}
    outside = ObsDay(zones=zones).people("07.25", "16.05", zone="ruang tunggu")
    assert verdict(outside).status == "tidak_buka"
    inside = ObsDay(zones=zones).people("07.25", "16.05", zone="area layanan")
    assert verdict(inside).status == "tepat_waktu"
    other_name = ObsDay(zones={1: ["Loket"]}).people("07.25", "16.05", zone="Loket")
    assert verdict(other_name).status == "tepat_waktu"


# ---- unknown is not late -----------------------------------------------------------------------


def test_camera_down_through_the_opening_is_unknown_not_late() -> None:
    v = verdict(ObsDay().down("07.00", "09.00").people("09.05", "16.05"))
    assert v.status == "tidak_diketahui"
    assert v.late_minutes is None
    assert at(v.opened_at) == "09.05"  # what was seen, for the record
    c = v.opening_coverage
    assert c is not None
    assert (at(c.start), at(c.end)) == ("07.00", "09.05")
    assert (c.minutes, c.seen_minutes) == (125, 5)
    assert c.fraction == pytest.approx(0.04)
    assert v.reason.startswith("Tidak diketahui: kamera hanya melihat 5 dari 125 menit (4%)")


@pytest.mark.parametrize(
    "spoil",
    [
        lambda o: o.tamper("07.00", "09.00"),
        lambda o: o.coverage("07.00", "09.00", 20.0),
    ],
    ids=["tampered", "partly-analysed"],
)
def test_tampered_or_thin_minutes_are_unseen(spoil) -> None:
    v = verdict(spoil(ObsDay()).people("09.05", "16.05"))
    assert v.status == "tidak_diketahui"
    assert v.opening_coverage is not None and v.opening_coverage.seen_minutes == 5


def test_unseen_gap_right_before_the_first_sighting() -> None:
    # Staff 07.25-07.40, the camera drops 07.41-07.52, staff seen again from 07.53.
    obs = ObsDay().people("07.25", "07.41").down("07.41", "07.53").people("07.53", "16.05")
    assert verdict(obs).status == "tidak_diketahui"
    # Even with a lax coverage threshold the most favourable reading (open since 07.25) is
    # on time, so the day cannot be called late.
    lax = verdict(obs, config=VerdictConfig(min_coverage=0.5))
    assert lax.opening_coverage is not None and lax.opening_coverage.fraction >= 0.5
    assert lax.status == "tidak_diketahui"
    assert at(lax.opened_at) == "07.53" and at(lax.opened_earliest) == "07.25"
    assert "mungkin sudah buka sejak 07.25 WITA" in lax.reason


def test_late_minutes_never_count_unseen_minutes() -> None:
    # Late either way, but the 15 unseen minutes before 09.00 are given to the office.
    v = verdict(ObsDay().down("08.45", "09.00").people("09.00", "16.05"))
    assert v.status == "terlambat"
    assert at(v.opened_at) == "09.00" and at(v.opened_earliest) == "08.45"
    assert v.late_minutes == 75


def test_seen_empty_until_ten_then_down_is_heavy_late() -> None:
    v = verdict(ObsDay().down("10.30", "24.00"))
    assert v.status == "terlambat_berat"
    assert v.opened_at is None and v.late_minutes is None
    c = v.opening_coverage
    assert c is not None and (at(c.start), at(c.end), c.fraction) == ("07.00", "10.00", 1.0)
    assert "belum ada petugas sampai 10.00 WITA" in v.reason


def test_down_before_ten_is_unknown_even_with_most_of_the_morning_seen() -> None:
    v = verdict(ObsDay().down("09.30", "24.00"))
    assert v.opening_coverage is not None and v.opening_coverage.fraction >= 0.8
    assert v.status == "tidak_diketahui"


def test_no_rows_at_all() -> None:
    v = verdict([], day=MON)
    assert v.status == "tidak_diketahui"
    assert v.opening_coverage is not None and v.opening_coverage.seen_minutes == 0
    assert v.cameras == () and v.rows.total == 0


def test_camera_down_in_the_afternoon_only() -> None:
    """Opening judged, closing unknown: status from the opening, closing_status says unknown."""
    v = verdict(ObsDay().people("07.25", "16.05").down("13.00", "24.00"))
    assert v.status == "tepat_waktu"
    assert v.opening_status == "tepat_waktu"
    assert v.closing_status == "tidak_diketahui"
    assert v.early_minutes is None
    assert at(v.closed_at) == "13.00"  # last seen, not a judged closing
    c = v.closing_coverage
    assert c is not None and (c.minutes, c.seen_minutes, c.fraction) == (180, 0, 0.0)
    assert "jam tutup tidak diketahui" in v.reason
    assert v.service_coverage is not None and v.service_coverage.seen_minutes == 330


def test_closed_early_but_unseen_right_after_is_unknown() -> None:
    v = verdict(ObsDay().people("07.25", "14.30").down("14.30", "14.50"))
    assert v.closing_coverage is not None and v.closing_coverage.fraction < 0.8
    assert v.closing_status == "tidak_diketahui" and v.status == "tepat_waktu"
    # Unseen 15.45-15.58: the office may have stayed until 15.58, which is on time.
    late_gap = ObsDay().people("07.25", "15.45").down("15.45", "15.58")
    lax = verdict(late_gap, config=VerdictConfig(min_coverage=0.1))
    assert at(lax.closed_at) == "15.45" and at(lax.closed_latest) == "15.58"
    assert lax.closing_status == "tidak_diketahui"
    assert "kamera tidak melihat tepat sesudahnya" in lax.reason


def test_early_minutes_never_count_unseen_minutes() -> None:
    v = verdict(ObsDay().people("07.25", "14.30").down("14.30", "14.45"))
    assert v.status == "pulang_cepat"
    assert at(v.closed_at) == "14.30" and at(v.closed_latest) == "14.45"
    assert v.early_minutes == 75


# ---- several cameras -----------------------------------------------------------------------------


def test_two_cameras_one_down_all_day() -> None:
    obs = ObsDay(cameras=(1, 2)).people("07.25", "16.05", cameras=(2,)).down("00.00", "24.00", (1,))
    v = verdict(obs)
    assert v.status == "tepat_waktu" and v.cameras == (2,)
    assert v.first_presence is not None and v.first_presence.camera_id == 2


def test_two_cameras_cover_each_other() -> None:
    obs = (
        ObsDay(cameras=(1, 2))
        .people("07.25", "12.00", cameras=(1,))
        .people("12.00", "16.05", cameras=(2,))
        .down("07.00", "09.00", (2,))
        .down("13.00", "24.00", (1,))
    )
    v = verdict(obs)
    assert v.status == "tepat_waktu"
    assert (at(v.opened_at), at(v.closed_at)) == ("07.25", "16.05")
    assert v.first_presence is not None and v.first_presence.camera_id == 1
    assert v.last_presence is not None and v.last_presence.camera_id == 2
    assert v.day_coverage is not None and v.day_coverage.fraction == 1.0


def test_a_camera_that_does_not_watch_the_service_area_does_not_make_it_seen() -> None:
    # Interior camera down through the morning; the yard camera (zones, none of them service)
    # sees people in the yard. That is not "nobody came": it is unknown.
    obs = (
        ObsDay(cameras=(1, 2), zones={1: ["area layanan"], 2: ["parkir"]})
        .down("06.00", "09.00", (1,))
        .people("07.25", "16.05", zone="parkir", cameras=(2,))
        .people("09.00", "16.05", cameras=(1,))
    )
    v = verdict(obs)
    assert v.status == "tidak_diketahui"
    assert v.cameras == (1,) and v.rows.not_service_area == 24 * 60


# ---- bad input -----------------------------------------------------------------------------


def test_duplicated_and_shuffled_rows_change_nothing() -> None:
    obs = ObsDay().people("08.12", "16.10").down("12.00", "12.20")
    ordered = verdict(obs).to_dict()
    rows = obs.list()
    copies = [dict(r) for r in rows[::7]]
    for r in copies[::2]:  # a weaker copy (a retried partial upload) must not weaken the minute
        r.update(coverage_seconds=10.0, people_max=0, lights_on=False)
    mixed = rows + copies
    random.Random(6).shuffle(mixed)
    again = verdict(mixed)
    assert again.rows.duplicates == len(copies)
    a, b = dict(ordered), again.to_dict()
    assert a.pop("rows") != b.pop("rows")
    assert a == b
    assert a["status"] == "terlambat" and a["late_minutes"] == 42


def test_absurd_and_foreign_rows_are_ignored() -> None:
    obs = ObsDay().people("08.12", "16.10")
    base = verdict(obs).to_dict()
    junk = [
        {  # camera clock reset to the epoch, with "people"
            "camera_id": 1,
            "minute": datetime(1970, 1, 1, 7, 0, tzinfo=UTC),
            "people_max": 5,
            "zones": {},
            "lights_on": True,
            "coverage_seconds": 60,
            "tamper": {},
        },
        {  # the day before, local 07.00
            "camera_id": 1,
            "minute": local(MON - timedelta(days=1), "07.00"),
            "people_max": 3,
            "zones": {},
            "lights_on": True,
            "coverage_seconds": 60,
            "tamper": {},
        },
        {  # naive time: a programming error upstream, counted, never trusted
            "camera_id": 1,
            "minute": datetime(2026, 11, 23, 7, 0),
            "people_max": 3,
            "coverage_seconds": 60,
        },
        {"camera_id": "1", "minute": local(MON, "07.00"), "people_max": 3},
    ]
    v = verdict([*junk, *obs.list()])
    assert (v.rows.outside_day, v.rows.invalid) == (2, 2)
    got = v.to_dict()
    assert got.pop("rows") != base.pop("rows")
    assert got == base


def test_minutes_with_seconds_are_floored() -> None:
    rows = ObsDay().people("07.24", "16.05").list()
    for r in rows:
        r["minute"] = r["minute"] + timedelta(seconds=30)
    v = verdict(rows)
    assert at(v.opened_at) == "07.24" and v.rows.duplicates == 0


def test_observation_objects_work_like_dicts() -> None:
    class Row:
        def __init__(self, d: dict[str, Any]) -> None:
            self.__dict__.update(d)

    obs = ObsDay().people("08.12", "16.10")
    assert verdict([Row(r) for r in obs.list()]).to_dict() == verdict(obs).to_dict()


# ---- the calendar decides the hours -------------------------------------------------------------


def test_friday_closes_at_half_past_four() -> None:
    thu = verdict(ObsDay(THU).people("07.25", "16.10"))
    fri = verdict(ObsDay(FRI).people("07.25", "16.10"))
    assert thu.status == "tepat_waktu"
    assert fri.status == "pulang_cepat" and fri.early_minutes == 20
    assert at(fri.scheduled_close) == "16.30"
    assert verdict(ObsDay(FRI).people("07.25", "16.26")).status == "tepat_waktu"


def test_ramadan_hours() -> None:
    on_time = verdict(ObsDay(RAMADAN_MON).people("07.55", "15.02"))
    assert on_time.schedule_rule == "ramadan"
    assert at(on_time.scheduled_open) == "08.00" and at(on_time.scheduled_close) == "15.00"
    assert on_time.status == "tepat_waktu"
    assert "jadwal 08.00 WITA" in on_time.reason
    late = verdict(ObsDay(RAMADAN_MON).people("08.20", "15.02"))
    assert (late.status, late.late_minutes) == ("terlambat", 20)
    # The same times on a regular Monday are judged against 07.30.
    assert verdict(ObsDay(MON).people("07.55", "16.02")).late_minutes == 25


def test_override_hours_from_a_circular() -> None:
    rules = [
        *RULES,
        CalendarRule(
            kind="override",
            opens=time(9, 0),
            closes=time(12, 0),
            start=MON,
            end=MON,
            reason="Upacara HUT Kota",
        ),
    ]
    v = verdict(ObsDay().people("09.02", "12.01"), rules=rules)
    assert v.status == "tepat_waktu" and v.schedule_rule == "override"
    assert v.staffed_minutes == 178


def test_heavy_late_needs_a_schedule_that_opens_before_the_threshold() -> None:
    rules = [
        *RULES,
        CalendarRule(kind="override", opens=time(10, 0), closes=time(13, 0), start=MON, end=MON),
    ]
    late = verdict(ObsDay().people("10.20", "13.05"), rules=rules)
    assert (late.status, late.late_minutes) == ("terlambat", 20)
    # Seen empty until 10.03, then down: "not open before 10.00" says nothing on this day.
    down = verdict(ObsDay().down("10.03", "24.00"), rules=rules)
    assert down.status == "tidak_diketahui"
    # Every other minute lost after 10.00: too little to hide a session, too little to say
    # "tidak buka" either; and "not open by 10.00" is no verdict when 10.00 is the schedule.
    patchy = ObsDay()
    for m in range(hm("10.00"), 24 * 60, 2):
        del patchy.rows[(1, m)]
    v = verdict(patchy, rules=rules)
    assert v.status == "tidak_diketahui"
    assert v.opening_coverage is not None and v.opening_coverage.fraction < 0.8


# ---- output and settings -------------------------------------------------------------------------


def test_verdict_is_json_and_deterministic() -> None:
    obs = ObsDay().people("07.24", "14.30")
    a, b = verdict(obs).to_dict(), verdict(obs).to_dict()
    text = json.dumps(a, sort_keys=True)
    assert json.loads(text) == b
    assert a["rules_version"] and a["config_digest"]
    assert a["opened_at"] == "2026-11-22T23:24:00+00:00"  # 07.24 WITA is 23.24 UTC the day before
    assert a["status"] in STATUSES and a["label"] == "Pulang cepat"


def test_config_parsing_and_checks() -> None:
    cfg = VerdictConfig(earliest="05.30", heavy_late_after="09:30")
    assert cfg.earliest == time(5, 30) and cfg.heavy_late_after == time(9, 30)
    assert cfg.digest() != VerdictConfig().digest()
    assert VerdictConfig().digest() == VerdictConfig().digest()
    with pytest.raises(ValidationError, match="min_present"):
        VerdictConfig(min_present=20, window=15)
    with pytest.raises(ValidationError, match="latest"):
        VerdictConfig(earliest="22.00", latest="06.00")
    with pytest.raises(ValidationError):
        VerdictConfig(min_coverage=0)


def test_settings_change_the_answer() -> None:
    obs = ObsDay().people("07.25", "07.55", n=1).people("09.00", "16.05")
    # A 30-minute presence is not an opening with the default 45-minute session ...
    assert verdict(obs).status == "terlambat"
    # ... and is with a 20-minute one.
    assert verdict(obs, config=VerdictConfig(min_session=20)).status == "tepat_waktu"


def test_too_little_seen_is_unknown_even_when_nothing_could_hide_there() -> None:
    # 40 unseen minutes at 07.00 are too short to hide an opening session, but only 67 % of
    # 07.00-09.00 was seen: below the 80 % the status needs.
    obs = ObsDay().down("07.00", "07.40").people("09.00", "16.05")
    v = verdict(obs)
    assert v.opening_coverage is not None and v.opening_coverage.fraction == pytest.approx(
        2 / 3, abs=1e-3
    )
    assert v.status == "tidak_diketahui"
    assert verdict(obs, config=VerdictConfig(min_coverage=0.6)).status == "terlambat"
