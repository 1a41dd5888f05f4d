"""A schedule's timetable: plain date arithmetic in the organisation's time zone (no Flask, no database).

A start is a wall-clock time on the days the frequency names (daily; weekly on a weekday; monthly on a
day, 0 meaning the last day; quarterly on a day of the quarter's first month). A day past the end of a
short month (the 31st in April) is that month's last day.

Daylight saving (DESIGN §5, issue 12):
- a start in the skipped hour (the clocks jump forward) runs at the first valid minute after it, the
  moment the clocks jump (02:30 on the last Sunday of March in Amsterdam runs at 03:00 CEST);
- a start in the repeated hour (the clocks go back) runs once, at the first of the two (summer time).

Every instant in and out is a naive UTC ``datetime``, as the database stores them.
"""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

FREQUENCIES = ("daily", "weekly", "monthly", "quarterly")
LAST_DAY = 0
# The time window relative to the start's local date (both ends inclusive).
WINDOWS = ("previous_day", "previous_week", "previous_month", "previous_quarter", "month_to_date",
           "quarter_to_date")


@dataclass(frozen=True)
class Rule:
    frequency: str
    hour: int
    minute: int
    weekday: int | None = None        # weekly: 0 = Monday … 6 = Sunday
    day: int | None = None            # monthly and quarterly: 1–31, or LAST_DAY

    def check(self):
        """A list of problem codes (empty when the rule is valid)."""
        problems = []
        if self.frequency not in FREQUENCIES:
            problems.append("frequency")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            problems.append("time")
        if self.frequency == "weekly" and (self.weekday is None or not 0 <= self.weekday <= 6):
            problems.append("weekday")
        if self.frequency in ("monthly", "quarterly") and (self.day is None or not 0 <= self.day <= 31):
            problems.append("day")
        return problems


def _last_day(year, month):
    return calendar.monthrange(year, month)[1]


def _matches(rule, day):
    if rule.frequency == "daily":
        return True
    if rule.frequency == "weekly":
        return day.weekday() == rule.weekday
    if rule.frequency == "quarterly" and day.month not in (1, 4, 7, 10):
        return False
    last = _last_day(day.year, day.month)
    wanted = last if rule.day == LAST_DAY else min(rule.day, last)
    return day.day == wanted


def _to_utc(local_day, rule, tz):
    """The UTC instant of the rule's wall-clock time on ``local_day`` (see the module's DST rules)."""
    wall = datetime.combine(local_day, time(rule.hour, rule.minute))
    first = wall.replace(tzinfo=tz, fold=0)
    utc = first.astimezone(timezone.utc)
    if utc.astimezone(tz).replace(tzinfo=None) == wall:
        return utc.replace(tzinfo=None)            # exists (fold=0: the first of a repeated hour)
    # In the gap: fold=1 maps with the offset after the change, fold=0 with the one before; the jump lies
    # between the two. The first valid minute after the wall time is the jump itself.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)
    high = utc
    moment = low
    while moment <= high:
        if moment.astimezone(tz).replace(tzinfo=None) > wall:
            return moment.replace(tzinfo=None)
        moment += timedelta(minutes=1)
    return high.replace(tzinfo=None)


def starts_after(rule, after, tz, days=5 * 366):
    """Yield the start instants (naive UTC) strictly after ``after`` (naive UTC), in order."""
    local_day = after.replace(tzinfo=timezone.utc).astimezone(tz).date() - timedelta(days=1)
    for _ in range(days):
        if _matches(rule, local_day):
            instant = _to_utc(local_day, rule, tz)
            if instant > after:
                yield instant
        local_day += timedelta(days=1)


def next_start(rule, after, tz):
    """The first start strictly after ``after`` (naive UTC)."""
    return next(starts_after(rule, after, tz))


def latest_due(rule, first_due, now, tz):
    """The last start at or before ``now``, from ``first_due`` (itself due) on: when several starts were
    missed while no worker ran, only the latest is made up (once)."""
    latest = first_due
    for instant in starts_after(rule, first_due, tz):
        if instant > now:
            break
        latest = instant
    return latest


def local_day_of(instant, tz):
    return instant.replace(tzinfo=timezone.utc).astimezone(tz).date()


def window_for(kind, start_day):
    """The time window (first day, last day) of a start on ``start_day`` (a local date)."""
    if kind == "previous_day":
        day = start_day - timedelta(days=1)
        return day, day
    if kind == "previous_week":
        monday = start_day - timedelta(days=start_day.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if kind == "previous_month":
        end = start_day.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    quarter_first = date(start_day.year, 3 * ((start_day.month - 1) // 3) + 1, 1)
    if kind == "previous_quarter":
        end = quarter_first - timedelta(days=1)
        return date(end.year, end.month - 2, 1), end
    if kind == "month_to_date":
        return start_day.replace(day=1), start_day
    if kind == "quarter_to_date":
        return quarter_first, start_day
    raise ValueError(kind)
