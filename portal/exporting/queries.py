"""Every read of the export engine's data: what the pages, the overview, the CLI and the tests show.

Nothing here changes anything (the commands are in ``services.py``), and no rule is decided here (the
rules are on the models: ``Run.has_errors``, ``Run.record_count``, ``Run.can_roll_back`` …). Lists
load their related rows in one query each (no N+1).
"""
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal_column, null, or_, select, true, union_all
from sqlalchemy.orm import contains_eager, joinedload, load_only, undefer

from ..extensions import db
from ..i18n import org_timezone
from ..models import Company, Debtor, IntegrationAccount, User, utcnow
from ..models.overview import COMPLETED_ON, RunStatusCount
from ..models.exporting import (
    ACTIVE_STATUSES, DELIVERY_ORDER, WORKING_STATUSES, ExportProfile, LedgerCurrent, LedgerEntry,
    MappingHistoryEntry, PreparedRow, ReportItem, Run, RunFile, RunMode, RunStatus, Severity, error_count,
)
from ..models.visma_delivery import VismaDocument
from ..pagination import KeysetPage, count_capped, keyset_page, paginate
from . import debtor_selection, windows
from .errors import ExportError
from .providers import get_provider
from .types import all_types, get_type
from .types.base import SourceContext

S = RunStatus
DEBTOR_RESULTS = 25
PAGE_SIZE = 25


# --- profiles -------------------------------------------------------------------------------------

def get_profile(profile_id, include_archived=False):
    profile = db.session.get(ExportProfile, profile_id)
    if profile is None or (profile.archived and not include_archived):
        return None
    return profile


def list_profiles(*, include_archived=False):
    stmt = select(ExportProfile).order_by(ExportProfile.name, ExportProfile.id)
    if not include_archived:
        stmt = stmt.where(ExportProfile.archived.is_(False))
    return db.session.execute(stmt).scalars().all()


def profiles_by_type(include_archived=False):
    """[(export type, key, [(profile, latest run or None)])] in the registry's order: 3 queries."""
    profiles = list(list_profiles(include_archived=include_archived))
    latest = {}
    if profiles:
        ids = select(func.max(Run.id)).where(Run.profile_id.in_([p.id for p in profiles])).group_by(Run.profile_id)
        latest = {r.profile_id: r for r in db.session.execute(
            select(Run).options(undefer(Run.report_has_errors)).where(Run.id.in_(ids))).scalars()}
    order = {t.key: i for i, t in enumerate(all_types())}
    types = {t.key: t for t in all_types()}
    profiles.sort(key=lambda p: (order.get(p.export_type, 99), p.name.lower()))
    groups = []
    for profile in profiles:
        if not groups or groups[-1][1] != profile.export_type:
            groups.append((types.get(profile.export_type), profile.export_type, []))
        groups[-1][2].append((profile, latest.get(profile.id)))
    return groups


def run_count(profile_id):
    return db.session.execute(select(func.count()).select_from(Run).where(Run.profile_id == profile_id)).scalar_one()


def has_delivery_history(profile_id):
    """Whether the profile has exports that later exports build on with its export type, provider and
    integration account (``services.check_fixed_settings``): ledger entries that count (what production
    exports delivered: record keys, fingerprints and payloads of its export type, delivered to its
    provider), production documents Visma.net holds (later changes update, credit or void them through
    the same account, roll back or not), or a run — test or production — that has not finished: it
    prepares or exports with the profile as it is when it goes on."""
    pid = profile_id
    ledger = select(LedgerEntry.id).where(LedgerEntry.profile_id == pid, LedgerEntry.rolled_back.is_(False))
    unfinished = select(Run.id).where(Run.profile_id == pid, Run.status.in_([s.value for s in ACTIVE_STATUSES]))
    at_visma = (select(VismaDocument.id).join(Run, Run.id == VismaDocument.run_id)
                .where(Run.profile_id == pid, Run.mode == RunMode.PRODUCTION.value,
                       VismaDocument.mode == RunMode.PRODUCTION.value, VismaDocument.state.in_(("sent", "sending"))))
    return bool(db.session.execute(select(ledger.exists() | unfinished.exists() | at_visma.exists())).scalar())


def companies():
    return db.session.execute(select(Company).order_by(Company.name)).scalars().all()


