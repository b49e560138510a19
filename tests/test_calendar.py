"""Work calendar: precedence of closures, overrides, holidays, Ramadan and weekly hours."""

from __future__ import annotations

from datetime import date, time

import pytest

from pantau.registry.calendar import (
    MAX_RANGE_DAYS,
    RULE_KINDS,
    CalendarError,
    CalendarRule,
    DaySchedule,
    default_city_rules,
    format_hhmm,
    national_holidays,
    schedule_for_day,
    schedule_range,
    validate_rule,
    validate_rules,
)

MON_THU = frozenset({0, 1, 2, 3})
FRI = frozenset({4})


@pytest.fixture
def city() -> list[CalendarRule]:
    return default_city_rules()


def assert_working(s: DaySchedule, opens: time, closes: time, rule: str) -> None:
    assert (s.working, s.opens, s.closes, s.rule) == (True, opens, closes, rule), s


def assert_closed(s: DaySchedule, rule: str) -> None:
    assert (s.working, s.opens, s.closes, s.rule) == (False, None, None, rule), s


# --- default city calendar with the real `holidays` package ---------------------------------


def test_default_city_rules_are_valid(city: list[CalendarRule]) -> None:
    validate_rules(city)
    assert {r.kind for r in city} == {"weekly", "ramadan"}
    assert all(r.level == 0 for r in city)
    assert set(RULE_KINDS) == {"weekly", "ramadan", "override", "closure"}


def test_normal_monday(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 11, 23))
    assert_working(s, time(7, 30), time(16, 0), "weekly")
    assert s.reason == "Jam kerja reguler"
    assert s.holiday_name is None


def test_normal_friday(city: list[CalendarRule]) -> None:
    assert_working(schedule_for_day(city, date(2026, 11, 27)), time(7, 30), time(16, 30), "weekly")


@pytest.mark.parametrize("day", [date(2026, 11, 28), date(2026, 11, 29)])
def test_weekend_not_working(city: list[CalendarRule], day: date) -> None:
    s = schedule_for_day(city, day)
    assert_closed(s, "no_hours")
    assert s.reason == "Akhir pekan / tidak ada jam kerja"


def test_ramadan_2026_midweek(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 2, 25))
    assert_working(s, time(8, 0), time(15, 0), "ramadan")
    assert s.reason == "Jam kerja Ramadan"


def test_ramadan_2026_friday(city: list[CalendarRule]) -> None:
    assert_working(schedule_for_day(city, date(2026, 2, 27)), time(8, 0), time(15, 30), "ramadan")


def test_ramadan_2025_and_day_after_ramadan(city: list[CalendarRule]) -> None:
    assert_working(schedule_for_day(city, date(2025, 3, 3)), time(8, 0), time(15, 0), "ramadan")
    # 2026-02-18 (Wed) is the day before Ramadan 1447 H starts: regular hours.
    assert_working(schedule_for_day(city, date(2026, 2, 18)), time(7, 30), time(16, 0), "weekly")


def test_idul_fitri_2026(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 3, 21))
    assert_closed(s, "holiday")
    assert s.holiday_name is not None and "Idul Fitri" in s.holiday_name
    assert s.reason.startswith("Libur nasional: ")


def test_cuti_bersama_after_idul_fitri(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 3, 23))  # Monday
    assert_closed(s, "holiday")
    assert s.holiday_name is not None and s.holiday_name.startswith("Cuti Bersama")
    assert s.reason.startswith("Cuti Bersama ")


def test_cuti_bersama_inside_ramadan_beats_ramadan_hours(city: list[CalendarRule]) -> None:
    # 2026-03-20 (Fri) is both the last Ramadan rule day and cuti bersama Idul Fitri.
    assert_closed(schedule_for_day(city, date(2026, 3, 20)), "holiday")


def test_cuti_bersama_christmas_eve(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 12, 24))
    assert_closed(s, "holiday")
    assert s.holiday_name is not None and s.holiday_name.startswith("Cuti Bersama")


