"""The words for schedules, in the viewer's (or, in a worker, the forced) language."""
from datetime import time as clock
from types import SimpleNamespace

from babel.dates import format_time, get_day_names
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

from ..exporting import debtor_selection

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


DEBTORS_NAMED = 5   # a schedule's name lists this many of its debtors, then "and N more"


def snapshot(schedule):
    """What names ``schedule``, as plain values: the audit log keeps it (a later change or delete does not
    rewrite history) and ``name_of`` words it in the reader's language when shown."""
    params = schedule.params or {}
    texts = debtor_selection.texts(params)
    return {"id": schedule.id, "frequency": schedule.frequency, "hour": schedule.hour, "minute": schedule.minute,
            "weekday": schedule.weekday, "day": schedule.day, "window": schedule.window,
            "booking_date_rule": params.get("booking_date_rule") or "",
            "description": params.get("description") or "", "debtors": texts[:DEBTORS_NAMED],
            "debtor_count": len(texts)}


def debtors_text(texts, total=None, limit=DEBTORS_NAMED):
    """``ZORG/10001, ZORG/10002`` — at most ``limit`` of them, then "and N more" (of ``total`` in all)."""
    texts = list(texts or [])
    total = max(total or 0, len(texts))
    if total <= limit:
        return ", ".join(texts)
    return _("%(debtors)s and %(count)s more", debtors=", ".join(texts[:limit]), count=total - limit)


def name_of(values):
    """A schedule (its ``snapshot``) as the pages name it: when it runs, its time window, and what tells
    it from a schedule with the same timetable — its description and debtors. E.g.
    "Daily at 13:19 · Previous day · “Zorg” · debtors ZORG/10001"."""
    values = values or {}
    rule = SimpleNamespace(frequency=values.get("frequency"), hour=values.get("hour") or 0,
                           minute=values.get("minute") or 0, weekday=values.get("weekday"), day=values.get("day"))
    parts = [describe(rule)]
    if values.get("window"):
        parts.append(str(WINDOW_LABELS.get(values["window"], values["window"])))
    if values.get("description"):
        parts.append(f"“{values['description']}”")
    if values.get("debtors"):
        parts.append(_("debtors %(debtors)s", debtors=debtors_text(values["debtors"], values.get("debtor_count"))))
    return " · ".join(parts)


def details(schedule, takes, limit=None):
    """What else tells ``schedule`` from another with the same timetable, for the list and the Delete
    confirmation: [(label, value)] — its booking date rule, description and debtor selection, those the
    profile's export type takes (``takes``). ``limit``: at most this many debtors named, then "and N more"."""
    params = schedule.params or {}
    found = []
    if "booking_date" in takes:
        rule = params.get("booking_date_rule") or "window_end"
        found.append((_("Booking date"), str(BOOKING_DATE_RULE_LABELS.get(rule, rule))))
    if "description" in takes and params.get("description"):
        found.append((_("Description"), params["description"]))
    if "debtors" in takes:
        texts = debtor_selection.texts(params)
        found.append((_("Debtor selection"), (debtors_text(texts, limit=limit) if limit else ", ".join(texts))
                      if texts else _("All debtors")))
    return found


def name(schedule):
    """``schedule`` as the pages name it (``name_of``)."""
    return name_of(snapshot(schedule))


def started_by(start):
    """"Started by: schedule …" for a run a schedule made."""
    return _("Started by: schedule %(schedule)s", schedule=name(start.schedule))


def by_schedule(start):
    """The "Started by" cell of a run a schedule made: "schedule …" (and late, when it was)."""
    text = _("schedule %(schedule)s", schedule=name(start.schedule))
    return text + " (" + _("late") + ")" if start.late else text


def who_started(run, start):
    """The "Started by" of a run: the schedule that made it (``start``), else the person, else ""."""
    if start is not None:
        return by_schedule(start)
    return run.started_by.name if run.started_by else ""
