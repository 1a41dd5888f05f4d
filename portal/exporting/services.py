"""The engine's commands: everything that changes profiles and runs (start, cancel, export, process,
roll back, edit prepared data, resume a stopped sync, profiles). What views, the CLI, jobs and other
features call to change something; every read is in ``queries.py``. No ``request`` in here.

Every refusal is an ``ExportError`` with a translatable message; nothing is changed when one is raised.
"""
import dataclasses
import logging
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..i18n import org_timezone
from ..models import Company, User, utcnow
from ..models.exporting import (
    ExportProfile, MappingHistoryEntry, Operation, PreparedRow, ReportItem, Run, RunMode, RunStatus, Severity,
    SyncType,
)
from ..schedules.models import Schedule
from ..validation import has_visible_text, name_key
from . import debtor_selection, jobs, queries, sync, windows
from .errors import ExportError
from .formats.base import FormatError, FormatOptions
from .messages import status_label
from .providers import get_provider, visma_net
from .scheduling import resolve_local
from .states import EXPORTABLE_STATUSES, transition
from .types import get_type
from .types.base import SourceContext

log = logging.getLogger(__name__)

# --- profiles -----------------------------------------------------------------------------------

def create_profile(*, name, export_type, provider="file", options=None, sync_type="full", company_id=None,
                   default_window="previous_month", user=None):
    profile = ExportProfile(created_by_id=_user_id(user), updated_by_id=_user_id(user))
    _apply_profile(profile, name=name, export_type=export_type, provider=provider, options=options or {},
                   sync_type=sync_type, company_id=company_id, default_window=default_window)
    db.session.add(profile)
    with _name_guard(profile.name):
        db.session.flush()
        audit.record(user, "profile.create", profile)
        db.session.commit()
    return profile


