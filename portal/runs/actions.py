"""The pages' calls into the export engine (``portal.exporting.services``), in one place.

Each function adapts what a view parsed to the engine's service and back; the engine validates and
changes state. The few read-only helpers here (scenario rows, the roll-back plan) query the engine's
models for what a page shows before the engine is asked to act.
"""
import os

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select

from ..extensions import db
from ..exporting import services as engine
from ..exporting.report import report_csv as engine_report_csv
from ..exporting.types import get_type
from ..models.exporting import (
    ExportProfile, MappingHistoryEntry, PreparedRow, Run, RunStatus,
)

# The operations of the scenarios table, in the order of seed 000.
OPERATIONS = ("prepare_and_export", "prepare", "export", "roll_back")
S = RunStatus

# The engine's error codes → the form field they are about.
ERROR_FIELDS = {
    "run_at_nonexistent": "run_at", "run_at_past": "run_at",
    "window_reversed": "window_end", "window_too_long": "window_end", "window_not_allowed": "window_end",
    "bad_date": "window_end",
    "unknown_debtors": "debtor_scope",
    "unknown_mode": "mode", "production_run_active": "mode",
}


def field_for_error(error):
    code = getattr(error, "code", "")
    if code in ERROR_FIELDS:
        return ERROR_FIELDS[code]
    if code.startswith("window_"):
        return "window_end"
    return None


def start(profile, form, window_start, window_end, debtor_numbers, user):
    is_invoice = "booking_date" in get_type(profile.export_type).accepted_params
    return engine.start_run(
        profile.id, user=user, mode=form.mode.data, operation="prepare_and_export",
        window_start=window_start, window_end=window_end, run_at_local=form.run_at.data,
        booking_date=form.booking_date.data if is_invoice else None,
        description=(form.description.data or None) if is_invoice else None,
        debtor_numbers=debtor_numbers or None, idempotency_key=form.form_token.data or None,
        locale=str(get_locale()))


def cancel(run, user):
    return engine.cancel_run(run.id, user=user)


def roll_back(run, user):
    return engine.roll_back(run.id, user=user)


def process(profile_ids, operation, skip_headers, user):
    """Returns the engine's ``(profile_id, run, error)`` per profile."""
    return engine.process(profile_ids, operation, skip_headers=skip_headers, user=user,
                          locale=str(get_locale()))


def rows_editable(run):
    return run.status in (S.PREPARED.value, S.PARTIALLY_PROCESSED.value)


def set_rows_active(run, shown_ids, active_ids, user):
    """Save the ticks of the rows a page showed: only the rows whose Active changed go to the engine."""
    if not shown_ids:
        return 0
    current = dict(db.session.execute(
        select(PreparedRow.id, PreparedRow.active)
        .where(PreparedRow.run_id == run.id, PreparedRow.id.in_(shown_ids),
               PreparedRow.processed.is_(False), PreparedRow.invalid.is_(False))).all())
    changed = [(row_id, row_id in active_ids) for row_id, active in current.items()
               if bool(active) != (row_id in active_ids)]
    for row_id, active in changed:
        engine.set_row_active(run.id, row_id, active)
    return len(changed)


def columns_for(profile):
    try:
        return get_type(profile.export_type).columns()
    except Exception:  # an unknown (removed) export type still shows its rows' Active/Processed/Error
        current_app.logger.warning("no columns for export type %s", profile.export_type)
        return []


def file_path(run_file):
    """The stored file, only when it lies inside the storage directory."""
    root = os.path.realpath(current_app.config["PORTAL_STORAGE_DIR"])
    path = os.path.realpath(run_file.path if os.path.isabs(run_file.path)
                            else os.path.join(root, run_file.path))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path


def report_csv(run):
    """The engine's report CSV, in the viewer's language, with a BOM for spreadsheet programs."""
    return "\ufeff" + engine_report_csv(run.id, locale=str(get_locale())), f"report-{run.id}.csv"