def integration_accounts():
    """The integration accounts a Visma.net profile can send through, by name."""
    return db.session.execute(select(IntegrationAccount).order_by(IntegrationAccount.name)).scalars().all()


def columns_for(profile):
    """The export type's columns (an unknown, removed type still shows its rows' Active/Processed/Error)."""
    try:
        return get_type(profile.export_type).columns()
    except ExportError:
        current_app.logger.warning("no columns for export type %s", profile.export_type)
        return []


def label_columns_for(profile):
    """The columns whose values name a prepared row for a person, in order ([]: its record key)."""
    try:
        export_type = get_type(profile.export_type)
    except ExportError:
        return []
    by_key = {column.key: column for column in export_type.columns()}
    return [by_key[key] for key in export_type.label_columns or () if key in by_key]


# --- runs -----------------------------------------------------------------------------------------

def get_run(run_id):
    """The run with its profile and starter, or None."""
    return db.session.execute(
        select(Run).options(joinedload(Run.profile), joinedload(Run.started_by)).where(Run.id == run_id)
    ).scalar_one_or_none()


def require_run(run_id):
    """The run, or the refusal a service or the CLI shows when it does not exist."""
    run = db.session.get(Run, run_id)
    if run is None:
        raise ExportError(_l("Export %(run)s does not exist."), code="unknown_run", run=run_id)
    return run


def list_runs(*, profile_id=None, statuses=None, mode=None, offset=0, limit=50):
    """Runs, newest first (every export that ran, test and production)."""
    stmt = select(Run).order_by(Run.id.desc())
    if profile_id is not None:
        stmt = stmt.where(Run.profile_id == profile_id)
    if statuses:
        stmt = stmt.where(Run.status.in_([getattr(st, "value", st) for st in statuses]))
    if mode:
        stmt = stmt.where(Run.mode == mode)
    return db.session.execute(stmt.offset(offset).limit(limit)).scalars().all()


def latest_run(profile_id, statuses=None, mode=None):
    """The profile's newest run (among ``statuses``; by default any but a cancelled one; of ``mode``)."""
    stmt = select(Run).where(Run.profile_id == profile_id)
    if mode:
        stmt = stmt.where(Run.mode == mode)
    if statuses:
        stmt = stmt.where(Run.status.in_([getattr(st, "value", st) for st in statuses]))
    else:
        stmt = stmt.where(Run.status != S.CANCELLED.value)
    return db.session.execute(stmt.order_by(Run.id.desc()).limit(1)).scalar()


def active_production_run(profile_id):
    """The production run that holds the profile (at most one), or None."""
    return db.session.execute(select(Run).where(
        Run.profile_id == profile_id, Run.mode == RunMode.PRODUCTION.value,
        Run.status.in_([s.value for s in ACTIVE_STATUSES]))).scalar()


def scheduled_runs(profile_id=None):
    """Runs waiting for their time, soonest first (they can be cancelled)."""
    query = (select(Run).options(joinedload(Run.profile), joinedload(Run.started_by))
             .where(Run.status == S.SCHEDULED.value).order_by(Run.run_at, Run.id))
    if profile_id is not None:
        query = query.where(Run.profile_id == profile_id)
    return db.session.execute(query).scalars().all()


def files_by_run(run_ids):
    if not run_ids:
        return {}
    result = {}
    for f in db.session.execute(select(RunFile).where(RunFile.run_id.in_(run_ids)).order_by(RunFile.id)).scalars():
        result.setdefault(f.run_id, []).append(f)
    return result


def last_runs(profile_id, limit=5):
    """The latest runs of a profile (test and production) and their files."""
    runs = db.session.execute(
        select(Run).options(joinedload(Run.started_by), undefer(Run.report_has_errors))
        .where(Run.profile_id == profile_id)
        .order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)).scalars().all()
    return runs, files_by_run([r.id for r in runs])