class _name_guard:
    """Another session that took the name between the check and the commit: the database's unique index
    refuses it (``uq_export_profiles_name_in_use``); the user gets the same message as from the check."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback):
        if isinstance(error, IntegrityError) and "uq_export_profiles_name_in_use" in str(error):
            db.session.rollback()
            raise ExportError(NAME_TAKEN, code="name_taken", name=self.name) from None
        return False


SETTINGS_FIXED = _l("The export type and the provider of this export profile cannot be changed: it has production "
                    "exports, or an export that has not finished, that depend on them. To export other data or to "
                    "another provider, create a new export profile; this one can be archived.")
SETTINGS_FIXED_VISMA = _l("The export type, the provider and the integration account of this export profile cannot be "
                          "changed: it has production exports, or an export that has not finished, that depend on "
                          "them. To export other data or to another provider or account, create a new export "
                          "profile; this one can be archived.")


def _account_of(provider, options):
    return (options or {}).get("account_id") if provider == "visma_net" else None


def fixed_settings_reason(profile):
    """Why the profile's fixed settings cannot change, in the user's language (for the form's hint)."""
    return SETTINGS_FIXED_VISMA if profile.provider == "visma_net" else SETTINGS_FIXED


def fixed_settings(profile):
    """Whether the profile's export type, provider and integration account are fixed (its exports'
    history depends on them: ``queries.has_delivery_history``). The other settings stay editable: the
    ledger compares the export type's record keys and values, whatever the file format, the columns, the
    company, the sync type or the item classes and sales account (a record then simply looks changed)."""
    return queries.has_delivery_history(profile.id)


def check_fixed_settings(profile, *, export_type, provider, options):
    """Refuse a change of a fixed setting (``fixed_settings``): an ExportError, and nothing changes."""
    account, saved_account = _account_of(provider, options), _account_of(profile.provider, profile.options)
    unchanged = (export_type == profile.export_type and provider == profile.provider
                 and str(account or "") == str(saved_account or ""))
    if not unchanged and fixed_settings(profile):
        raise ExportError(fixed_settings_reason(profile), code="settings_fixed")


_PROFILE_SETTINGS = ("name", "export_type", "provider", "options", "sync_type", "company_id", "default_window")


def update_profile(profile_id, *, user=None, **changes):
    """Save a profile's settings. Only a real change is recorded (in the audit log, with what changed, and
    as the profile's last change): a save that changes nothing leaves no trace."""
    profile = _profile(profile_id)
    before = {k: getattr(profile, k) for k in _PROFILE_SETTINGS}
    values = dict(before, **changes)
    check_fixed_settings(profile, export_type=values["export_type"], provider=values["provider"],
                         options=values["options"])
    _apply_profile(profile, **values)
    changed = profile_changes(before, {k: getattr(profile, k) for k in _PROFILE_SETTINGS})
    if not changed:
        return profile
    profile.updated_by_id = _user_id(user)
    with _name_guard(profile.name):
        audit.record(user, "profile.update", profile, changes=changed)
        db.session.commit()
    return profile


def profile_changes(before, after):
    """The settings that differ (``audit.PROFILE_CHANGE_LABELS`` names them): each field, and each option
    by its key, in the form's order."""
    changed = [key for key in _PROFILE_SETTINGS if key != "options" and before[key] != after[key]]
    old, new = _effective_options(before["options"]), _effective_options(after["options"])
    changed += [key for key in dict.fromkeys([*old, *new]) if old.get(key) != new.get(key)]
    return changed


def _effective_options(options):
    """A profile's options as its files are written: a file option left out is the writer's default (the
    form writes them all out the first time it saves; that changes no file)."""
    options = dict(options or {})
    try:
        written = FormatOptions.from_mapping(options)
    except FormatError:
        return options
    return {**options, **dataclasses.asdict(written)}


PENDING_STATUSES = (RunStatus.SCHEDULED, RunStatus.QUEUED)   # a run that waits for its job: it has not started


def archive_profile(profile_id, *, user=None, archived=True):
    """Archive (or use again) a profile. Archiving pauses its schedules (no export can start by them) and
    cancels its exports that have not started (scheduled with Run at, or queued), each with a report item
    saying why; using the profile again leaves the schedules paused, for the user to resume, and the
    cancelled exports cancelled. Returns the profile."""
    profile = _profile(profile_id)
    if not archived and profile.archived:
        _check_name_free(profile.name, profile.id, NAME_TAKEN_RESTORE)
    profile.archived = archived
    cancelled = []
    if archived:
        db.session.execute(update(Schedule).where(Schedule.profile_id == profile.id, Schedule.paused.is_(False))
                           .values(paused=True, next_start_at=None))
        cancelled = _cancel_pending_runs(profile, user)
    profile.updated_by_id = _user_id(user)
    with _name_guard(profile.name):
        audit.record(user, "profile.archive" if archived else "profile.restore", profile)
        db.session.commit()
    for job_id in cancelled:
        try:
            jobs.cancel_job(job_id)
        except RedisError as exc:     # the job finds the run cancelled (or its profile archived) and does nothing
            log.warning("could not cancel job %s (%s)", job_id, type(exc).__name__)
    return profile


def _cancel_pending_runs(profile, user):
    """Cancel the profile's runs that have not started, each with a compare-and-set on its status (a run a
    worker claims meanwhile is left to the job's own check); returns their job ids (to cancel in Redis after
    the commit)."""
    now, job_ids = utcnow(), []
    pending = db.session.execute(select(Run).where(
        Run.profile_id == profile.id, Run.status.in_([s.value for s in PENDING_STATUSES])).order_by(Run.id)).scalars()
    for run in pending.all():
        changed = db.session.execute(
            update(Run).where(Run.id == run.id, Run.status == run.status)
            .values(status=RunStatus.CANCELLED.value, finished_at=now, phase=None, updated_at=now)).rowcount
        if changed != 1:
            continue
        db.session.add(ReportItem(run_id=run.id, severity=Severity.WARNING, code="cancelled_profile_archived",
                                  params={"profile": profile.name}, created_at=now))
        audit.record(user, "run.cancel", run, reason="profile_archived")
        if run.job_id:
            job_ids.append(run.job_id)
    return job_ids


def pending_run_count(profile_id):
    """How many of the profile's exports have not started (what archiving cancels)."""
    return db.session.execute(select(func.count()).select_from(Run).where(
        Run.profile_id == profile_id, Run.status.in_([s.value for s in PENDING_STATUSES]))).scalar()


def active_schedule_count(profile_id):
    """How many of the profile's schedules are not paused (what archiving pauses, deleting deletes)."""
    return db.session.execute(select(func.count()).where(Schedule.profile_id == profile_id,
                                                         Schedule.paused.is_(False))).scalar()


def delete_outcome(profile_id):
    """What ``delete_profile`` will do to the profile: "deleted" (it has no runs) or "archived"."""
    return "archived" if queries.run_count(profile_id) else "deleted"


def delete_profile(profile_id, *, user=None):
    """A profile without runs is deleted; one with runs is archived (its history stays). Returns
    "deleted" or "archived"."""
    if delete_outcome(profile_id) == "archived":
        archive_profile(profile_id, user=user)
        return "archived"
    profile = _profile(profile_id)
    audit.record(user, "profile.delete", profile)
    # What points at it goes with it by the database's foreign keys (ON DELETE CASCADE / SET NULL, on
    # SQLite as on PostgreSQL): its schedules with their starts, its notification settings and notifications.
    db.session.delete(profile)
    db.session.commit()
    return "deleted"


NAME_TAKEN = _l("Another export profile is already called %(name)s. Choose another name.")
NAME_TAKEN_RESTORE = _l("Another export profile in use is already called %(name)s. Give this one another name "
                        "(Edit), then use it again.")


def _check_name_free(name, profile_id=None, message=NAME_TAKEN):
    """Refuse a name another profile in use (not archived) has: lists, filters, Scenarios and mails name
    profiles by name only. Compared in Python (``name_key``): SQLite's lower() folds ASCII only."""
    wanted = name_key(name)
    others = db.session.execute(select(ExportProfile.id, ExportProfile.name).where(
        ExportProfile.archived.is_(False))).all()
    if any(name_key(other) == wanted for other_id, other in others if other_id != profile_id):
        raise ExportError(message, code="name_taken", name=name)


MAX_PROFILE_NAME = 120      # export_profiles.name
MAX_DESCRIPTION = 200       # an invoice export's description (Visma.net's invoice text takes 255 with the reference)


def check_description(value):
    """An export's description, stripped; a longer one is refused, never cut (also for schedules)."""
    text = str(value).strip()
    if len(text) > MAX_DESCRIPTION:
        raise ExportError(_l("A description can have at most %(max)d characters."), code="description_too_long",
                          max=MAX_DESCRIPTION)
    return text


def _apply_profile(profile, *, name, export_type, provider, options, sync_type, company_id, default_window):
    name = (name or "").strip()
    if not has_visible_text(name):
        raise ExportError(_l("Give the export profile a name."), code="name_required")
    if len(name) > MAX_PROFILE_NAME:
        raise ExportError(_l("A name can have at most %(max)d characters."), code="name_too_long",
                          max=MAX_PROFILE_NAME)
    if not profile.archived:
        _check_name_free(name, profile.id)
    export_type_obj = get_type(export_type)
    provider_cls = get_provider(provider)
    if sync_type not in {s.value for s in SyncType}:
        raise ExportError(_l("Unknown sync type: %(value)s."), code="unknown_sync_type", value=sync_type)
    if company_id is not None and db.session.get(Company, company_id) is None:
        raise ExportError(_l("That company does not exist."), code="unknown_company")
    if not windows.is_profile_default(default_window):
        raise ExportError(_l("Unknown default time window: %(value)s."), code="unknown_window",
                          value=default_window)
    chosen = (options or {}).get("columns")
    if chosen is not None and (not isinstance(chosen, list) or export_type_obj.unknown_columns(chosen)):
        raise ExportError(_l("These columns do not exist for this export type: %(columns)s."),
                          code="unknown_columns",
                          columns=", ".join(map(str, export_type_obj.unknown_columns(chosen)
                                                if isinstance(chosen, list) else [chosen])))
    provider_cls.check_options(export_type_obj, options)
    profile.name, profile.export_type, profile.provider = name, export_type, provider
    profile.options, profile.sync_type, profile.company_id = dict(options), sync_type, company_id
    profile.default_window = default_window


# --- runs ---------------------------------------------------------------------------------------

def scheduled_start(run_at_local):
    """*Run at* (a naive date-time in the organisation's time zone) as it will be kept: a
    ``scheduling.ResolvedTime`` (UTC, offset, ambiguous). Refused (``ExportError``) when that time does not
    exist there or has passed."""
    resolved = resolve_local(run_at_local, org_timezone())
    if resolved.utc <= utcnow():
        raise ExportError(_l("The start time has passed. Choose a time in the future, or start now."),
                          code="run_at_past")
    return resolved


def start_run(profile_id, *, user=None, mode="test", operation="prepare_and_export", window_start=None,
              window_end=None, run_at_local=None, booking_date=None, description=None, debtors=None,
              debtor_numbers=None, skip_headers=None, idempotency_key=None, locale=None, schedule=None):
    """Create a run (committed) and enqueue its job after the commit. Returns the ``Run``.

    ``debtors``: the debtor selection (``debtor_selection.resolve``: debtor ids, stored selections, or
    ``CODE/number`` texts); ``debtor_numbers``, the older name, numbers (or ``CODE/number``) alone — a
    number that debtors of several companies have is refused. Stored as ``params["debtors"]``.
    ``run_at_local`` is a naive date-time in the organisation's time zone. The same ``idempotency_key``
    (e.g. the form's one-time token) returns the run it created before instead of a second one.
    ``schedule``: the schedule that starts it (``schedules.labels.snapshot``), named in the audit log.
    """
    if idempotency_key:
        existing = db.session.execute(select(Run).where(Run.idempotency_key == idempotency_key)).scalar()
        if existing is not None:
            return existing
    profile = _profile(profile_id)
    if profile.archived:
        raise ExportError(_l("The export profile %(name)s is archived."), code="profile_archived",
                          name=profile.name)
    export_type = get_type(profile.export_type)
    if mode not in {m.value for m in RunMode}:
        raise ExportError(_l("Choose test or production."), code="unknown_mode")
    if operation not in (Operation.PREPARE.value, Operation.PREPARE_AND_EXPORT.value):
        raise ExportError(_l("A new export can prepare, or prepare and export."), code="unknown_operation")
    if window_start is None or window_end is None:
        proposed = windows.default_window(profile)
        window_start, window_end = window_start or proposed[0], window_end or proposed[1]
    window_start, window_end = _as_date(window_start, "window_start"), _as_date(window_end, "window_end")
    if window_start > window_end:
        raise ExportError(_l("The time window ends before it starts."), code="window_reversed")
    params = {"window_start": window_start.isoformat(), "window_end": window_end.isoformat()}
    if debtors in (None, "", [], ()):
        debtors = debtor_numbers
    extra = {"booking_date": booking_date, "description": description, "debtors": debtors}
    for name, value in extra.items():
        if value in (None, "", [], ()):
            continue
        if not export_type.takes(name):
            raise ExportError(_l("The export type %(type)s does not take %(parameter)s."),
                              code="parameter_not_accepted", type=export_type.label, parameter=_PARAM_NAMES[name])
        params[name] = value
    if "booking_date" in params:
        params["booking_date"] = _as_date(params["booking_date"], "booking_date").isoformat()
    if "description" in params:
        params["description"] = check_description(params["description"])
    if "debtors" in params:
        params["debtors"] = _check_debtors(params["debtors"], profile.company_id)
    if skip_headers is not None:
        params["skip_headers"] = bool(skip_headers)
    ctx = SourceContext(window_start, window_end, profile.company_id, params, org_timezone())
    export_type.check_start(ctx)
    get_provider(profile.provider).check_start(profile, mode)

    status, run_at = RunStatus.QUEUED.value, None
    if run_at_local is not None:
        resolved = scheduled_start(run_at_local)
        status, run_at = RunStatus.SCHEDULED.value, resolved.utc
        params["run_at_local"] = run_at_local.strftime("%Y-%m-%d %H:%M")
        params["run_at_offset"] = resolved.offset
        params["run_at_ambiguous"] = resolved.ambiguous

    run = Run(profile_id=profile.id, mode=mode, operation=operation, params=params, window_start=window_start,
              window_end=window_end, status=status, run_at=run_at, started_by_id=_user_id(user),
              idempotency_key=idempotency_key or None, locale=_locale(user, locale), counts={})
    db.session.add(run)
    try:
        db.session.flush()  # the run's id, for the audit log (a second production run fails here already)
        audit.record(user, "run.start", run, mode=mode, operation=operation, window_start=window_start,
                     window_end=window_end, run_at=params.get("run_at_local"),
                     **({"schedule": schedule} if schedule else {}))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key:
            existing = db.session.execute(select(Run).where(Run.idempotency_key == idempotency_key)).scalar()
            if existing is not None:
                return existing
        active = queries.active_production_run(profile.id)
        if active is not None:
            raise ExportError(
                _l("A production export of %(name)s is already active (export %(run)s, %(status)s). Wait for it, "
                   "or cancel or roll it back, before starting another."),
                code="production_run_active", name=profile.name, run=active.id,
                status=status_label(active.status)) from None
        raise
    jobs.enqueue_run(run)
    return run


_PARAM_NAMES = {"booking_date": _l("a booking date"), "description": _l("a description"),
                "debtors": _l("a debtor selection")}


def request_export(run_id, *, skip_headers=None, user=None):
    """Export a prepared (or partially processed) run: delivers its active, unprocessed rows."""
    run = _run(run_id, lock=True)
    _queue_export(run, skip_headers=skip_headers, user=user)
    db.session.commit()
    jobs.enqueue_run(run)
    return run


def _queue_export(run, *, skip_headers=None, user=None):
    """Check that ``run`` (locked) can be exported and move it to queued; the caller commits and enqueues."""
    if not run.rows_editable:
        raise ExportError(_l("Export %(run)s is %(status)s: only a prepared or partially processed export can "
                             "be exported."), code="not_exportable", run=run.id, status=status_label(run.status))
    get_provider(run.profile.provider).check_start(run.profile, run.mode)
    transition(run, RunStatus.QUEUED)
    run.operation = Operation.EXPORT.value
    if skip_headers is not None:
        run.params = dict(run.params, skip_headers=bool(skip_headers))
    run.error_reason = run.error_message = None
    audit.record(user, "run.start", run, mode=run.mode, operation=Operation.EXPORT.value,
                 window_start=run.window_start, window_end=run.window_end)


def process(profile_ids, operation, *, skip_headers=None, user=None, mode="production", locale=None,
            confirmed_runs=None):
    """*Process* (selected profiles) and *Process all*: one operation on each profile.

    prepare / prepare_and_export start a run over the profile's default window; export exports the
    profile's latest prepared or partially processed run of ``mode`` (the scenarios' production); roll_back
    rolls back its latest run of ``mode``. ``confirmed_runs`` ({profile id: run id}): the runs a confirmation
    named — when the run to export or roll back is another one now, that profile is refused. Returns a
    list of ``(profile_id, run or None, error or None)``: one profile's refusal does not stop the others.
    """
    if operation not in {o.value for o in Operation}:
        raise ExportError(_l("Unknown operation: %(value)s."), code="unknown_operation", value=operation)
    results = []
    # Each profile once, however often the caller names it: each pass looks up the latest run again, so a
    # repeated id would roll back (or export) the one before the one just processed too.
    for profile_id in dict.fromkeys(profile_ids):
        try:
            if operation in (Operation.PREPARE.value, Operation.PREPARE_AND_EXPORT.value):
                run = start_run(profile_id, user=user, mode=mode, operation=operation, skip_headers=skip_headers,
                                locale=locale)
            elif operation == Operation.EXPORT.value:
                run = queries.latest_run(profile_id, EXPORTABLE_STATUSES, mode=mode)
                if run is None:
                    raise ExportError(_l("%(name)s has nothing prepared to export."), code="nothing_prepared",
                                      name=_profile(profile_id).name)
                _check_confirmed(run, confirmed_runs)
                run = request_export(run.id, skip_headers=skip_headers, user=user)
            else:
                run = queries.latest_run(profile_id, queries.SCENARIO_FITS["roll_back"], mode=mode)
                if run is None:
                    raise ExportError(_l("%(name)s has no export to roll back."), code="nothing_to_roll_back",
                                      name=_profile(profile_id).name)
                _check_confirmed(run, confirmed_runs)
                run = roll_back(run.id, user=user)
            results.append((profile_id, run, None))
        except ExportError as error:
            db.session.rollback()
            results.append((profile_id, None, error))
    return results


def _check_confirmed(run, confirmed_runs):
    """The run a confirmation named for this profile is still the one to process (another was prepared,
    exported or rolled back in between: refused, to be checked and confirmed again)."""
    if confirmed_runs and run.profile_id in confirmed_runs and confirmed_runs[run.profile_id] != run.id:
        raise ExportError(_l("%(name)s changed since you confirmed: the export to process is now export %(run)s. "
                             "Check it and confirm again."), code="scenario_changed",
                          name=run.profile.name, run=run.id)


def resume_sync(profile_id, *, user=None):
    """Resume a stopped sync once the problem is solved: the stop is lifted and the run it stopped is
    exported again — from the rejected record on. Returns that run (or None when it cannot go on, e.g.
    it was rolled back; the next run then starts as usual)."""
    return _lift_stop_and_export(profile_id, user=user)


def skip_sync_record(profile_id, reason, *, user=None):
    """A consultant skips the record a stopped sync stopped at, with a reason — recorded in the run's
    history (the stop, shown on the run page), its report and the audit log: the record becomes an
    error of its run, and the run is exported again from the next record."""
    return _lift_stop_and_export(profile_id, user=user, skip_reason=reason or "")


def _lift_stop_and_export(profile_id, *, user=None, skip_reason=None):
    """One transaction: the stop is lifted (locked first: two clicks lift it once), recorded, and the run
    it stopped queued. When the run cannot go on (e.g. the integration account needs authorising again),
    nothing changes: the stop and its system message stay."""
    profile = _profile(profile_id)
    try:
        stop = visma_net.lift_stop(profile, user=user, skip_reason=skip_reason)
        run = db.session.get(Run, stop.run_id, with_for_update=True) if stop.run_id else None
        if skip_reason is None:
            audit.record(user, "run.resume", profile, record=stop.record_key, run=stop.run_id)
        else:
            audit.record(user, "run.skip", run if run is not None else profile, record=stop.record_key,
                         reason=stop.skip_reason)
        goes_on = run is not None and run.rows_editable
        if goes_on:
            _queue_export(run, user=user)
        db.session.commit()
    except ExportError:
        db.session.rollback()
        raise
    if not goes_on:
        return None
    jobs.enqueue_run(run)
    return run


def cancel_run(run_id, *, user=None):
    """Cancel a scheduled, queued, prepared or partially processed run (a running one cannot be)."""
    run = _run(run_id, lock=True)
    if not run.can_cancel:
        raise ExportError(_l("Export %(run)s is %(status)s and cannot be cancelled."), code="not_cancellable",
                          run=run.id, status=status_label(run.status))
    job_id = run.job_id
    transition(run, RunStatus.CANCELLED)
    run.finished_at = utcnow()
    visma_net.end_stops(run, "cancelled", user=user, at=run.finished_at)   # a stopped sync ends with its run
    audit.record(user, "run.cancel", run)
    db.session.commit()
    if job_id:
        jobs.cancel_job(job_id)
    return run


def roll_back(run_id, *, user=None):
    """Remove a run's prepared data; for the latest production run of its profile, also restore the
    ledger (its entries stop counting) and remove its mapping-history lines (the latest ones: its
    "Prepared" line and one per export pass). An older production
    run is refused: a later run built on its ledger."""
    run = _run(run_id, lock=True)
    refusal = run.roll_back_refusal()
    if refusal is not None:
        raise refusal
    if run.is_production and run.recorded_count():
        sync.roll_back_ledger(run.id, run.profile_id)      # the history and the current ledger, together
    if run.is_production:
        # Every line of the run (its "Prepared" line and one per export pass): the ledger drops every pass's
        # entries, so the history does too. Only the latest production run gets here with lines (the rule).
        db.session.execute(delete(MappingHistoryEntry).where(MappingHistoryEntry.run_id == run.id))
    db.session.execute(delete(PreparedRow).where(PreparedRow.run_id == run.id))
    transition(run, RunStatus.ROLLED_BACK)
    run.operation = Operation.ROLL_BACK.value
    run.finished_at = utcnow()
    visma_net.end_stops(run, "rolled_back", user=user, at=run.finished_at)
    audit.record(user, "run.roll_back", run, mode=run.mode)
    db.session.commit()
    return run


ROWS_LOCKED = _l("Rows can only be changed while the export is prepared or partially processed.")


def set_row_active(run_id, row_id, active):
    """Tick or untick a prepared row before export (only for prepared or partially processed runs)."""
    run = _run(run_id, lock=True)
    if not run.rows_editable:
        raise ExportError(ROWS_LOCKED, code="rows_locked")
    row = db.session.get(PreparedRow, row_id)
    if row is None or row.run_id != run.id:
        raise ExportError(_l("That row does not belong to this export."), code="unknown_row")
    if row.processed:
        raise ExportError(_l("That row was already delivered."), code="row_processed")
    row.active = bool(active)
    db.session.commit()
    return row


def set_rows_active(run_id, shown_ids, active_ids, *, user=None):
    """Save the ticks of the rows a page showed: only the rows whose Active changed are changed.
    Returns how many changed.

    One transaction under the run's lock, whatever the number of rows: the rows' states are read under
    it, and the changed rows are written with (at most) two statements — one for the rows ticked, one
    for those unticked — with the audit entry, in one commit. Either every change is saved or none.

    A page shown before the run was exported (another tab, a worker) may still post ticks: a change to a
    row that can no longer change — the run is no longer prepared or partially processed, or the row was
    delivered meanwhile — is refused and nothing is saved; dropping it silently would let the user
    believe a delivered row was left out. Invalid rows are never delivered: a tick on them changes nothing."""
    if not shown_ids:
        return 0
    run = _run(run_id, lock=True)       # the export cannot start between this check and the commit
    states = queries.row_states(run_id, shown_ids)
    changed = [(row.id, row.id in active_ids) for row in states.values()
               if not row.invalid and bool(row.active) != (row.id in active_ids)]
    if not changed:
        db.session.rollback()
        return 0
    if not run.rows_editable:
        db.session.rollback()
        raise ExportError(ROWS_LOCKED, code="rows_locked")
    if any(states[row_id].processed for row_id, _active in changed):
        db.session.rollback()
        raise ExportError(_l("Your selections were not saved: a row you changed was delivered in the meantime. "
                             "Open Prepared data again to see what is left to export."), code="row_processed")
    for active in (True, False):
        ids = sorted(row_id for row_id, wanted in changed if wanted is active)
        if ids:
            db.session.execute(update(PreparedRow).where(
                PreparedRow.run_id == run_id, PreparedRow.id.in_(ids), PreparedRow.processed.is_(False),
                PreparedRow.invalid.is_(False)).values(active=active).execution_options(synchronize_session=False))
    audit.record(user, "run.edit_prepared", run, count=len(changed),
                 activated=sum(1 for _id, active in changed if active),
                 deactivated=sum(1 for _id, active in changed if not active))
    db.session.commit()
    return len(changed)


# --- helpers ---------------------------------------------------------------------------------------

def _run(run_id, lock=False):
    stmt = select(Run).where(Run.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    run = db.session.execute(stmt).scalar()
    if run is None:
        raise ExportError(_l("Export %(run)s does not exist."), code="unknown_run", run=run_id)
    return run


def _profile(profile_id):
    profile = db.session.get(ExportProfile, profile_id)
    if profile is None:
        raise ExportError(_l("Export profile %(profile)s does not exist."), code="unknown_profile",
                          profile=profile_id)
    return profile


def _user_id(user):
    if user is None:
        return None
    return user if isinstance(user, int) else user.id


def _locale(user, locale):
    languages = current_app.config["LANGUAGES"]
    if locale in languages:
        return locale
    if user is not None:
        user_obj = db.session.get(User, user) if isinstance(user, int) else user
        if user_obj is not None and user_obj.locale in languages:
            return user_obj.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _as_date(value, name):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ExportError(_l("%(value)s is not a date (use YYYY-MM-DD)."), code="bad_date", value=value) from None


def _check_debtors(references, company_id):
    """The debtor selection as stored (``debtor_selection.resolve``: each debtor by company and number)."""
    return debtor_selection.resolve(references, company_id)


__all__ = ["create_profile", "update_profile", "archive_profile", "delete_profile", "start_run", "request_export",
           "process", "cancel_run", "roll_back", "set_row_active", "set_rows_active", "resume_sync", "skip_sync_record"]
