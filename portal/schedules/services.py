"""Schedules: create, change, pause and resume; and the tick that starts what is due.

The tick (``run_due_schedules``) runs in the worker, periodically. A start is made exactly once whatever
the number of workers: the run's idempotency key is the schedule and the start time (unique in
``runs``), and the start itself is a row with a unique (schedule, start time) key. A start missed while
no worker ran is made up once, for the latest missed start only, and says it was late. Runs are started
only through ``portal.exporting.services.start_run``.
"""
import logging
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..exporting import debtor_selection, services as engine
from ..exporting.errors import ExportError
from ..exporting.messages import stored_text
from ..exporting.types import get_type
from ..extensions import db
from ..i18n import org_timezone
from ..models import utcnow
from ..models.exporting import ExportProfile, Run, RunMode
from . import labels, timetable
from .models import Schedule, ScheduleStart

log = logging.getLogger(__name__)

BOOKING_DATE_RULES = ("window_end", "start_day")


def rule_of(schedule):
    return timetable.Rule(schedule.frequency, schedule.hour, schedule.minute, schedule.weekday, schedule.day)


def schedules_of(profile_id):
    return db.session.execute(select(Schedule).where(Schedule.profile_id == profile_id)
                              .order_by(Schedule.id)).scalars().all()


def get_schedule(profile_id, schedule_id):
    schedule = db.session.get(Schedule, schedule_id)
    if schedule is None or schedule.profile_id != profile_id:
        return None
    return schedule


def _check(profile, *, frequency, hour, minute, weekday, day, window, mode, params):
    rule = timetable.Rule(frequency, hour, minute, weekday if frequency == "weekly" else None,
                          day if frequency in ("monthly", "quarterly") else None)
    problems = rule.check()
    if "frequency" in problems:
        raise ExportError(_l("Choose how often the export runs."), code="schedule_frequency")
    if "time" in problems:
        raise ExportError(_l("Enter a time of day between 00:00 and 23:59."), code="schedule_time")
    if "weekday" in problems:
        raise ExportError(_l("Choose the day of the week."), code="schedule_weekday")
    if "day" in problems:
        raise ExportError(_l("Choose a day of the month between 1 and 31, or the last day."),
                          code="schedule_day")
    if window not in timetable.WINDOWS:
        raise ExportError(_l("Choose the time window."), code="schedule_window")
    if mode not in {m.value for m in RunMode}:
        raise ExportError(_l("Choose test or production."), code="unknown_mode")
    if profile.archived:
        raise ExportError(_l("The export profile %(name)s is archived."), code="profile_archived",
                          name=profile.name)
    clean = {}
    accepted = get_type(profile.export_type).accepted_params
    if "booking_date" in accepted:
        rule_name = (params or {}).get("booking_date_rule") or "window_end"
        if rule_name not in BOOKING_DATE_RULES:
            raise ExportError(_l("Choose the booking date."), code="schedule_booking_date")
        clean["booking_date_rule"] = rule_name
    description = ((params or {}).get("description") or "").strip()
    if description and "description" in accepted:
        clean["description"] = engine.check_description(description)
    # Each debtor by its company and number (``debtor_selection``); ``debtor_numbers``: the older name.
    debtors = (params or {}).get("debtors") or (params or {}).get("debtor_numbers")
    if debtors and "debtors" in accepted:
        clean["debtors"] = engine._check_debtors(debtors, profile.company_id)
    return rule, clean


def debtor_texts(schedule):
    """The schedule's debtor selection as its form writes it: ``CODE/number`` each."""
    return debtor_selection.texts(schedule.params)


