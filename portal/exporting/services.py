"""The engine's services: what views, the API and the CLI call. No ``request`` in here.

Every refusal is an ``ExportError`` with a translatable message; nothing is changed when one is raised.
"""
import logging
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import org_timezone
from ..models import Company, Debtor, User, utcnow
from ..models.exporting import (
    ACTIVE_STATUSES, TRANSITIONS, ExportProfile, LedgerEntry, MappingHistoryEntry, Operation, PreparedRow,
    Run, RunFile, RunMode, RunStatus, SyncType,
)
from .errors import ExportError, IllegalTransition
from .messages import status_label
from .providers import get_provider
from .scheduling import resolve_local
from .types import get_type
from .types.base import SourceContext

log = logging.getLogger(__name__)

WINDOWS = ("previous_month", "current_month", "previous_week", "yesterday", "today")


# --- profiles -----------------------------------------------------------------------------------

def create_profile(*, name, export_type, provider="file", options=None, sync_type="full", company_id=None,
                   default_window="previous_month", user=None):
    profile = ExportProfile(created_by_id=_user_id(user), updated_by_id=_user_id(user))
    _apply_profile(profile, name=name, export_type=export_type, provider=provider, options=options or {},
                   sync_type=sync_type, company_id=company_id, default_window=default_window)
    db.session.add(profile)
    db.session.commit()
    return profile


def update_profile(profile_id, *, user=None, **changes):
    profile = _profile(profile_id)
    values = {k: getattr(profile, k) for k in
              ("name", "export_type", "provider", "options", "sync_type", "company_id", "default_window")}
    values.update(changes)
    _apply_profile(profile, **values)
    profile.updated_by_id = _user_id(user)
    db.session.commit()
    return profile


def archive_profile(profile_id, *, user=None, archived=True):
    profile = _profile(profile_id)
    profile.archived = archived
    profile.updated_by_id = _user_id(user)
    db.session.commit()
    return profile


def _apply_profile(profile, *, name, export_type, provider, options, sync_type, company_id, default_window):
    name = (name or "").strip()
    if not name:
        raise ExportError(_l("Give the export profile a name."), code="name_required")
    export_type_obj = get_type(export_type)
    provider_cls = get_provider(provider)
    if sync_type not in {s.value for s in SyncType}:
        raise ExportError(_l("Unknown sync type: %(value)s."), code="unknown_sync_type", value=sync_type)
    if company_id is not None and db.session.get(Company, company_id) is None:
        raise ExportError(_l("That company does not exist."), code="unknown_company")
    if not (default_window in WINDOWS or _days_window(default_window)):
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


def _days_window(value):
    parts = (value or "").split("_")
    return len(parts) == 3 and parts[0] == "last" and parts[1].isdigit() and parts[2] == "days"


def default_window(profile, today=None):
    """The window (first day, last day) a new run of the profile proposes."""
    today = today or datetime.now(org_timezone()).date()
    kind = profile.default_window
    if kind == "current_month":
        return today.replace(day=1), today
    if kind == "previous_week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if kind == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if kind == "today":
        return today, today
    if _days_window(kind):
        return today - timedelta(days=int(kind.split("_")[1])), today - timedelta(days=1)
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


# --- runs ---------------------------------------------------------------------------------------