def profile_runs(profile_id, mode=None, status=None, page=1, per_page=PAGE_SIZE):
    """Show exports: every run of one profile, newest first, filtered by P/T and status."""
    conditions = [Run.profile_id == profile_id]
    if mode in ("test", "production"):
        conditions.append(Run.mode == mode)
    if status:
        conditions.append(Run.status == status)
    order = (Run.started_at.desc(), Run.id.desc())
    query = (select(Run).options(joinedload(Run.started_by), undefer(Run.report_has_errors)).where(*conditions)
             .order_by(*order))
    # The OFFSET over the ids only (ix_runs_profile_started), as the overview: a deep page skips narrow rows.
    keys = select(Run.id).where(*conditions).order_by(*order)
    return paginate(query, page, per_page, select(func.count()).select_from(Run).where(*conditions),
                    keys=keys, key_column=Run.id)


def time_left(run, now=None):
    """Estimated time left of a working run, from its pace so far in this phase; None when unknown.
    The one estimate (the run page and ``progress``)."""
    if run.status not in {s.value for s in WORKING_STATUSES} or not run.total or not run.done:
        return None
    started = run.phase_started_at or run.started_at
    now = now or run.progress_at or utcnow()
    elapsed = (now - started).total_seconds()
    if elapsed <= 0 or run.done >= run.total:
        return timedelta(0) if run.done >= (run.total or 0) else None
    return timedelta(seconds=round(elapsed * (run.total - run.done) / run.done))


def progress(run):
    """Phase, done, total and the estimated seconds left (None when unknown)."""
    left = time_left(run)
    return {"phase": run.phase, "done": run.done, "total": run.total,
            "seconds_left": left.total_seconds() if left is not None else None}


# --- files and report -----------------------------------------------------------------------------

def run_files(run_id):
    return db.session.execute(select(RunFile).where(RunFile.run_id == run_id).order_by(RunFile.id)).scalars().all()


def run_file(run_id, file_id):
    return db.session.execute(
        select(RunFile).where(RunFile.run_id == run_id, RunFile.id == file_id)).scalar_one_or_none()


def file_path(run_file):
    """The stored file, only when it lies inside the storage directory."""
    root = os.path.realpath(current_app.config["PORTAL_STORAGE_DIR"])
    path = os.path.realpath(run_file.path if os.path.isabs(run_file.path)
                            else os.path.join(root, run_file.path))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path


def report_items(run_id, limit=500):
    """The report's problems, errors first; ``limit`` keeps a huge report's page small."""
    return db.session.execute(
        select(ReportItem).where(ReportItem.run_id == run_id)
        .order_by((ReportItem.severity != Severity.ERROR), (ReportItem.severity != Severity.WARNING), ReportItem.id)
        .limit(limit)).scalars().all()


def report_counts(run_id):
    """{severity: count} of a run's report; errors: each failed row once, resolved ones not
    (``models.exporting.error_count``)."""
    counts = dict(db.session.execute(
        select(ReportItem.severity, func.count()).where(ReportItem.run_id == run_id)
        .group_by(ReportItem.severity)).all())
    if counts.get(Severity.ERROR):
        counts[Severity.ERROR] = error_count(run_id)
    return counts


# --- prepared data, ledger, mapping history ---------------------------------------------------------

PREPARED_PER_PAGE = 50
PREPARED_COUNT_CAP = 10_000


class UnknownPageToken(LookupError):
    """A page was asked for after or before a row that is not one of the run's rows."""


def prepared_problem():
    """"Errors only": rows that failed validation or that the provider refused (the partial index
    ``ix_prepared_rows_problem`` holds exactly these rows: keep the two conditions the same)."""
    return or_(PreparedRow.error.isnot(None), PreparedRow.invalid.is_(True))


def prepared_rows(run_id, errors_only=False, *, after=None, before=None, last=False,
                  per_page=PREPARED_PER_PAGE):
    """One page of a run's prepared rows in delivery order (group, seq, id), by keyset: the first page,
    the page after the row ``after`` or before the row ``before`` (row ids), or the last page. Each is one
    range of the (run_id, group_key, seq, id) index, so a page of a 1,000,000-row run costs what a page
    of a 1,000-row run costs; the count stops at ``PREPARED_COUNT_CAP``. Raises ``UnknownPageToken``
    when ``after``/``before`` is not a row of the run."""
    conditions = [PreparedRow.run_id == run_id]
    if errors_only:
        conditions.append(prepared_problem())
    order = DELIVERY_ORDER
    keys = {}
    for name, row_id in (("after", after), ("before", before)):
        if row_id is not None:
            key = db.session.execute(select(*order).where(PreparedRow.run_id == run_id,
                                                          PreparedRow.id == row_id)).one_or_none()
            if key is None:
                raise UnknownPageToken(row_id)
            keys[name] = tuple(key)
    items, has_prev, has_next = keyset_page(select(PreparedRow).where(*conditions), order, per_page,
                                            after=keys.get("after"), before=keys.get("before"), last=last)
    total, capped = count_capped(select(PreparedRow.id).where(*conditions), PREPARED_COUNT_CAP)
    return KeysetPage(items, per_page, has_prev, has_next, total, capped)