def save_schedule(profile_id, *, schedule_id=None, user=None, locale=None, now=None, frequency, hour, minute=0,
                  weekday=None, day=None, window, mode="test", params=None, form_token=None):
    """Create (or change) a schedule. Raises ExportError (translatable) on bad input; nothing changes.

    ``form_token``: the New schedule form's one-time token. A schedule already created with it (the same
    form sent twice) is refused with the code ``schedule_already_saved``, and nothing more is created."""
    now = now or utcnow()
    profile = db.session.get(ExportProfile, profile_id)
    if profile is None:
        raise ExportError(_l("Export profile %(profile)s does not exist."), code="unknown_profile",
                          profile=profile_id)
    if schedule_id is None and form_token and _made_with(form_token):
        raise _already_saved()
    rule, clean = _check(profile, frequency=frequency, hour=hour, minute=minute, weekday=weekday, day=day,
                         window=window, mode=mode, params=params)
    if schedule_id is None:
        schedule = Schedule(profile_id=profile.id, created_by_id=getattr(user, "id", user),
                            form_token=form_token or None)
        db.session.add(schedule)
    else:
        schedule = get_schedule(profile.id, schedule_id)
        if schedule is None:
            raise ExportError(_l("That schedule does not exist."), code="unknown_schedule")
    schedule.frequency, schedule.hour, schedule.minute = rule.frequency, rule.hour, rule.minute
    schedule.weekday, schedule.day = rule.weekday, rule.day
    schedule.window, schedule.mode, schedule.params = window, mode, clean
    schedule.locale = _locale(user, locale)
    schedule.next_start_at = None if schedule.paused else timetable.next_start(rule, now, org_timezone())
    try:
        db.session.flush()   # the new schedule's id, for the audit log; a token taken meanwhile fails here
        _audit(user, "schedule.create" if schedule_id is None else "schedule.update", schedule)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if schedule_id is None and form_token and _made_with(form_token):
            raise _already_saved() from None
        raise
    return schedule


def _made_with(form_token):
    return db.session.execute(select(Schedule.id).where(Schedule.form_token == form_token)).scalar()


def _already_saved():
    return ExportError(_l("This schedule is already saved: the form was sent twice. No second schedule was "
                          "made."), code="schedule_already_saved")


def _audit(user, action, schedule):
    """The audit log's entry for ``schedule``: named as it is now (``labels.snapshot``), test or production."""
    audit.record(user, action, schedule, schedule=labels.snapshot(schedule), mode=schedule.mode)


def _locale(user, locale):
    """The language of the schedule's runs (their reports): the one the page was in, else the user's."""
    languages = current_app.config["LANGUAGES"]
    if locale in languages:
        return locale
    if getattr(user, "locale", None) in languages:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def set_paused(profile_id, schedule_id, paused, *, now=None, user=None):
    """Pause or resume. Resuming starts from the next start after now: nothing missed is made up."""
    schedule = get_schedule(profile_id, schedule_id)
    if schedule is None:
        raise ExportError(_l("That schedule does not exist."), code="unknown_schedule")
    schedule.paused = bool(paused)
    schedule.next_start_at = None if paused else timetable.next_start(rule_of(schedule), now or utcnow(),
                                                                       org_timezone())
    _audit(user, "schedule.pause" if paused else "schedule.resume", schedule)
    db.session.commit()
    return schedule


def delete_schedule(profile_id, schedule_id, *, user=None):
    schedule = get_schedule(profile_id, schedule_id)
    if schedule is None:
        raise ExportError(_l("That schedule does not exist."), code="unknown_schedule")
    _audit(user, "schedule.delete", schedule)
    db.session.delete(schedule)  # its starts go with it (their foreign key: ON DELETE CASCADE)
    db.session.commit()


def late_after():
    return timedelta(seconds=float(current_app.config.get("SCHEDULE_LATE_SECONDS", 600)))