class RollBackPlan:
    def __init__(self, refusal=None, prepared_rows=0, ledger_entries=0, history_line=None,
                 delivered_to_api=False, files=False):
        self.refusal, self.prepared_rows, self.ledger_entries = refusal, prepared_rows, ledger_entries
        self.history_line, self.delivered_to_api, self.files = history_line, delivered_to_api, files


def roll_back_plan(run):
    """Exactly what a roll back of ``run`` would undo (read only; the rule is the engine's)."""
    refusal = engine.roll_back_refusal(run)
    if refusal is not None:
        return RollBackPlan(refusal=str(refusal))
    rows = db.session.execute(select(func.count()).select_from(PreparedRow)
                              .where(PreparedRow.run_id == run.id)).scalar_one()
    plan = RollBackPlan(prepared_rows=rows, files=bool(run.counts and run.counts.get("processed")))
    if run.is_production:
        plan.ledger_entries = engine.recorded_count(run.id)
        latest = db.session.execute(
            select(MappingHistoryEntry).where(MappingHistoryEntry.profile_id == run.profile_id)
            .order_by(MappingHistoryEntry.id.desc()).limit(1)).scalar()
        if latest is not None and latest.run_id == run.id:
            plan.history_line = latest
        plan.delivered_to_api = run.profile.provider != "file" and bool(plan.ledger_entries)
    return plan


class ScenarioRow:
    def __init__(self, profile, run, prepared_on):
        self.profile, self.run, self.prepared_on = profile, run, prepared_on

    @property
    def records(self):
        counts = self.run.counts or {}
        return counts.get("processed") or counts.get("prepared") or counts.get("records") or 0

    @property
    def completed_on(self):
        if self.run.status in (S.EXPORTED.value, S.PARTIALLY_PROCESSED.value):
            return self.run.finished_at
        return None


# Which latest run a scenario row shows, per operation (the same statuses the engine acts on).
_FITS = {
    "export": (S.PREPARED.value, S.PARTIALLY_PROCESSED.value),
    "roll_back": (S.PREPARED.value, S.PARTIALLY_PROCESSED.value, S.EXPORTED.value, S.FAILED.value),
}
_BUSY = tuple(s.value for s in (S.SCHEDULED, S.QUEUED, S.PREPARING, S.PREPARED, S.EXPORTING,
                                S.PARTIALLY_PROCESSED))


def scenarios(operation):
    """The scenarios (profiles) whose status fits ``operation``, each with its latest run: three queries."""
    profiles = db.session.execute(select(ExportProfile).where(ExportProfile.archived.is_(False))
                                  .order_by(ExportProfile.name)).scalars().all()
    ids = [p.id for p in profiles]
    if not ids:
        return []
    latest_ids = select(func.max(Run.id)).where(Run.profile_id.in_(ids), Run.mode == "production")
    if operation in _FITS:
        latest_ids = latest_ids.where(Run.status.in_(_FITS[operation]))
    else:
        latest_ids = latest_ids.where(Run.status != S.CANCELLED.value)
    runs = {r.profile_id: r for r in db.session.execute(
        select(Run).where(Run.id.in_(latest_ids.group_by(Run.profile_id)))).scalars()}
    prepared_on = dict(db.session.execute(
        select(MappingHistoryEntry.run_id, func.max(MappingHistoryEntry.status_date))
        .where(MappingHistoryEntry.run_id.in_([r.id for r in runs.values()] or [0]),
               MappingHistoryEntry.status == S.PREPARED.value)
        .group_by(MappingHistoryEntry.run_id)).all())
    rows = []
    for profile in profiles:
        run = runs.get(profile.id)
        if operation in _FITS:
            if run is None:
                continue
        elif run is not None and run.status in _BUSY:
            continue  # a scenario with a production run under way cannot be prepared again
        rows.append(ScenarioRow(profile, run, prepared_on.get(run.id) if run else None))
    return rows


def roll_back_plans(profile_ids):
    """(profile, run, plan) for the run a roll back from the scenarios table would undo."""
    fitting = {row.profile.id: row for row in scenarios("roll_back")}
    plans = []
    for profile_id in profile_ids:
        row = fitting.get(profile_id)
        if row is not None:
            plans.append((row.profile, row.run, roll_back_plan(row.run)))
    return plans