def row_states(run_id, row_ids):
    """{row id: (id, active, processed, invalid)} of the run's rows among ``row_ids`` — delivered and invalid
    rows too: a tick changed on a row delivered meanwhile must be refused, not lost (``set_rows_active``)."""
    return {row.id: row for row in db.session.execute(
        select(PreparedRow.id, PreparedRow.active, PreparedRow.processed, PreparedRow.invalid)
        .where(PreparedRow.run_id == run_id, PreparedRow.id.in_(row_ids))).all()}


def mapping_history(profile_id, limit=200):
    return db.session.execute(
        select(MappingHistoryEntry).where(MappingHistoryEntry.profile_id == profile_id)
        .order_by(MappingHistoryEntry.status_date.desc(), MappingHistoryEntry.id.desc()).limit(limit)
    ).scalars().all()


def run_history_lines(run_id):
    """A run's mapping-history lines, newest first (what its roll back removes)."""
    return db.session.execute(
        select(MappingHistoryEntry).where(MappingHistoryEntry.run_id == run_id)
        .order_by(MappingHistoryEntry.id.desc())).scalars().all()


# --- start export: debtors and the production preview -------------------------------------------------

def search_debtors(query, company_id=None, limit=DEBTOR_RESULTS):
    """Active search over the debtors: by number prefix or name fragment, the first ``limit`` by name.
    Returns (debtors, more): ``more`` when further debtors match (the page asks to refine the search).
    ``%`` and ``_`` are searched for as themselves, not as LIKE's wildcards."""
    text = (query or "").strip()
    stmt = select(Debtor)
    if company_id is not None:
        stmt = stmt.where(Debtor.company_id == company_id)
    if text:
        stmt = stmt.where(or_(Debtor.number.startswith(text, autoescape=True),
                              func.lower(Debtor.name).contains(text.lower(), autoescape=True)))
    found = db.session.execute(stmt.options(joinedload(Debtor.company)).order_by(Debtor.name, Debtor.number)
                               .limit(limit + 1)).scalars().all()
    return found[:limit], len(found) > limit


def chosen_debtors(form_values, company_id=None):
    """The debtors the Start export picker posted (``debtor_selection.form_value``: company and number),
    those that exist, in company-and-number order."""
    return debtor_selection.lookup(debtor_selection.from_form(form_values), company_id)


def run_debtors(run):
    """The debtors of a run's debtor selection, each with its company (``debtor_selection.Chosen``); a run
    started before debtors were stored with their company: every debtor of the profile's companies with
    those numbers, which is what it exported."""
    return debtor_selection.chosen(run.params, run.profile.company_id)


@dataclass
class ProductionPreview:
    """What a production run over a window will record, and what the next one will then deliver."""
    sync_type: str
    recorded_records: int        # records of this profile the ledger already holds for the window
    recorded_runs: int           # production runs those came from
    last_production: object      # the latest production run of the profile (or None)
    for_debtors: bool = False    # counted for the chosen debtors only