def test_independence_day(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 8, 17))  # Monday
    assert_closed(s, "holiday")
    assert s.reason == "Libur nasional: Hari Kemerdekaan Republik Indonesia"


def test_without_national_holidays_independence_day_is_working(city: list[CalendarRule]) -> None:
    s = schedule_for_day(city, date(2026, 8, 17), use_national_holidays=False)
    assert_working(s, time(7, 30), time(16, 0), "weekly")
    assert s.holiday_name is None


def test_custom_holiday_lookup(city: list[CalendarRule]) -> None:
    lookup = {date(2026, 11, 23): "HUT Kota Kendari"}.get
    s = schedule_for_day(city, date(2026, 11, 23), holiday_lookup=lookup)
    assert_closed(s, "holiday")
    assert s.reason == "Libur nasional: HUT Kota Kendari"
    # The custom lookup replaces the national list.
    s = schedule_for_day(city, date(2026, 8, 17), holiday_lookup=lookup)
    assert s.working


def test_national_holidays_returns_fresh_plain_dict() -> None:
    h = national_holidays(2026)
    assert type(h) is dict
    assert h[date(2026, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    h.clear()
    assert date(2026, 8, 17) in national_holidays(2026)


# --- closures, overrides, levels --------------------------------------------------------------


def test_site_closure_closes_only_its_days(city: list[CalendarRule]) -> None:
    closure = CalendarRule(
        kind="closure",
        start=date(2026, 11, 24),
        end=date(2026, 11, 25),
        reason="Renovasi kantor",
        id=42,
        level=1,
    )
    rules = [*city, closure]
    validate_rules(rules)
    days = schedule_range(rules, date(2026, 11, 23), date(2026, 11, 26))
    assert [d.day for d in days] == [date(2026, 11, d) for d in (23, 24, 25, 26)]
    assert [d.rule for d in days] == ["weekly", "closure", "closure", "weekly"]
    assert [d.working for d in days] == [True, False, False, True]
    assert days[1].reason == "Penutupan: Renovasi kantor"
    assert days[1].rule_id == 42
    assert days[1].opens is None and days[1].closes is None


def test_override_changes_hours(city: list[CalendarRule]) -> None:
    override = CalendarRule(
        kind="override",
        opens=time(8, 0),
        closes=time(12, 0),
        start=date(2026, 11, 26),
        end=date(2026, 11, 26),
        reason="Surat Edaran Wali Kota No. 123",
        id=7,
    )
    rules = [*city, override]
    validate_rules(rules)
    s = schedule_for_day(rules, date(2026, 11, 26))
    assert_working(s, time(8, 0), time(12, 0), "override")
    assert s.reason == "Perubahan jam: Surat Edaran Wali Kota No. 123"
    assert s.rule_id == 7
    assert_working(schedule_for_day(rules, date(2026, 11, 25)), time(7, 30), time(16, 0), "weekly")


def test_override_beats_holiday(city: list[CalendarRule]) -> None:
    override = CalendarRule(
        kind="override",
        opens=time(7, 0),
        closes=time(11, 0),
        start=date(2026, 8, 17),
        end=date(2026, 8, 17),
        reason="Upacara HUT RI",
    )
    s = schedule_for_day([*city, override], date(2026, 8, 17))
    assert_working(s, time(7, 0), time(11, 0), "override")
    assert s.holiday_name == "Hari Kemerdekaan Republik Indonesia"


def test_closure_beats_override() -> None:
    day = date(2026, 11, 26)
    override = CalendarRule(
        kind="override", opens=time(8, 0), closes=time(12, 0), start=day, end=day
    )
    closure = CalendarRule(kind="closure", start=day, end=day, reason="Banjir", level=1)
    assert_closed(schedule_for_day([override, closure], day), "closure")


def test_site_weekly_beats_city_weekly(city: list[CalendarRule]) -> None:
    site = CalendarRule(
        kind="weekly",
        weekdays=frozenset({0, 1, 2, 3, 4, 5}),
        opens=time(6, 0),
        closes=time(18, 0),
        level=1,
        id=99,
    )
    rules = [*city, site]
    validate_rules(rules)
    s = schedule_for_day(rules, date(2026, 11, 23))
    assert_working(s, time(6, 0), time(18, 0), "weekly")
    assert s.rule_id == 99
    # Saturday is covered only by the site rule.
    assert_working(schedule_for_day(rules, date(2026, 11, 28)), time(6, 0), time(18, 0), "weekly")
    assert_closed(schedule_for_day(rules, date(2026, 11, 29)), "no_hours")


def test_override_with_weekdays_applies_only_on_those_days() -> None:
    override = CalendarRule(
        kind="override",
        weekdays=frozenset({4}),
        opens=time(7, 0),
        closes=time(10, 0),
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
    )
    assert schedule_for_day([override], date(2026, 11, 27)).rule == "override"
    assert schedule_for_day([override], date(2026, 11, 26)).rule == "no_hours"


def test_no_rules_means_no_hours() -> None:
    assert_closed(schedule_for_day([], date(2026, 11, 23)), "no_hours")


def test_weekdays_given_as_list_are_normalised() -> None:
    rule = CalendarRule(kind="weekly", weekdays=[0, 1], opens=time(8), closes=time(9))  # type: ignore[arg-type]
    assert rule.weekdays == frozenset({0, 1})
    validate_rule(rule)
    hash(rule)


# --- bad input -------------------------------------------------------------------------------


def _ramadan(start: date | None, end: date | None, **kw: object) -> CalendarRule:
    fields: dict[str, object] = {
        "kind": "ramadan",
        "weekdays": MON_THU,
        "opens": time(8, 0),
        "closes": time(15, 0),
        "start": start,
        "end": end,
    }
    fields.update(kw)
    return CalendarRule(**fields)  # type: ignore[arg-type]


def test_ramadan_end_before_start() -> None:
    with pytest.raises(CalendarError) as exc:
        validate_rules([_ramadan(date(2026, 3, 20), date(2026, 2, 19))])
    assert exc.value.field is not None and "end" in exc.value.field
    assert exc.value.field == "rules[0].end"


@pytest.mark.parametrize("closes", [time(8, 0), time(7, 0)])
def test_opens_not_before_closes(closes: time) -> None:
    rule = CalendarRule(kind="weekly", weekdays=MON_THU, opens=time(8, 0), closes=closes)
    with pytest.raises(CalendarError) as exc:
        validate_rule(rule)
    assert exc.value.field == "rule.closes"


def test_closure_with_hours() -> None:
    rule = CalendarRule(
        kind="closure", opens=time(8, 0), start=date(2026, 1, 5), end=date(2026, 1, 5)
    )
    with pytest.raises(CalendarError) as exc:
        validate_rule(rule)
    assert exc.value.field == "rule.opens"


def test_weekly_without_weekdays() -> None:
    with pytest.raises(CalendarError) as exc:
        validate_rule(CalendarRule(kind="weekly", opens=time(8, 0), closes=time(15, 0)))
    assert exc.value.field == "rule.weekdays"


@pytest.mark.parametrize("bad", [7, -1, True])
def test_bad_weekday(bad: object) -> None:
    rule = CalendarRule(
        kind="weekly",
        weekdays=frozenset({0, bad}),  # type: ignore[arg-type]
        opens=time(8, 0),
        closes=time(15, 0),
    )
    with pytest.raises(CalendarError) as exc:
        validate_rules([rule])
    assert exc.value.field == "rules[0].weekdays"


def test_ramadan_without_dates() -> None:
    with pytest.raises(CalendarError) as exc:
        validate_rule(_ramadan(None, None))
    assert exc.value.field == "rule.start"
    with pytest.raises(CalendarError) as exc:
        validate_rule(_ramadan(date(2026, 2, 19), None))
    assert exc.value.field == "rule.end"


def test_override_without_hours() -> None:
    rule = CalendarRule(kind="override", start=date(2026, 1, 5), end=date(2026, 1, 5))
    with pytest.raises(CalendarError) as exc:
        validate_rule(rule)
    assert exc.value.field == "rule.opens"


def test_unknown_kind() -> None:
    with pytest.raises(CalendarError) as exc:
        validate_rule(CalendarRule(kind="shift", weekdays=MON_THU))  # type: ignore[arg-type]
    assert exc.value.field == "rule.kind"


def test_overlapping_ramadan_rules_same_level() -> None:
    a = _ramadan(date(2026, 2, 19), date(2026, 3, 20))
    b = _ramadan(date(2026, 3, 1), date(2026, 3, 30), weekdays=frozenset({3, 4}))
    with pytest.raises(CalendarError) as exc:
        validate_rules([a, b])
    msg = str(exc.value)
    assert "rules[0]" in msg and "rules[1]" in msg
    assert "2026-02-19..2026-03-20" in msg and "2026-03-01..2026-03-30" in msg
    assert "on Thu within 2026-03-01..2026-03-20" in msg
    assert exc.value.field == "rules[1]"


def test_same_range_disjoint_weekdays_ok() -> None:
    validate_rules(
        [
            _ramadan(date(2026, 2, 19), date(2026, 3, 20)),
            _ramadan(date(2026, 2, 19), date(2026, 3, 20), weekdays=FRI, closes=time(15, 30)),
        ]
    )


def test_same_range_different_levels_ok() -> None:
    validate_rules(
        [
            _ramadan(date(2026, 2, 19), date(2026, 3, 20)),
            _ramadan(date(2026, 2, 19), date(2026, 3, 20), level=1),
        ]
    )


def test_open_ended_weekly_rules_overlap() -> None:
    a = CalendarRule(kind="weekly", weekdays=MON_THU, opens=time(8), closes=time(15))
    b = CalendarRule(
        kind="weekly",
        weekdays=frozenset({0}),
        opens=time(9),
        closes=time(15),
        start=date(2027, 1, 1),
    )
    with pytest.raises(CalendarError, match="Mon"):
        validate_rules([a, b])


def test_empty_weekdays_overlap_all_days() -> None:
    a = CalendarRule(kind="closure", start=date(2026, 1, 5), end=date(2026, 1, 9))
    b = CalendarRule(
        kind="closure", weekdays=frozenset({2}), start=date(2026, 1, 1), end=date(2026, 1, 7)
    )
    with pytest.raises(CalendarError, match="Wed"):
        validate_rules([a, b])


def test_short_ranges_without_shared_real_weekday_do_not_overlap() -> None:
    # Both cover only Mon 2026-01-05; b's Tuesday never occurs in that span.
    a = CalendarRule(kind="closure", start=date(2026, 1, 5), end=date(2026, 1, 5))
    b = CalendarRule(
        kind="closure", weekdays=frozenset({1}), start=date(2026, 1, 5), end=date(2026, 1, 5)
    )
    validate_rules([a, b])


def test_disjoint_date_ranges_ok() -> None:
    validate_rules(
        [
            _ramadan(date(2025, 3, 1), date(2025, 3, 30)),
            _ramadan(date(2026, 2, 19), date(2026, 3, 20)),
        ]
    )


def test_schedule_range_end_before_start(city: list[CalendarRule]) -> None:
    with pytest.raises(CalendarError) as exc:
        schedule_range(city, date(2026, 11, 30), date(2026, 11, 1))
    assert exc.value.field == "end"


def test_schedule_range_limit(city: list[CalendarRule]) -> None:
    start = date(2026, 1, 1)
    assert len(schedule_range(city, start, date(2026, 12, 31))) == 365
    assert len(schedule_range(city, start, start)) == 1
    with pytest.raises(CalendarError):
        schedule_range(city, start, date(2027, 2, 5))  # 402 days
    assert MAX_RANGE_DAYS == 400


def test_format_hhmm() -> None:
    assert format_hhmm(time(7, 30)) == "07.30"
    assert format_hhmm(time(16, 0)) == "16.00"
