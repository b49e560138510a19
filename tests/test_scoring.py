"""bench/scoring.py: reading the simulator's ground truth, presence per minute, event matching."""

from __future__ import annotations

import json
import queue
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bench import scoring
from bench.scoring import LIT, NIGHT, TWILIGHT, Counts, Span

ZONE = ZoneInfo("Asia/Makassar")
DAY = date(2026, 11, 23)  # a Monday


def at(hhmm: str, day: date = DAY, seconds: float = 0.0) -> datetime:
    """Local WITA time of day -> aware UTC."""
    hh, mm = (int(x) for x in hhmm.split("."))
    local = datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZONE)
    return (local + timedelta(seconds=seconds)).astimezone(UTC)


def z(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rec(type_: str, t: datetime, **extra: object) -> dict:
    return {"utc": z(t), "wita": "(ignored)", "site": "kel-test", "type": type_, **extra}


def day_line(day: date, working: bool = True) -> dict:
    return rec(
        "day",
        at("00.00", day),
        date=day.isoformat(),
        working=working,
        rule="weekly" if working else "no_hours",
        closed_all_day=False,
        scheduled_open="07.30" if working else None,
        scheduled_close="16.00" if working else None,
    )


def person(actor: str, role: str, enter: datetime, leave: datetime, spot: str = "desk") -> list:
    common = {"actor": actor, "role": role, "spot": spot, "views": ["entrance", "interior"]}
    return [rec("person_enter", enter, **common), rec("person_leave", leave, **common)]


def small_truth() -> scoring.GroundTruth:
    lines = [
        day_line(DAY),
        *person("s1", "staff", at("07.31", seconds=30), at("07.35")),
        *person("x", "intruder", at("02.00"), at("02.05"), "wander"),
        *person("g", "guard", at("21.58"), at("21.59", seconds=40), "walkthrough"),
        *person("c", "cleaner", at("06.30"), at("06.40"), "wander"),
        rec("lights_on", at("07.33"), view="interior"),
        rec("lights_off", at("15.59"), view="interior"),
        rec("tamper_start", at("10.00"), kind="cover", view="interior"),
        rec("tamper_end", at("10.20"), kind="cover", view="interior"),
        rec("tamper_start", at("11.00"), kind="wall", view="entrance"),
        rec("tamper_end", at("11.10"), kind="wall", view="entrance"),
        rec("outage_start", at("12.00"), scope="site", view=None),
        rec("outage_end", at("12.30"), scope="site", view=None),
    ]
    return scoring.parse_ground_truth(reversed(lines))  # order in the file does not matter


def test_parse_pairs_events_and_reads_the_schedule() -> None:
    gt = small_truth()
    assert gt.site == "kel-test"
    staff = [p for p in gt.people if p.actor == "s1"]
    assert len(staff) == 1 and staff[0].start == at("07.31", seconds=30)
    assert staff[0].end == at("07.35") and staff[0].kind == "staff" and "interior" in staff[0].views
    assert [(t.kind, t.view) for t in gt.tamper] == [("cover", "interior"), ("wall", "entrance")]
    assert [(o.kind, o.view) for o in gt.outages] == [("site", None)]
    assert gt.lights == [Span(at("07.33"), at("15.59"), "", "interior")]
    # the interior is blind during its own tamper and the site outage, not the yard's tamper
    assert [(b.start, b.end) for b in gt.blind("interior")] == [
        (at("10.00"), at("10.20")),
        (at("12.00"), at("12.30")),
    ]
    assert gt.scheduled(at("07.30")) and gt.scheduled(at("15.59", seconds=59))
    assert not gt.scheduled(at("16.00")) and not gt.scheduled(at("07.29", seconds=59))
    assert not gt.scheduled(at("10.00", DAY + timedelta(days=1)))  # no day line: not scheduled


def test_unclosed_visit_lasts_until_the_end_of_the_last_day() -> None:
    gt = scoring.parse_ground_truth(
        [day_line(DAY), rec("person_enter", at("23.50"), actor="late", role="intruder",
                            spot="wander", views=["interior"])]
    )  # fmt: skip
    [p] = gt.people
    assert p.end == at("00.00", DAY + timedelta(days=1))


def test_seconds_covered_counts_overlaps_once() -> None:
    m = at("09.00")
    spans = [
        Span(m - timedelta(seconds=5), m + timedelta(seconds=10)),
        Span(m + timedelta(seconds=5), m + timedelta(seconds=20)),
        Span(m + timedelta(seconds=50), m + timedelta(seconds=90)),
    ]
    assert scoring.seconds_covered(spans, m, m + scoring.MINUTE) == pytest.approx(30.0)
    assert scoring.seconds_covered([], m, m + scoring.MINUTE) == 0.0


def test_light_class_from_lights_and_daylight() -> None:
    lights = [Span(at("18.30"), at("19.00", seconds=30))]

    def sky(t: datetime) -> float:  # bright until 18.00, dim till 18.20, then dark
        local = t.astimezone(ZONE)
        hours = local.hour + local.minute / 60
        return 0.5 if hours < 18 else (0.02 if hours < 18 + 20 / 60 else 0.0)

    assert scoring.light_class(at("17.58"), lights, sky) == LIT
    assert scoring.light_class(at("17.59"), lights, sky) == TWILIGHT  # ends in dusk
    assert scoring.light_class(at("18.25"), lights, sky) == NIGHT
    assert scoring.light_class(at("18.40"), lights, sky) == LIT  # lights on all minute
    assert scoring.light_class(at("19.00"), lights, sky) == TWILIGHT  # lights go off inside it
    assert scoring.light_class(at("18.29"), lights, sky) == NIGHT  # lights on only after it


def test_presence_scoring_counts_each_outcome() -> None:
    gt = small_truth()
    minutes = [at("07.30") + k * scoring.MINUTE for k in range(7)] + [at("10.05"), at("12.10")]
    truths = scoring.minute_truth(gt, "interior", minutes, lambda _t: 1.0)
    # 07.30 nobody; 07.31 staff from :30 (30 s); 07.32-07.34 staff; 07.35 left; 07.36 nobody
    assert truths[at("07.31")].occupied == pytest.approx(30.0)
    assert truths[at("07.35")].occupied == 0.0
    seen = {
        at("07.30"): 1,  # nobody there: false
        at("07.31"): 1,  # true
        at("07.32"): 0,  # missed
        at("07.33"): 1,
        # 07.34 has no observation row
        at("07.35"): 0,
        at("07.36"): 0,
        at("10.05"): 1,  # blind (covered lens): not scored
        at("12.10"): 0,  # blind (site offline): not scored
    }
    counts, misses = scoring.score_presence(truths, seen)
    c = counts[LIT]
    assert (c.tp, c.fp, c.fn, c.tn, c.blind, c.unobserved) == (2, 1, 1, 2, 2, 1)
    assert c.precision == pytest.approx(2 / 3) and c.recall == pytest.approx(2 / 3)
    assert [(t.minute, o) for t, o in misses] == [(at("07.30"), "fp"), (at("07.32"), "fn")]
    assert counts[NIGHT].scored == 0 and counts[NIGHT].precision is None


def test_presence_partial_minutes_are_not_scored() -> None:
    m = at("08.00")
    enter, leave = m + timedelta(seconds=55), m + timedelta(minutes=5)
    gt = scoring.parse_ground_truth([day_line(DAY), *person("p", "visitor", enter, leave)])
    truths = scoring.minute_truth(gt, "interior", [m], lambda _t: 1.0)
    assert scoring.presence_outcome(truths[m], 0) == "partial"
    assert scoring.presence_outcome(truths[m], 1) == "partial"
    assert scoring.presence_outcome(truths[m], 0, min_seconds=5.0) == "fn"


def test_counts_add_up() -> None:
    a, b = Counts(tp=3, fp=1, fn=2), Counts(tp=1, tn=4, blind=2)
    a.add(b)
    assert (a.tp, a.fp, a.fn, a.tn, a.blind) == (4, 1, 2, 4, 2)
    assert a.recall == pytest.approx(4 / 6)


def test_one_incident_over_two_events_recalls_both_and_is_not_false() -> None:
    e1 = Span(at("01.00"), at("01.05"), "intruder")
    e2 = Span(at("01.07"), at("01.10"), "intruder")
    e3 = Span(at("03.00"), at("03.04"), "intruder")
    incidents = [
        Span(at("01.01"), at("01.09"), "intrusion"),  # spans e1 and e2
        Span(at("03.00"), at("03.01"), "intrusion"),  # e3, split in two incidents
        Span(at("03.02"), at("03.05"), "intrusion"),
        Span(at("04.00"), at("04.03"), "intrusion"),  # nobody: false
        Span(at("01.05"), at("01.07"), "intrusion"),  # touches e1's end and e2's start only
    ]
    m = scoring.match([e1, e2, e3], incidents)
    assert m.hits == [[0], [0], [1, 2]]
    assert m.recalled == 3 and m.recall == 1.0
    assert m.false == [3, 4]
    assert m.missed == []
    assert scoring.match([e1], []).recall == 0.0
    assert scoring.match([], incidents[:1]).recall is None


def test_intruders_outside_hours_and_visible_only() -> None:
    tue = DAY + timedelta(days=1)
    lines = [
        day_line(DAY),
        day_line(tue),
        *person("night", "intruder", at("02.00"), at("02.05"), "wander"),
        *person("day", "intruder", at("10.00", tue), at("10.05", tue), "wander"),  # office hours
        *person("covered", "intruder", at("03.00", tue), at("03.10", tue), "wander"),
        rec("tamper_start", at("03.05", tue), kind="cover", view="interior"),
        rec("tamper_end", at("03.30", tue), kind="cover", view="interior"),
        *person("yard", "intruder", at("04.00"), at("04.05"), "wander"),
    ]
    lines[-2]["views"] = lines[-1]["views"] = ["entrance"]
    gt = scoring.parse_ground_truth(lines)
    scored, skipped = scoring.intruder_events(gt, "interior")
    assert [e.actor for e in scored] == ["night"]
    assert sorted(e.actor for e in skipped) == ["covered", "day"]


def test_intrusion_cause_prefers_the_intruder_then_the_guard() -> None:
    gt = small_truth()
    assert scoring.intrusion_cause(Span(at("02.01"), at("02.03")), gt, "interior") == "intruder"
    assert scoring.intrusion_cause(Span(at("21.57"), at("22.01")), gt, "interior") == "guard"
    assert scoring.intrusion_cause(Span(at("06.35"), at("06.37")), gt, "interior") == "cleaner"
    assert scoring.intrusion_cause(Span(at("23.00"), at("23.02")), gt, "interior") == "nobody"


def test_incident_spans_close_open_incidents() -> None:
    class Spec:
        def __init__(self, start: datetime, end: datetime | None) -> None:
            self.kind, self.start, self.end, self.detail = "tamper", start, end, {"kind": "moved"}

    until = at("23.59")
    spans = scoring.incident_spans([Spec(at("10.00"), None), Spec(at("09.00"), at("09.10"))], until)
    assert [(s.start, s.end) for s in spans] == [(at("09.00"), at("09.10")), (at("10.00"), until)]
    assert spans[0].detail == {"kind": "moved"}


@pytest.mark.parametrize(
    ("truth", "said", "agrees"),
    [
        ("cover", "covered", True),
        ("blackout", "covered", True),
        ("wall", "moved", True),
        ("wall", "covered", False),
        ("defocus", "defocused", True),
        ("defocus", "moved", False),
    ],
)
def test_tamper_kind_agreement(truth: str, said: str, agrees: bool) -> None:
    event = Span(at("10.00"), at("10.20"), truth)
    incident = Span(at("10.01"), at("10.20"), "tamper", detail={"kind": said})
    assert scoring.kind_agrees(event, incident) is agrees


def test_windows_may_cross_midnight() -> None:
    from datetime import time

    assert scoring.in_window(at("21.50"), ZONE, time(21, 45), time(22, 15))
    assert not scoring.in_window(at("22.15"), ZONE, time(21, 45), time(22, 15))
    assert scoring.in_window(at("00.30"), ZONE, time(23, 0), time(1, 0))
    assert not scoring.in_window(at("12.00"), ZONE, time(23, 0), time(1, 0))


def test_reads_the_simulators_own_file(tmp_path) -> None:
    """The parser against a file written by the simulator's writer, not by this test."""
    from pantau.sim.groundtruth import GroundTruthWriter
    from pantau.sim.profiles import BUILTIN, OfficeSim
    from pantau.sim.world import World

    world = World(OfficeSim(site="kel-test", random_events=False), BUILTIN["punctual"], "kel-test")
    path = tmp_path / "groundtruth.jsonl"
    writer = GroundTruthWriter(path)
    plans = []
    for d in (DAY, DAY + timedelta(days=1)):
        plan, facts = world.day(d)
        writer.write_day(plan, facts, world.zone)
        plans.append(plan)
    gt = scoring.read_ground_truth(path)
    visits = sorted((v.actor_id, v.enter, v.leave, v.role) for p in plans for v in p.visits)
    assert sorted((s.actor, s.start, s.end, s.kind) for s in gt.people) == [
        (a, e.replace(microsecond=e.microsecond // 1000 * 1000),
         lv.replace(microsecond=lv.microsecond // 1000 * 1000), r)
        for a, e, lv, r in visits
    ]  # fmt: skip
    lights = sorted((i.start, i.end) for p in plans for i in p.lights)
    assert len(gt.lights) == len(lights) > 0
    assert set(gt.days) == {DAY, DAY + timedelta(days=1)}
    assert gt.scheduled(at("08.00")) and not gt.scheduled(at("20.00"))


def test_recorded_days_are_the_days_whose_ground_truth_is_written(tmp_path):
    folder = tmp_path / "kel-test"
    folder.mkdir()
    lines = [
        rec("day", at("00.00"), date="2026-11-23", working=True),
        rec("person_enter", at("07.00"), actor="a", role="staff", views=["interior"]),
        rec("day", at("00.00", DAY + timedelta(days=2)), date="2026-11-25", working=True),
    ]
    (folder / "groundtruth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert scoring.recorded_days(tmp_path, "kel-test") == {DAY, DAY + timedelta(days=2)}
    assert scoring.recorded_days(tmp_path, "kel-other") == set()


def test_ticker_sends_progress_in_coarse_steps_and_flushes_the_rest():
    q: queue.Queue = queue.Queue()
    tick = scoring.Ticker(q, "record", 60.0)
    for _ in range(13):
        tick(10.0)
    sent = []
    while not q.empty():
        sent.append(q.get())
    assert sent == [("record", 60.0), ("record", 60.0)]
    tick.flush()
    assert q.get_nowait() == ("record", 10.0) and q.empty()