def production_preview(profile, window_start, window_end, debtors=None):
    """Read from the current ledger (one grouped query): the records it holds for the window now — each
    record once, however often it was delivered; none that a roll back took out or a removal ended —
    and the production runs that delivered them as they are. The window's bounds are the engine's
    (``SourceContext.window_value_bounds``): for a type whose window is a time (payments, hours,
    products), the local days in the organisation's time zone as the UTC times the ledger stores.
    ``debtors``: the run's debtor selection (``debtor_selection.subjects``: company and number; empty
    or None: every debtor) — only those debtors' records, as the run's removals see the ledger."""
    kind = get_type(profile.export_type).window_kind
    low, high = SourceContext(window_start, window_end, profile.company_id, {}, org_timezone()) \
        .window_value_bounds(kind)
    conditions = [LedgerCurrent.profile_id == profile.id, LedgerCurrent.window_value >= low,
                  LedgerCurrent.window_value < high]
    if debtors:
        conditions.append(debtor_selection.condition(LedgerCurrent.company_id, LedgerCurrent.subject_key, debtors))
    counts = db.session.execute(
        select(func.count(), func.count(func.distinct(LedgerCurrent.run_id))).where(*conditions)).one()
    last = db.session.execute(
        select(Run).where(Run.profile_id == profile.id, Run.mode == RunMode.PRODUCTION.value,
                          Run.status.in_([S.EXPORTED.value, S.PARTIALLY_PROCESSED.value]))
        .order_by(Run.started_at.desc(), Run.id.desc()).limit(1)).scalar_one_or_none()
    return ProductionPreview(profile.sync_type, counts[0], counts[1], last, for_debtors=bool(debtors))


# --- roll back: what it would undo ----------------------------------------------------------------------

@dataclass
class RollBackPlan:
    refusal: str | None = None
    prepared_rows: int = 0
    ledger_entries: int = 0
    history_lines: list = field(default_factory=list)    # the run's mapping-history lines, newest first
    delivered_to_api: bool = False
    files: bool = False

    @property
    def history_line(self):
        """The latest of ``history_lines`` (None: none)."""
        return self.history_lines[0] if self.history_lines else None


def roll_back_plan(run):
    """Exactly what a roll back of ``run`` would undo (the rule is ``Run.roll_back_refusal``)."""
    refusal = run.roll_back_refusal()
    if refusal is not None:
        return RollBackPlan(refusal=str(refusal))
    rows = db.session.execute(select(func.count()).select_from(PreparedRow)
                              .where(PreparedRow.run_id == run.id)).scalar_one()
    plan = RollBackPlan(prepared_rows=rows, files=bool(run.counts and run.counts.get("processed")))
    if run.is_production:
        plan.ledger_entries = run.recorded_count()
        plan.history_lines = run_history_lines(run.id)
        plan.delivered_to_api = run.profile.provider != "file" and bool(plan.ledger_entries)
    return plan


# --- the scenarios table (seed 000) ----------------------------------------------------------------------

# The operations of the scenarios table, in the order of seed 000.
OPERATIONS = ("prepare_and_export", "prepare", "export", "roll_back")
# Which latest production run a scenario row shows, per operation (the statuses the commands act on).
SCENARIO_FITS = {
    "export": (S.PREPARED, S.PARTIALLY_PROCESSED),
    "roll_back": (S.PREPARED, S.PARTIALLY_PROCESSED, S.EXPORTED, S.FAILED),
}


@dataclass
class ScenarioRow:
    profile: ExportProfile
    run: Run | None
    prepared_on: object

    @property
    def completed_on(self):
        if self.run.status in (S.EXPORTED.value, S.PARTIALLY_PROCESSED.value):
            return self.run.finished_at
        return None


def scenarios(operation):
    """The scenarios (profiles) whose status fits ``operation``, each with its latest run: three queries."""
    profiles = list_profiles()
    ids = [p.id for p in profiles]
    if not ids:
        return []
    latest_ids = select(func.max(Run.id)).where(Run.profile_id.in_(ids), Run.mode == RunMode.PRODUCTION.value)
    fits = [s.value for s in SCENARIO_FITS.get(operation, ())]
    if fits:
        latest_ids = latest_ids.where(Run.status.in_(fits))
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
        if fits:
            if run is None:
                continue
        elif run is not None and run.is_active:
            continue  # a scenario with a production run under way cannot be prepared again
        rows.append(ScenarioRow(profile, run, prepared_on.get(run.id) if run else None))
    return rows


def roll_back_plans(profile_ids):
    """(profile, run, plan) for the run a roll back from the scenarios table would undo."""
    fitting = {row.profile.id: row for row in scenarios("roll_back")}
    plans = []
    for profile_id in dict.fromkeys(profile_ids):
        row = fitting.get(profile_id)
        if row is not None:
            plans.append((row.profile, row.run, roll_back_plan(row.run)))
    return plans