def start_run(profile_id, *, user=None, mode="test", operation="prepare_and_export", window_start=None,
              window_end=None, run_at_local=None, booking_date=None, description=None, debtor_numbers=None,
              skip_headers=None, idempotency_key=None, locale=None):
    """Create a run (committed) and enqueue its job after the commit. Returns the ``Run``.

    ``run_at_local`` is a naive date-time in the organisation's time zone. The same ``idempotency_key``
    (e.g. the form's one-time token) returns the run it created before instead of a second one.
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
        raise ExportError(_l("A new run can prepare, or prepare and export."), code="unknown_operation")
    if window_start is None or window_end is None:
        proposed = default_window(profile)
        window_start, window_end = window_start or proposed[0], window_end or proposed[1]
    window_start, window_end = _as_date(window_start, "window_start"), _as_date(window_end, "window_end")
    if window_start > window_end:
        raise ExportError(_l("The time window ends before it starts."), code="window_reversed")
    params = {"window_start": window_start.isoformat(), "window_end": window_end.isoformat()}
    extra = {"booking_date": booking_date, "description": description, "debtor_numbers": debtor_numbers}
    for name, value in extra.items():
        if value in (None, "", [], ()):
            continue
        if name not in export_type.accepted_params:
            raise ExportError(_l("The export type %(type)s does not take %(parameter)s."),
                              code="parameter_not_accepted", type=export_type.label, parameter=_PARAM_NAMES[name])
        params[name] = value
    if "booking_date" in params:
        params["booking_date"] = _as_date(params["booking_date"], "booking_date").isoformat()
    if "description" in params:
        params["description"] = str(params["description"]).strip()[:200]
    if "debtor_numbers" in params:
        params["debtor_numbers"] = _check_debtors(params["debtor_numbers"], profile.company_id)
    if skip_headers is not None:
        params["skip_headers"] = bool(skip_headers)
    ctx = SourceContext(window_start, window_end, profile.company_id, params, org_timezone())
    export_type.check_start(ctx)
    get_provider(profile.provider).check_start(profile, mode)

    status, run_at = RunStatus.QUEUED.value, None
    if run_at_local is not None:
        resolved = resolve_local(run_at_local, org_timezone())
        if resolved.utc <= utcnow():
            raise ExportError(_l("The start time has passed. Choose a time in the future, or start now."),
                              code="run_at_past")
        status, run_at = RunStatus.SCHEDULED.value, resolved.utc
        params["run_at_local"] = run_at_local.strftime("%Y-%m-%d %H:%M")
        params["run_at_offset"] = resolved.offset
        params["run_at_ambiguous"] = resolved.ambiguous

    run = Run(profile_id=profile.id, mode=mode, operation=operation, params=params, window_start=window_start,
              window_end=window_end, status=status, run_at=run_at, started_by_id=_user_id(user),
              idempotency_key=idempotency_key or None, locale=_locale(user, locale), counts={})
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key:
            existing = db.session.execute(select(Run).where(Run.idempotency_key == idempotency_key)).scalar()
            if existing is not None:
                return existing
        active = active_production_run(profile.id)
        if active is not None:
            raise ExportError(
                _l("A production run of %(name)s is already active (run %(run)s, %(status)s). Wait for it, "
                   "or cancel or roll it back, before starting another."),
                code="production_run_active", name=profile.name, run=active.id,
                status=status_label(active.status)) from None
        raise
    from .jobs import enqueue_run
    enqueue_run(run)
    return run


_PARAM_NAMES = {"booking_date": _l("a booking date"), "description": _l("a description"),
                "debtor_numbers": _l("a debtor selection")}


def active_production_run(profile_id):
    return db.session.execute(select(Run).where(
        Run.profile_id == profile_id, Run.mode == RunMode.PRODUCTION.value,
        Run.status.in_([s.value for s in ACTIVE_STATUSES]))).scalar()


def request_export(run_id, *, skip_headers=None):
    """Export a prepared (or partially processed) run: delivers its active, unprocessed rows."""
    run = get_run(run_id, lock=True)
    if run.status not in (RunStatus.PREPARED.value, RunStatus.PARTIALLY_PROCESSED.value):
        raise ExportError(_l("Run %(run)s is %(status)s: only a prepared or partially processed run can be "
                             "exported."), code="not_exportable", run=run.id, status=status_label(run.status))
    get_provider(run.profile.provider).check_start(run.profile, run.mode)
    transition(run, RunStatus.QUEUED)
    run.operation = Operation.EXPORT.value
    if skip_headers is not None:
        run.params = dict(run.params, skip_headers=bool(skip_headers))
    run.error_reason = None
    db.session.commit()
    from .jobs import enqueue_run
    enqueue_run(run)
    return run


def process(profile_ids, operation, *, skip_headers=None, user=None, mode="production", locale=None):
    """*Process* (selected profiles) and *Process all*: one operation on each profile.

    prepare / prepare_and_export start a run over the profile's default window; export exports the
    profile's latest prepared or partially processed run; roll_back rolls back its latest run. Returns a
    list of ``(profile_id, run or None, error or None)``: one profile's refusal does not stop the others.
    """
    if operation not in {o.value for o in Operation}:
        raise ExportError(_l("Unknown operation: %(value)s."), code="unknown_operation", value=operation)
    results = []
    for profile_id in profile_ids:
        try:
            if operation in (Operation.PREPARE.value, Operation.PREPARE_AND_EXPORT.value):
                run = start_run(profile_id, user=user, mode=mode, operation=operation, skip_headers=skip_headers,
                                locale=locale)
            elif operation == Operation.EXPORT.value:
                run = _latest_run(profile_id, [RunStatus.PREPARED, RunStatus.PARTIALLY_PROCESSED])
                if run is None:
                    raise ExportError(_l("%(name)s has no prepared run to export."), code="nothing_prepared",
                                      name=_profile(profile_id).name)
                run = request_export(run.id, skip_headers=skip_headers)
            else:
                run = _latest_run(profile_id, [RunStatus.PREPARED, RunStatus.PARTIALLY_PROCESSED,
                                               RunStatus.EXPORTED, RunStatus.FAILED])
                if run is None:
                    raise ExportError(_l("%(name)s has no run to roll back."), code="nothing_to_roll_back",
                                      name=_profile(profile_id).name)
                run = roll_back(run.id, user=user)
            results.append((profile_id, run, None))
        except ExportError as error:
            db.session.rollback()
            results.append((profile_id, None, error))
    return results


def _latest_run(profile_id, statuses):
    return db.session.execute(
        select(Run).where(Run.profile_id == profile_id, Run.status.in_([s.value for s in statuses]))
        .order_by(Run.id.desc()).limit(1)).scalar()


def cancel_run(run_id, *, user=None):
    """Cancel a scheduled, queued, prepared or partially processed run (a running one cannot be)."""
    run = get_run(run_id, lock=True)
    if run.status not in (RunStatus.SCHEDULED.value, RunStatus.QUEUED.value, RunStatus.PREPARED.value,
                          RunStatus.PARTIALLY_PROCESSED.value):
        raise ExportError(_l("Run %(run)s is %(status)s and cannot be cancelled."), code="not_cancellable",
                          run=run.id, status=status_label(run.status))
    job_id = run.job_id
    transition(run, RunStatus.CANCELLED)
    run.finished_at = utcnow()
    db.session.commit()
    if job_id:
        from .jobs import cancel_job
        cancel_job(job_id)
    return run


def recorded_count(run_id):
    """How many of the run's ledger entries count (what a roll back would take out of the ledger)."""
    return db.session.execute(select(func.count()).where(
        LedgerEntry.run_id == run_id, LedgerEntry.rolled_back.is_(False))).scalar()


