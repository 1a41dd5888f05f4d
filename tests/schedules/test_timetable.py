"""The timetable's arithmetic (no database): frequencies, last day of the month, quarters, the windows,
and daylight saving in Europe/Amsterdam (2027: forward on 28 March 02:00, back on 31 October 03:00)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from portal.schedules.timetable import LAST_DAY, Rule, latest_due, next_start, starts_after, window_for

AMS = ZoneInfo("Europe/Amsterdam")


def _starts(rule, after, count):
    made = []
    for instant in starts_after(rule, after, AMS):
        made.append(instant)
        if len(made) == count:
            return made
    return made


def test_monthly_on_the_third_at_six_local_stored_in_utc():
    rule = Rule("monthly", 6, 0, day=3)
    assert _starts(rule, datetime(2026, 11, 26, 12), 3) == [
        datetime(2026, 12, 3, 5, 0), datetime(2027, 1, 3, 5, 0), datetime(2027, 2, 3, 5, 0)]
    # Summer time: 06:00 CEST is 04:00 UTC.
    assert next_start(rule, datetime(2027, 5, 10), AMS) == datetime(2027, 6, 3, 4, 0)


def test_last_day_and_a_day_past_the_end_of_a_short_month():
    assert _starts(Rule("monthly", 23, 30, day=LAST_DAY), datetime(2027, 1, 15), 3) == [
        datetime(2027, 1, 31, 22, 30), datetime(2027, 2, 28, 22, 30), datetime(2027, 3, 31, 21, 30)]
    # The 31st in a 30-day month is its last day.
    assert _starts(Rule("monthly", 8, 0, day=31), datetime(2027, 4, 1), 2) == [
        datetime(2027, 4, 30, 6, 0), datetime(2027, 5, 31, 6, 0)]


def test_weekly_daily_and_quarterly():
    assert _starts(Rule("weekly", 7, 15, weekday=0), datetime(2026, 11, 26), 2) == [
        datetime(2026, 11, 30, 6, 15), datetime(2026, 12, 7, 6, 15)]
    assert _starts(Rule("daily", 1, 0), datetime(2026, 11, 26, 12), 2) == [
        datetime(2026, 11, 27, 0, 0), datetime(2026, 11, 28, 0, 0)]
    assert _starts(Rule("quarterly", 6, 0, day=5), datetime(2026, 11, 26), 3) == [
        datetime(2027, 1, 5, 5, 0), datetime(2027, 4, 5, 4, 0), datetime(2027, 7, 5, 4, 0)]


def test_a_start_in_the_skipped_hour_runs_at_the_first_valid_minute_after_it():
    # 02:30 does not exist on 28 March 2027: the clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
    starts = _starts(Rule("daily", 2, 30), datetime(2027, 3, 26, 12), 3)
    assert starts == [datetime(2027, 3, 27, 1, 30), datetime(2027, 3, 28, 1, 0), datetime(2027, 3, 29, 0, 30)]
    assert starts[1].replace(tzinfo=ZoneInfo("UTC")).astimezone(AMS).strftime("%H:%M %Z") == "03:00 CEST"


def test_a_start_in_the_repeated_hour_runs_once_at_the_first():
    # 02:30 happens twice on 31 October 2027 (CEST, then CET): one start, the first (00:30 UTC).
    starts = _starts(Rule("daily", 2, 30), datetime(2027, 10, 30, 12), 2)
    assert starts == [datetime(2027, 10, 31, 0, 30), datetime(2027, 11, 1, 1, 30)]


def test_only_the_latest_missed_start_is_due():
    rule = Rule("daily", 6, 0)
    # Three starts missed (27, 28, 29 November): the latest is made up.
    assert latest_due(rule, datetime(2026, 11, 27, 5), datetime(2026, 11, 29, 9), AMS) == datetime(2026, 11, 29, 5)
    assert latest_due(rule, datetime(2026, 11, 27, 5), datetime(2026, 11, 27, 5), AMS) == datetime(2026, 11, 27, 5)


def test_windows_relative_to_the_start_day():
    day = date(2027, 1, 3)   # a Sunday
    assert window_for("previous_day", day) == (date(2027, 1, 2), date(2027, 1, 2))
    assert window_for("previous_week", day) == (date(2026, 12, 21), date(2026, 12, 27))
    assert window_for("previous_month", day) == (date(2026, 12, 1), date(2026, 12, 31))
    assert window_for("previous_quarter", day) == (date(2026, 10, 1), date(2026, 12, 31))
    assert window_for("month_to_date", day) == (date(2027, 1, 1), day)
    assert window_for("quarter_to_date", date(2027, 5, 20)) == (date(2027, 4, 1), date(2027, 5, 20))


def test_invalid_rules_are_named():
    assert Rule("hourly", 6, 0).check() == ["frequency"]
    assert Rule("daily", 24, 0).check() == ["time"]
    assert Rule("weekly", 6, 0, weekday=7).check() == ["weekday"]
    assert Rule("monthly", 6, 0, day=32).check() == ["day"]