@dataclass
class ProcessPlan:
    """What Process / Process all with a delivering operation would do to one scenario: the run it starts
    (over ``window``) or exports (``run``), and where the data goes."""
    profile: ExportProfile
    window: tuple
    run: Run | None = None          # export: the prepared production export it exports
    refusal: str | None = None      # why the provider would refuse it now (e.g. its Visma.net account)

    @property
    def sends_to_visma(self):
        return self.profile.provider == "visma_net"

    @property
    def file_format(self):
        return (self.profile.options or {}).get("format", "")


# The scenario operations that deliver data in production: Process asks first (like Start export does).
DELIVERING_OPERATIONS = ("prepare_and_export", "export")


def process_plans(profile_ids, operation):
    """([ProcessPlan], [left-out profile]) for Process with ``operation``: the selected scenarios whose
    status fits it (as the scenarios table lists them), and the selected ones that do not."""
    fitting = {row.profile.id: row for row in scenarios(operation)}
    plans, left_out = [], []
    for profile_id in dict.fromkeys(profile_ids):
        row = fitting.get(profile_id)
        if row is None:
            profile = get_profile(profile_id)
            if profile is not None:
                left_out.append(profile)
            continue
        if operation == "export":
            plan = ProcessPlan(row.profile, (row.run.window_start, row.run.window_end), row.run)
        else:
            plan = ProcessPlan(row.profile, windows.default_window(row.profile))
        plan.refusal = production_refusal(row.profile)
        plans.append(plan)
    return plans, left_out


def production_refusal(profile):
    """What the provider would refuse a production start of ``profile`` for now (Visma.net: the account is
    not authorised, the sync has stopped), as text — said in a confirmation instead of its Yes (Start
    export, Scenarios' Process); the start makes the same check again. None when it would start."""
    try:
        get_provider(profile.provider).check_start(profile, "production")
    except ExportError as exc:
        return str(exc)
    return None


# --- cancel: what it would do ----------------------------------------------------------------------------

@dataclass
class CancelPlan:
    prepared_rows: int = 0        # the run's prepared rows: kept, but no longer exported
    delivered_rows: int = 0       # rows already delivered: they stay delivered
    recorded: int = 0             # ledger entries of the run: they stay recorded (a cancelled run is final)


def cancel_plan(run):
    """What cancelling ``run`` keeps (``services.cancel_run`` changes only its status)."""
    prepared, delivered = db.session.execute(
        select(func.count(), func.count().filter(PreparedRow.processed.is_(True)))
        .where(PreparedRow.run_id == run.id)).one()
    return CancelPlan(prepared_rows=prepared, delivered_rows=delivered,
                      recorded=run.recorded_count() if run.is_production else 0)


# --- the overview of every export: filtered, sorted and paged in the database ---------------------------
# One query for the page (runs joined with their profile and starter, and whether their report has an
# error), one for the count, one for the totals per status: whatever the page size. The filters use the
# indexes on ``runs`` (see ``portal/models/overview.py``).

OVERVIEW_PER_PAGE = 50
OVERVIEW_SORTS = {
    # Completed on: what the column shows (not ``finished_at``, which a prepared run exported again keeps).
    "started": Run.started_at, "finished": COMPLETED_ON, "profile": ExportProfile.name,
    "status": Run.status, "mode": Run.mode, "window": Run.window_start,
}