def run_due_schedules(now=None):
    """The tick: start every schedule whose start is due at ``now`` (naive UTC; the injectable clock).
    Returns the ``ScheduleStart`` rows this call wrote."""
    now = now or utcnow()
    due_ids = db.session.execute(
        select(Schedule.id).where(Schedule.paused.is_(False), Schedule.next_start_at <= now)
        .order_by(Schedule.next_start_at, Schedule.id)).scalars().all()
    made = []
    for schedule_id in due_ids:
        try:
            start = _start_due(schedule_id, now)
        except Exception:   # one schedule's trouble must not stop the others; it is retried next tick
            db.session.rollback()
            log.exception("schedule %s: the start failed; tried again on the next tick", schedule_id)
            continue
        if start is not None:
            made.append(start)
    return made


def _start_due(schedule_id, now):
    schedule = db.session.get(Schedule, schedule_id)
    if schedule is None:
        return None           # deleted meanwhile
    db.session.refresh(schedule)
    if schedule.paused or schedule.next_start_at is None or schedule.next_start_at > now:
        return None
    tz = org_timezone()
    rule = rule_of(schedule)
    planned = schedule.next_start_at
    due = timetable.latest_due(rule, planned, now, tz)
    late = now - due > late_after()
    window_start, window_end = timetable.window_for(schedule.window, timetable.local_day_of(due, tz))
    params = dict(schedule.params or {})
    booking_rule = params.pop("booking_date_rule", None)
    booking_date = None
    if booking_rule == "window_end":
        booking_date = window_end
    elif booking_rule == "start_day":
        booking_date = timetable.local_day_of(due, tz)
    key = f"schedule-{schedule.id}-{due:%Y%m%dT%H%M}"
    run, code, reason, message = None, None, None, None
    try:
        with force_locale(schedule.locale):
            run = engine.start_run(
                schedule.profile_id, user=None, mode=schedule.mode, operation="prepare_and_export",
                window_start=window_start, window_end=window_end, booking_date=booking_date,
                description=params.get("description"), debtors=debtor_selection.stored(params),
                idempotency_key=key, locale=schedule.locale, schedule=labels.snapshot(schedule))
    except ExportError as exc:
        db.session.rollback()
        code, message = exc.code, exc.stored()
        with force_locale(schedule.locale):
            reason = stored_text(message)
        log.warning("schedule %s: the start at %s was skipped: %s", schedule.id, due, code)
    start = ScheduleStart(schedule_id=schedule.id, due_at=due, run_id=run.id if run else None,
                          state="started" if run else "skipped", code=code, reason=reason,
                          reason_message=message, late=late)
    db.session.add(start)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()     # another worker recorded this start: it is theirs
        start = None
    # Move on to the first start after now (compare-and-set: two workers move it once).
    following = timetable.next_start(rule, max(now, due), tz)
    db.session.execute(update(Schedule).where(Schedule.id == schedule_id, Schedule.next_start_at == planned)
                       .values(next_start_at=following))
    db.session.commit()
    if start is not None:
        log.info("schedule %s: start at %s %s (run %s%s)", schedule_id, due, start.state, start.run_id,
                 ", late" if late else "")
    return start


def start_of_run(run_id):
    """The schedule start that made ``run_id``, or None (a person started it)."""
    return db.session.execute(select(ScheduleStart).where(ScheduleStart.run_id == run_id)).scalar()


def started_by_a_schedule():
    """A condition on ``Run``: only runs a schedule started (the overview's filter)."""
    return Run.id.in_(select(ScheduleStart.run_id).where(ScheduleStart.run_id.is_not(None)))


def starts_of_runs(run_ids):
    """{run id: ScheduleStart} for those of ``run_ids`` that a schedule started (one query)."""
    if not run_ids:
        return {}
    rows = db.session.execute(select(ScheduleStart).where(ScheduleStart.run_id.in_(list(run_ids)))).scalars()
    return {row.run_id: row for row in rows}


def recent_starts(profile_id, limit=10):
    return db.session.execute(
        select(ScheduleStart).join(Schedule).where(Schedule.profile_id == profile_id)
        .order_by(ScheduleStart.due_at.desc(), ScheduleStart.id.desc()).limit(limit)).scalars().all()
