"""The simulated world: profiles, day plans, ground truth (pure; no video)."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pantau.sim.groundtruth import GroundTruthWriter, day_events, read
from pantau.sim.offices import SimConfig, SimError, load_config, parse_size, select_offices
from pantau.sim.profiles import BUILTIN, OfficeSim, Profile, ScheduledEvent
from pantau.sim.world import World

WITA = ZoneInfo("Asia/Makassar")
MONDAY = date(2026, 11, 23)


def world(profile: str, **office: object) -> World:
    spec = OfficeSim(site="kel-kambu", profile=profile, random_events=False, **office)
    return World(spec, BUILTIN[profile], "kel-kambu")


def local_time(at) -> time:
    return at.astimezone(WITA).time()


@pytest.mark.parametrize(
    ("profile", "earliest", "latest"),
    [
        ("punctual", time(7, 15), time(7, 35)),
        ("late", time(8, 30), time(9, 30)),
        ("very_late", time(10, 0), time(11, 30)),
    ],
)
def test_profiles_open_inside_their_windows_on_working_days(profile, earliest, latest):
    w = world(profile)
    opened = []
    for d in range(28):
        day = MONDAY + timedelta(days=d)
        plan, truth = w.day(day)
        if not truth.working:
            assert truth.opened_at is None
            assert not [v for v in plan.visits if v.role in ("staff", "visitor", "cleaner")]
            continue
        assert earliest <= local_time(truth.opened_at) <= latest
        first_staff = min(v.enter for v in plan.visits if v.role == "staff")
        assert first_staff == truth.opened_at
        assert truth.closed_at == max(v.leave for v in plan.visits if v.role == "staff")
        opened.append(truth.opened_at)
    assert len(opened) == 20  # 4 weeks of Mon-Fri, no holidays in this span


def test_holidays_follow_the_work_calendar():
    w = world("punctual")
    for holiday in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 8, 17)):
        plan, truth = w.day(holiday)
        assert not truth.working and truth.opened_at is None
        assert [v.role for v in plan.visits] == ["guard"]


def test_cleaner_comes_before_opening_and_guard_walks_at_night():
    plan, truth = world("late").day(MONDAY)
    cleaner = next(v for v in plan.visits if v.role == "cleaner")
    guard = next(v for v in plan.visits if v.role == "guard")
    assert time(6, 15) <= local_time(cleaner.enter) <= time(6, 45)
    assert cleaner.leave < truth.opened_at
    assert time(21, 45) <= local_time(guard.enter) <= time(22, 15)
    assert (guard.leave - guard.enter) <= timedelta(minutes=3)


def test_friday_early_profile_leaves_before_one_on_fridays():
    w = world("friday_early")
    _, friday = w.day(MONDAY + timedelta(days=4))
    _, monday = w.day(MONDAY)
    assert local_time(friday.closed_at) <= time(12, 31)
    assert local_time(monday.closed_at) >= time(15, 30)


def test_sometimes_closed_closes_some_working_days():
    w = world("sometimes_closed")
    days = [w.day(MONDAY + timedelta(days=d))[1] for d in range(70)]
    closed = [t for t in days if t.working and t.closed_all_day]
    assert 1 <= len(closed) <= 15
    assert all(t.opened_at is None for t in closed)


def test_plans_are_deterministic_and_differ_between_offices():
    a1, _ = world("punctual").day(MONDAY)
    a2, _ = world("punctual").day(MONDAY)
    b, _ = World(
        OfficeSim(site="kel-lepo-lepo", random_events=False), BUILTIN["punctual"], "kel-lepo-lepo"
    ).day(MONDAY)
    assert a1 == a2
    assert [v.enter for v in a1.visits] != [v.enter for v in b.visits]


def test_scheduled_events_land_on_their_day():
    events = [
        ScheduledEvent(kind="intruder", at="2026-11-24 23.40", minutes=5),
        ScheduledEvent(kind="cover", at="2026-11-24 10.00", minutes=30, view="interior"),
        ScheduledEvent(kind="site_offline", at="2026-11-24 12.00", minutes=120),
    ]
    w = world("punctual", events=events)
    plan, _ = w.day(date(2026, 11, 24))
    intruder = next(v for v in plan.visits if v.role == "intruder")
    assert local_time(intruder.enter) == time(23, 40)
    assert [(i.kind, i.view) for i in plan.tamper] == [("cover", "interior")]
    assert [(i.kind, i.view) for i in plan.outages] == [("site", None)]
    at = intruder.enter + timedelta(minutes=1)
    present, lights, tamper, offline = w.state_at(at, "interior")
    assert [v.role for v in present] == ["intruder"] and not lights and not offline
    _, _, tamper, _ = w.state_at(plan.tamper[0].start + timedelta(minutes=1), "interior")
    assert tamper == "cover"
    assert w.state_at(plan.outages[0].start + timedelta(minutes=5), "entrance")[3]
    assert not w.day(MONDAY)[0].tamper


def test_ground_truth_lines_have_utc_and_wita_and_are_written_once(tmp_path):
    w = world("punctual")
    plan, truth = w.day(MONDAY)
    events = day_events(plan, truth, WITA)
    assert events[0]["type"] == "day" and events[0]["working"] is True
    assert events[0]["scheduled_open"] == "07.30"
    assert [e["utc"] for e in events[1:]] == sorted(e["utc"] for e in events[1:])
    opened = next(e for e in events if e["type"] == "office_open")
    assert opened["utc"].endswith("Z") and opened["wita"].endswith(" WITA")
    assert opened["wita"].startswith("2026-11-23 07.")
    roles = {e["role"] for e in events if e["type"] == "person_enter"}
    assert {"staff", "cleaner", "guard"} <= roles
    path = tmp_path / "gt.jsonl"
    writer = GroundTruthWriter(path)
    assert writer.write_day(plan, truth, WITA)
    assert not GroundTruthWriter(path).write_day(plan, truth, WITA)  # restart: no duplicates
    assert len(read(path)) == len(events)
    json.dumps(read(path))


def test_bad_input_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(ValidationError, match="unknown behaviour"):
        Profile(
            name="x",
            arrive={"earliest": "07.00", "latest": "07.30"},
            leave={"earliest": "16.00", "latest": "16.30"},
            behaviours=("dancing",),
        )
    with pytest.raises(ValidationError, match="impossible schedule"):
        Profile(
            name="x",
            arrive={"earliest": "09.00", "latest": "10.00"},
            leave={"earliest": "08.00", "latest": "08.30"},
        )
    with pytest.raises(SimError, match="unknown site 'kel-atlantis'"):
        select_offices(SimConfig(offices=[OfficeSim(site="kel-atlantis")]))
    with pytest.raises(SimError, match="unknown profile 'lazy'"):
        select_offices(SimConfig(offices=[OfficeSim(site="kel-kambu", profile="lazy")]))
    bad = tmp_path / "sim.yaml"
    bad.write_text("offices:\n  - site: kel-kambu\n    colour: red\n")
    with pytest.raises(SimError, match=r"offices\[0\]\.colour"):
        load_config(bad)
    with pytest.raises(SimError, match="640x360"):
        parse_size("big")


def test_custom_profiles_from_yaml(tmp_path):
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        "profiles:\n  siang:\n    name: siang\n    arrive: {earliest: '12.00', latest: '12.10'}\n"
        "    leave: {earliest: '15.00', latest: '15.10'}\n"
        "offices:\n  - {site: 74.71.10.1001, profile: siang, random_events: false}\n"
    )
    [office] = select_offices(load_config(cfg))
    _, truth = office.world.day(MONDAY)
    assert time(12, 0) <= local_time(truth.opened_at) <= time(12, 10)


def test_events_on_command_from_the_cli_syntax():
    from pantau.sim.offices import parse_event

    ev = parse_event("cover@2026-11-24 10.00+30/interior")
    assert (ev.kind, ev.minutes, ev.view) == ("cover", 30, "interior")
    [office] = select_offices(
        SimConfig(), sites=["kel-kambu"], events=[parse_event("intruder@2026-11-24 23.40+5")]
    )
    plan, _ = office.world.day(date(2026, 11, 24))
    assert any(v.role == "intruder" and local_time(v.enter) == time(23, 40) for v in plan.visits)
    for bad in ("explode@2026-11-24 10.00", "cover 2026-11-24", "cover@2026-11-24 10.00+x"):
        with pytest.raises(SimError):
            parse_event(bad)


def test_ground_truth_of_a_day_with_a_tamper_event_is_written(tmp_path):
    """A tamper event carries its own `kind`; writing it once crashed the writer."""
    from pantau.sim.groundtruth import GroundTruthWriter, read
    from pantau.sim.offices import SimConfig, parse_event, select_offices
    from pantau.sim.profiles import OfficeSim

    event = parse_event("cover@2026-11-23 10.00+5")
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-kambu", random_events=False, events=[event])])
    )
    plan, facts = office.world.day(date(2026, 11, 23))
    GroundTruthWriter(tmp_path / "gt.jsonl").write_day(plan, facts, office.world.zone)
    tampers = [e for e in read(tmp_path / "gt.jsonl") if "tamper" in e["type"]]
    assert [(e["type"], e["kind"], e["wita"]) for e in tampers] == [
        ("tamper_start", "cover", "2026-11-23 10.00.00 WITA"),
        ("tamper_end", "cover", "2026-11-23 10.05.00 WITA"),
    ]