@dataclass
class OverviewFilters:
    profile_id: int | None = None
    export_type: str | None = None
    company_id: int | None = None
    mode: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    started_by_id: int | None = None
    sort: str = "started"
    direction: str = "desc"
    errors: list = field(default_factory=list)
    # Conditions a feature adds (e.g. only runs a schedule started): the engine imports no feature.
    extra: list = field(default_factory=list)

    def conditions(self, with_status=True):
        return self.profile_conditions() + self.run_conditions(with_status)

    def profile_conditions(self):
        """The conditions on the run's profile (``ExportProfile``)."""
        conditions = []
        if self.export_type:
            conditions.append(ExportProfile.export_type == self.export_type)
        if self.company_id:
            # A profile of all companies (no company) may hold the chosen company's data: its exports match
            # too (the rows say which profiles cover all companies). Profiles are few: no index needed.
            conditions.append(or_(ExportProfile.company_id == self.company_id, ExportProfile.company_id.is_(None)))
        return conditions

    def run_conditions(self, with_status=True):
        """The conditions on ``Run`` itself."""
        conditions = []
        if self.profile_id:
            conditions.append(Run.profile_id == self.profile_id)
        if self.mode in ("test", "production"):
            conditions.append(Run.mode == self.mode)
        if with_status and self.status:
            conditions.append(Run.status == self.status)
        tz = org_timezone()
        if self.date_from:
            conditions.append(Run.started_at >= _utc(self.date_from, tz))
        if self.date_to:
            conditions.append(Run.started_at < _utc(self.date_to + timedelta(days=1), tz))
        if self.started_by_id:
            conditions.append(Run.started_by_id == self.started_by_id)
        conditions.extend(self.extra)
        return conditions

    def counts_per_status_suffice(self):
        """Whether the totals per status can be read from ``run_status_counts`` (kept per profile, P/T and
        status): no filter on the runs' dates or starter, and no condition a feature added."""
        return not (self.date_from or self.date_to or self.started_by_id or self.extra)

    def needs_profile_join(self, sorting=False):
        """Whether the filters (or, with ``sorting``, the sort) read the profile: counts and totals join it
        only for a filter (a join over 100,000 runs costs tens of milliseconds)."""
        return bool(self.export_type or self.company_id) or (sorting and self.sort == "profile")


def _nulls_last(column, order):
    """Only a nullable column needs NULLS LAST; on a NOT NULL one it would keep PostgreSQL from walking
    the index backwards (and make it sort 100,000 runs for a page of 50)."""
    return order.nulls_last() if getattr(column, "nullable", True) else order


def _utc(day, tz):
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def _base(filters, with_status=True):
    query = select(Run).join(Run.profile).outerjoin(Run.started_by)
    return query.where(*filters.conditions(with_status))


# What a row of the overview shows (``templates/overview/index.html``, ``run_cells``): only these columns
# are read and turned into objects (not the runs' parameters and progress, the profiles' options, the
# starters' accounts; the attempts, a number, tell a cancelled run that never ran: ``Run.never_ran``). Another attribute read in a row would load it run by run: the
# overview's test counts the statements of a page.
OVERVIEW_ROW_COLUMNS = (
    load_only(Run.id, Run.profile_id, Run.mode, Run.status, Run.counts, Run.total, Run.window_start,
              Run.window_end, Run.started_by_id, Run.started_at, Run.finished_at, Run.attempts),
    undefer(Run.report_has_errors),
    contains_eager(Run.profile).load_only(ExportProfile.name, ExportProfile.export_type, ExportProfile.company_id),
    contains_eager(Run.started_by).load_only(User.name),
)


def _overview_order(filters):
    """The page's ORDER BY: the chosen column, then ties by profile (for the profile sort) and id, so the
    order is unique. Sorted by profile name the order is (name, profile id, run id): SQLite walks
    ``ix_export_profiles_name`` and ``ix_runs_profile_id`` in that order and sorts nothing."""
    column = OVERVIEW_SORTS.get(filters.sort, Run.started_at)
    desc = filters.direction == "desc"
    order = [_nulls_last(column, column.desc() if desc else column.asc())]
    if filters.sort == "profile":
        order.append(ExportProfile.id.desc() if desc else ExportProfile.id.asc())
    order.append(Run.id.desc() if desc else Run.id.asc())
    return order


def overview_page(filters, page=1, per_page=OVERVIEW_PER_PAGE, totals=None):
    """One numbered page of the overview. The OFFSET is taken over the runs' ids only (a "deferred join":
    the filter and sort columns come from indexes, narrow), and only the page's 50 runs are then read
    whole with their profile and starter: sorting or skipping 100,000 whole rows is what made a deep
    page slow."""
    order = _overview_order(filters)
    if filters.sort == "profile" and db.session.get_bind().dialect.name == "postgresql":
        ids = _ids_by_profile(filters)
    else:
        ids = select(Run.id).select_from(Run)
        if filters.needs_profile_join(sorting=True):
            ids = ids.join(Run.profile)
        ids = ids.where(*filters.conditions()).order_by(*order)
    query = (_base(filters).options(*OVERVIEW_ROW_COLUMNS).order_by(*order))
    if totals is not None:
        count = totals.get(filters.status, 0) if filters.status else sum(totals.values())
    else:
        count = select(func.count()).select_from(Run)
        if filters.needs_profile_join():
            count = count.join(Run.profile)
        count = count.where(*filters.conditions())
    return paginate(query, page, per_page, count, keys=ids, key_column=Run.id)