def roll_back_refusal(run):
    """Why ``run`` cannot be rolled back, as an ExportError, or None. The one rule, for ``roll_back`` and
    for the pages that say beforehand what a roll back would undo."""
    if RunStatus.ROLLED_BACK not in TRANSITIONS[RunStatus(run.status)]:
        return ExportError(_l("Export %(run)s is %(status)s and cannot be rolled back."),
                           code="not_rollbackable", run=run.id, status=status_label(run.status))
    if run.is_production and recorded_count(run.id):
        later = db.session.execute(
            select(Run.id).where(
                Run.profile_id == run.profile_id, Run.mode == RunMode.PRODUCTION.value, Run.id > run.id,
                # a later run that recorded something, or is about to (its mutations assume this ledger)
                Run.status.in_([st.value for st in ACTIVE_STATUSES])
                | Run.id.in_(select(LedgerEntry.run_id).where(LedgerEntry.profile_id == run.profile_id,
                                                              LedgerEntry.rolled_back.is_(False))))
            .order_by(Run.id.desc()).limit(1)).scalar()
        if later is not None:
            return ExportError(
                _l("Export %(run)s is not the latest production export of this profile: export %(later)s "
                   "came after it and builds on it. Roll back export %(later)s first."),
                code="not_latest_production", run=run.id, later=later)
    return None


def roll_back(run_id, *, user=None):
    """Remove a run's prepared data; for the latest production run of its profile, also restore the
    ledger (its entries stop counting) and remove the latest mapping-history line. An older production
    run is refused: a later run built on its ledger."""
    run = get_run(run_id, lock=True)
    refusal = roll_back_refusal(run)
    if refusal is not None:
        raise refusal
    if run.is_production and recorded_count(run.id):
        from .sync import roll_back_ledger
        roll_back_ledger(run.id, run.profile_id)      # the history and the current ledger, together
    if run.is_production:
        latest = db.session.execute(
            select(MappingHistoryEntry).where(MappingHistoryEntry.profile_id == run.profile_id)
            .order_by(MappingHistoryEntry.id.desc()).limit(1)).scalar()
        if latest is not None and latest.run_id == run.id:
            db.session.delete(latest)
    db.session.execute(delete(PreparedRow).where(PreparedRow.run_id == run.id))
    transition(run, RunStatus.ROLLED_BACK)
    run.operation = Operation.ROLL_BACK.value
    run.finished_at = utcnow()
    db.session.commit()
    return run


