"""Queries the run pages need, on top of the engine's models (the engine owns every state change).

Everything here reads; starting, cancelling, processing and rolling back are the engine's services
(``portal.exporting``). Lists load their related rows in one query each (no N+1).
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Debtor
from ..models.base import utcnow
from ..pagination import paginate
from ..models.exporting import (
    ACTIVE_STATUSES, FINAL_STATUSES, WORKING_STATUSES, ExportProfile, LedgerEntry, MappingHistoryEntry,
    PreparedRow, ReportItem, Run, RunFile, RunStatus,
)

DEBTOR_RESULTS = 25
PAGE_SIZE = 25


def get_profile(profile_id, include_archived=False):
    profile = db.session.get(ExportProfile, profile_id)
    if profile is None or (profile.archived and not include_archived):
        return None
    return profile


def get_run(run_id):
    return db.session.execute(
        select(Run).options(joinedload(Run.profile), joinedload(Run.started_by)).where(Run.id == run_id)
    ).scalar_one_or_none()


def run_files(run_id):
    return db.session.execute(select(RunFile).where(RunFile.run_id == run_id).order_by(RunFile.id)).scalars().all()


def run_file(run_id, file_id):
    return db.session.execute(
        select(RunFile).where(RunFile.run_id == run_id, RunFile.id == file_id)).scalar_one_or_none()


def report_items(run_id, limit=500):
    """The report's problems, errors first; ``limit`` keeps a huge report's page small."""
    return db.session.execute(
        select(ReportItem).where(ReportItem.run_id == run_id)
        .order_by((ReportItem.severity != "error"), (ReportItem.severity != "warning"), ReportItem.id)
        .limit(limit)).scalars().all()


def report_counts(run_id):
    """{severity: count} of a run's report."""
    return dict(db.session.execute(
        select(ReportItem.severity, func.count()).where(ReportItem.run_id == run_id)
        .group_by(ReportItem.severity)).all())


def runs_with_errors(run_ids):
    """The ids among ``run_ids`` whose report has an error (the red triangle), in one query."""
    if not run_ids:
        return set()
    return set(db.session.execute(
        select(ReportItem.run_id).where(ReportItem.run_id.in_(run_ids), ReportItem.severity == "error")
        .distinct()).scalars())


def has_errors(run, error_run_ids=None):
    if run.status == RunStatus.FAILED.value:
        return True
    if (run.counts or {}).get("errors"):
        return True
    return error_run_ids is not None and run.id in error_run_ids


def files_by_run(run_ids):
    if not run_ids:
        return {}
    result = {}
    for f in db.session.execute(select(RunFile).where(RunFile.run_id.in_(run_ids)).order_by(RunFile.id)).scalars():
        result.setdefault(f.run_id, []).append(f)
    return result


def last_runs(profile_id, limit=5):
    """The latest runs of a profile (test and production), their files and whether they had errors."""
    runs = db.session.execute(
        select(Run).options(joinedload(Run.started_by)).where(Run.profile_id == profile_id)
        .order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)).scalars().all()
    ids = [r.id for r in runs]
    return runs, files_by_run(ids), runs_with_errors(ids)


def scheduled_runs(profile_id=None):
    query = (select(Run).options(joinedload(Run.profile), joinedload(Run.started_by))
             .where(Run.status == RunStatus.SCHEDULED.value).order_by(Run.run_at, Run.id))
    if profile_id is not None:
        query = query.where(Run.profile_id == profile_id)
    return db.session.execute(query).scalars().all()


def profile_runs(profile_id, mode=None, status=None, page=1, per_page=PAGE_SIZE):
    """Show exports: every run of one profile, newest first, filtered by P/T and status."""
    conditions = [Run.profile_id == profile_id]
    if mode in ("test", "production"):
        conditions.append(Run.mode == mode)
    if status:
        conditions.append(Run.status == status)
    query = (select(Run).options(joinedload(Run.started_by)).where(*conditions)
             .order_by(Run.started_at.desc(), Run.id.desc()))
    return paginate(query, page, per_page, select(func.count()).select_from(Run).where(*conditions))