def _ids_by_profile(filters):
    """The matching runs' ids in the profile sort's order (name, profile id, run id), as a shape PostgreSQL
    walks instead of sorting: the (few) profiles in name order, and for each of them, LATERAL, its runs
    in id order from ``ix_runs_profile_id`` (profile_id, id). A nested loop gives the rows in exactly
    that order; the plain ORDER BY over the join made PostgreSQL sort every matching run before the
    OFFSET (it does not choose the ordered nested loop itself). Each subquery keeps its ORDER BY (a
    subquery with one is not flattened) and a LATERAL reference can only be joined by a nested loop."""
    desc = filters.direction == "desc"
    profiles = (select(ExportProfile.id, ExportProfile.name).where(*filters.profile_conditions())
                .order_by(*([ExportProfile.name.desc(), ExportProfile.id.desc()] if desc
                            else [ExportProfile.name.asc(), ExportProfile.id.asc()]))
                .subquery("overview_profiles"))
    runs = (select(Run.id).where(Run.profile_id == profiles.c.id, *filters.run_conditions())
            .order_by(Run.id.desc() if desc else Run.id.asc()).lateral("overview_runs"))
    return select(runs.c.id).select_from(profiles.join(runs, true()))


def overview_totals(filters):
    """{status: count} with every filter but the status one (so the totals show the whole spread).

    Filtered by nothing but the profile, its type or company, and P/T, the counts come from
    ``run_status_counts`` (kept by the database's triggers on ``runs``, exact in every transaction): a
    few rows per profile instead of every run (100,000 runs: 7–13 ms of index-only scan). A filter on
    the runs' dates or starter still counts the matching runs."""
    if not filters.counts_per_status_suffice():
        return _counted_totals(filters)
    query = select(RunStatusCount.status, func.sum(RunStatusCount.run_count)).where(RunStatusCount.run_count > 0)
    if filters.profile_id:
        query = query.where(RunStatusCount.profile_id == filters.profile_id)
    if filters.mode in ("test", "production"):
        query = query.where(RunStatusCount.mode == filters.mode)
    if filters.needs_profile_join():
        query = query.join(ExportProfile, ExportProfile.id == RunStatusCount.profile_id)
    return {status: int(count) for status, count in
            db.session.execute(query.where(*filters.profile_conditions()).group_by(RunStatusCount.status))}


def _counted_totals(filters):
    query = select(Run.status, func.count()).select_from(Run)
    if filters.needs_profile_join():
        query = query.join(Run.profile)
    return dict(db.session.execute(query.where(*filters.conditions(with_status=False))
                                   .group_by(Run.status)).all())


def overview_rows(filters, batch=2000):
    """Every filtered run, streamed in the page's order (memory stays flat for 100,000 runs)."""
    query = (_base(filters).options(contains_eager(Run.profile), contains_eager(Run.started_by),
                                    undefer(Run.error_total))
             .order_by(*_overview_order(filters)).execution_options(yield_per=batch))
    yield from db.session.execute(query).scalars()


def overview_choices():
    """The filters' lists, each by name: the profiles, the starters (every user — a small table — not
    "who ever started a run": that would scan 100,000 runs per page) and the companies, in one statement
    (three small tables; a statement each cost a round trip on every page)."""
    lists = ("profiles", "starters", "companies")
    parts = union_all(
        select(literal_column("0").label("list"), ExportProfile.id, ExportProfile.name,
               null().label("email")),
        select(literal_column("1"), User.id, User.name, User.email),
        select(literal_column("2"), Company.id, Company.name, null())).subquery()
    choices = {name: [] for name in lists}
    for row in db.session.execute(select(parts).order_by(parts.c.list, parts.c.name, parts.c.id)):
        name = lists[row.list]
        choices[name].append((row.id, row.name, row.email) if name == "starters" else (row.id, row.name))
    return choices