def set_row_active(run_id, row_id, active):
    """Tick or untick a prepared row before export (only for prepared or partially processed runs)."""
    run = get_run(run_id, lock=True)
    if run.status not in (RunStatus.PREPARED.value, RunStatus.PARTIALLY_PROCESSED.value):
        raise ExportError(_l("Rows can only be changed while the run is prepared or partially processed."),
                          code="rows_locked")
    row = db.session.get(PreparedRow, row_id)
    if row is None or row.run_id != run.id:
        raise ExportError(_l("That row does not belong to this run."), code="unknown_row")
    if row.processed:
        raise ExportError(_l("That row was already delivered."), code="row_processed")
    row.active = bool(active)
    db.session.commit()
    return row


# --- reading --------------------------------------------------------------------------------------

def get_run(run_id, lock=False):
    stmt = select(Run).where(Run.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    run = db.session.execute(stmt).scalar()
    if run is None:
        raise ExportError(_l("Run %(run)s does not exist."), code="unknown_run", run=run_id)
    return run


def list_profiles(*, include_archived=False):
    stmt = select(ExportProfile).order_by(ExportProfile.name, ExportProfile.id)
    if not include_archived:
        stmt = stmt.where(ExportProfile.archived.is_(False))
    return db.session.execute(stmt).scalars().all()


def list_runs(*, profile_id=None, statuses=None, mode=None, offset=0, limit=50):
    """Runs, newest first (the overview of every export that ran, test and production)."""
    stmt = select(Run).order_by(Run.id.desc())
    if profile_id is not None:
        stmt = stmt.where(Run.profile_id == profile_id)
    if statuses:
        stmt = stmt.where(Run.status.in_([getattr(st, "value", st) for st in statuses]))
    if mode:
        stmt = stmt.where(Run.mode == mode)
    return db.session.execute(stmt.offset(offset).limit(limit)).scalars().all()


def scheduled_runs():
    """Runs waiting for their time, soonest first (they can be cancelled)."""
    return db.session.execute(select(Run).where(Run.status == RunStatus.SCHEDULED.value)
                              .order_by(Run.run_at, Run.id)).scalars().all()


def prepared_rows(run_id, *, offset=0, limit=100, only_errors=False):
    stmt = select(PreparedRow).where(PreparedRow.run_id == run_id)
    if only_errors:
        stmt = stmt.where(PreparedRow.error.is_not(None))
    return db.session.execute(stmt.order_by(PreparedRow.group_key, PreparedRow.seq)
                              .offset(offset).limit(limit)).scalars().all()


def run_files(run_id):
    return db.session.execute(select(RunFile).where(RunFile.run_id == run_id).order_by(RunFile.id)).scalars().all()


def mapping_history(profile_id):
    return db.session.execute(select(MappingHistoryEntry).where(MappingHistoryEntry.profile_id == profile_id)
                              .order_by(MappingHistoryEntry.id.desc())).scalars().all()


def ledger_size(profile_id):
    """How many records the ledger of the profile currently holds (what counts)."""
    from .sync import current_ledger_count
    return current_ledger_count(profile_id)


def progress(run):
    """Phase, done, total and an estimate of the seconds left (None when unknown)."""
    left = None
    if run.total and run.done and run.phase_started_at and run.progress_at and run.done < run.total:
        spent = (run.progress_at - run.phase_started_at).total_seconds()
        if spent > 0:
            left = spent / run.done * (run.total - run.done)
    return {"phase": run.phase, "done": run.done, "total": run.total, "seconds_left": left}


# --- helpers ---------------------------------------------------------------------------------------

def transition(run, target):
    target = RunStatus(target)
    current = RunStatus(run.status)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(status_label(current.value), status_label(target.value))
    run.status = target.value


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


def _check_debtors(numbers, company_id):
    if isinstance(numbers, str):
        numbers = [n.strip() for n in numbers.replace(";", ",").split(",")]
    numbers = sorted({str(n).strip() for n in numbers if str(n).strip()})
    stmt = select(Debtor.number).where(Debtor.number.in_(numbers))
    if company_id is not None:
        stmt = stmt.where(Debtor.company_id == company_id)
    known = set(db.session.execute(stmt).scalars())
    unknown = [n for n in numbers if n not in known]
    if unknown:
        raise ExportError(_l("Unknown debtors: %(numbers)s."), code="unknown_debtors", numbers=", ".join(unknown[:10]))
    return numbers


__all__ = ["start_run", "process", "cancel_run", "roll_back", "set_row_active", "request_export",
           "list_profiles", "list_runs", "scheduled_runs", "active_production_run",
           "create_profile", "update_profile", "archive_profile", "get_run", "prepared_rows", "run_files",
           "mapping_history", "progress", "default_window", "transition"]