def time_left(run, now=None):
    """Estimated time left of a working run, from its pace so far in this phase; None when unknown."""
    if run.status not in {s.value for s in WORKING_STATUSES} or not run.total or not run.done:
        return None
    started = run.phase_started_at or run.started_at
    now = now or run.progress_at or utcnow()
    elapsed = (now - started).total_seconds()
    if elapsed <= 0 or run.done >= run.total:
        return timedelta(0) if run.done >= (run.total or 0) else None
    return timedelta(seconds=round(elapsed * (run.total - run.done) / run.done))


def percent(run):
    if not run.total:
        return 0
    return min(100, int(100 * run.done / run.total))


def is_live(run):
    """The status partial keeps polling while this is true."""
    return run.status not in {s.value for s in FINAL_STATUSES} and run.status not in (
        RunStatus.PREPARED.value, RunStatus.PARTIALLY_PROCESSED.value, RunStatus.SCHEDULED.value)


def is_active(run):
    return run.status in {s.value for s in ACTIVE_STATUSES}


def search_debtors(query, company_id=None, limit=DEBTOR_RESULTS):
    """Active search over the debtors: by number prefix or name fragment, the first ``limit`` by name."""
    text = (query or "").strip()
    stmt = select(Debtor)
    if company_id is not None:
        stmt = stmt.where(Debtor.company_id == company_id)
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(or_(Debtor.number.startswith(text), func.lower(Debtor.name).like(like)))
    return db.session.execute(stmt.order_by(Debtor.name, Debtor.number).limit(limit)).scalars().all()


def debtors_by_number(numbers, company_id=None):
    if not numbers:
        return []
    stmt = select(Debtor).where(Debtor.number.in_(list(numbers)))
    if company_id is not None:
        stmt = stmt.where(Debtor.company_id == company_id)
    return db.session.execute(stmt.order_by(Debtor.name)).scalars().all()


def unknown_debtors(numbers, company_id=None):
    found = {d.number for d in debtors_by_number(numbers, company_id)}
    return [n for n in numbers if n not in found]


@dataclass
class ProductionPreview:
    """What a production run over a window will record, and what the next one will then deliver."""
    sync_type: str
    recorded_records: int        # records of this profile the ledger already holds for the window
    recorded_runs: int           # production runs those came from
    last_production: object      # the latest production run of the profile (or None)


def production_preview(profile, window_start, window_end):
    """Read from the ledger (one grouped query): what is already recorded for the window."""
    low, high = window_start.isoformat(), (window_end + timedelta(days=1)).isoformat()
    counts = db.session.execute(
        select(func.count(), func.count(func.distinct(LedgerEntry.run_id)))
        .where(LedgerEntry.profile_id == profile.id, LedgerEntry.rolled_back.is_(False),
               LedgerEntry.removed.is_(False), LedgerEntry.window_value >= low,
               LedgerEntry.window_value < high)).one()
    last = db.session.execute(
        select(Run).where(Run.profile_id == profile.id, Run.mode == "production",
                          Run.status.in_(["exported", "partially_processed"]))
        .order_by(Run.started_at.desc(), Run.id.desc()).limit(1)).scalar_one_or_none()
    return ProductionPreview(profile.sync_type, counts[0], counts[1], last)


def mapping_history(profile_id, limit=200):
    return db.session.execute(
        select(MappingHistoryEntry).where(MappingHistoryEntry.profile_id == profile_id)
        .order_by(MappingHistoryEntry.status_date.desc(), MappingHistoryEntry.id.desc()).limit(limit)
    ).scalars().all()


def prepared_rows(run_id, errors_only=False, page=1, per_page=50):
    """One page of a run's prepared rows in delivery order; the order and the count follow the
    (run_id, group_key, seq) index, so a page of a 1,000,000-row run does not sort the run."""
    conditions = [PreparedRow.run_id == run_id]
    if errors_only:
        conditions.append(or_(PreparedRow.error.isnot(None), PreparedRow.invalid.is_(True)))
    query = select(PreparedRow).where(*conditions).order_by(PreparedRow.group_key, PreparedRow.seq)
    return paginate(query, page, per_page, select(func.count()).select_from(PreparedRow).where(*conditions))


def latest_run(profile_id):
    return db.session.execute(
        select(Run).where(Run.profile_id == profile_id, Run.status != RunStatus.CANCELLED.value)
        .order_by(Run.started_at.desc(), Run.id.desc()).limit(1)).scalar_one_or_none()

