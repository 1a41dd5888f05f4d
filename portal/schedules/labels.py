"""The words for schedules, in the viewer's (or, in a worker, the forced) language."""
from datetime import time as clock

from babel.dates import format_time, get_day_names
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

FREQUENCY_LABELS = {"daily": _l("Daily"), "weekly": _l("Weekly"), "monthly": _l("Monthly"),
                    "quarterly": _l("Quarterly")}
WINDOW_LABELS = {
    "previous_day": _l("Previous day"), "previous_week": _l("Previous week (Monday to Sunday)"),
    "previous_month": _l("Previous month"), "previous_quarter": _l("Previous quarter"),
    "month_to_date": _l("Month to date (up to and including the start day)"),
    "quarter_to_date": _l("Quarter to date (up to and including the start day)"),
}
BOOKING_DATE_RULE_LABELS = {"window_end": _l("The last day of the time window"),
                            "start_day": _l("The day of the start")}


def weekday_names():
    names = get_day_names("wide", locale=get_locale())
    return [(i, names[i]) for i in range(7)]


def time_of_day(hour, minute):
    """The locale's own short time of day (Danish "22.50", the others "22:50")."""
    return format_time(clock(hour, minute), "short", locale=get_locale() or "en_GB")


def describe(schedule):
    """E.g. "Monthly on day 3 at 06:00", in the current language."""
    # The locale's own time of day, as every page writes times (Danish "22.50", not "22:50").
    time = time_of_day(schedule.hour, schedule.minute)
    if schedule.frequency == "daily":
        return _("Daily at %(time)s", time=time)
    if schedule.frequency == "weekly":
        return _("Weekly on %(weekday)s at %(time)s", weekday=dict(weekday_names()).get(schedule.weekday, ""),
                 time=time)
    if schedule.frequency == "monthly":
        if not schedule.day:
            return _("Monthly on the last day at %(time)s", time=time)
        return _("Monthly on day %(day)s at %(time)s", day=schedule.day, time=time)
    if not schedule.day:
        return _("Quarterly on the last day of the quarter's first month at %(time)s", time=time)
    return _("Quarterly on day %(day)s of the quarter's first month at %(time)s", day=schedule.day, time=time)


def started_by(start):
    """"Started by: schedule …" for a run a schedule made."""
    return _("Started by: schedule %(schedule)s", schedule=describe(start.schedule))


def by_schedule(start):
    """The "Started by" cell of a run a schedule made: "schedule …" (and late, when it was)."""
    text = _("schedule %(schedule)s", schedule=describe(start.schedule))
    return text + " (" + _("late") + ")" if start.late else text


def who_started(run, start):
    """The "Started by" of a run: the schedule that made it (``start``), else the person, else ""."""
    if start is not None:
        return by_schedule(start)
    return run.started_by.name if run.started_by else ""
