"""Prepare and export: the work a job does for one run. Memory stays flat: the source is read in pages
by key, prepared rows are inserted in bulk, files are written in chunks, mutations are SQL.
"""
import logging
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from psycopg.types.json import Json
from sqlalchemy import and_, delete, func, insert, or_, select, text, tuple_, update

from ..bulk import bulk_insert
from ..extensions import db
from ..i18n import org_timezone
from ..models import Department, utcnow
from ..models.exporting import (
    MappingHistoryEntry, Mutation, PreparedRow, ReportItem, Run, RunFile, RunMode, RunStatus,
)
from . import sync
from .attempts import Outcome, check, end
from .messages import report_message
from .providers import get_provider
from .providers.base import DeliveryRow
from .states import transition
from .types import get_type
from .types.base import MUTATION_COLUMN, Issue, SourceContext, window_text

log = logging.getLogger(__name__)


# Which benchmark phase each of the run's phases counts to (benchmarks/export_throughput.py).
PHASE_GROUPS = {"preparing": "prepare", "validating": "prepare", "comparing": "compare", "exporting": "write",
                "finishing": "commit"}
# Wall-clock and CPU seconds per benchmark phase of the runs of this process (for the benchmark).
PHASE_SECONDS = {}


class Progress:
    """Writes phase, done and total to the run row, at most a few times per second (and commits).
    Also times the phases (``PHASE_SECONDS``: wall clock and CPU seconds per phase group).

    Every write is also the attempt's heartbeat (``attempts.check``): it raises ``AttemptGivenUp`` when
    the reconciler gave this attempt up, so a worker that was only slow stops without touching the run.
    """

    def __init__(self, run, min_interval=None, attempt=None):
        self.run = run
        self.attempt = attempt
        self.min_interval = (current_app.config.get("EXPORT_PROGRESS_INTERVAL", 0.3)
                             if min_interval is None else min_interval)
        self._last = 0.0
        self._timing = None

    def _clock(self, name):
        now, cpu = time.perf_counter(), time.process_time()
        if self._timing is not None:
            group, started, started_cpu = self._timing
            wall, used = PHASE_SECONDS.setdefault(group, [0.0, 0.0])
            PHASE_SECONDS[group] = [wall + now - started, used + cpu - started_cpu]
        self._timing = (PHASE_GROUPS.get(name, name), now, cpu) if name else None

    def stop_clock(self):
        self._clock(None)

    def phase(self, name, total=None):
        self._clock(name)
        now = utcnow()
        self.run.phase, self.run.total, self.run.done = name, total, 0
        self.run.phase_started_at = now
        self.write()

    def advance(self, done):
        self.run.done = done
        if time.monotonic() - self._last >= self.min_interval:
            self.write()

    def write(self):
        self.run.progress_at = utcnow()
        self.beat()
        db.session.commit()
        self._last = time.monotonic()

    def beat(self):
        if self.attempt is not None:
            check(self.run.id, self.attempt)

    def finish(self):
        """In the run's last transaction, which began with ``beat()``: the attempt ends, completed."""
        self.run.progress_at = utcnow()
        if self.attempt is not None:
            end(self.run.id, self.attempt, Outcome.COMPLETED)


def context_for(run):
    profile = run.profile
    return SourceContext(run.window_start, run.window_end, profile.company_id, dict(run.params or {}),
                         org_timezone())


def _batch_size():
    return int(current_app.config.get("EXPORT_BATCH_SIZE", 2000))


def _add_items(run_id, issues):
    if issues:
        db.session.execute(insert(ReportItem), [
            {"run_id": run_id, "record_key": i.record_key or i.group_key, "severity": i.severity, "code": i.code,
             "params": i.params, "created_at": utcnow()} for i in issues])


def prepare(run, progress):
    """Build, validate and compare the run's rows with the ledger. Leaves them in ``prepared_rows``."""
    profile = run.profile
    export_type = get_type(profile.export_type)
    provider_cls = get_provider(profile.provider)
    ctx = context_for(run)
    run_id = run.id
    # A retried job starts from a clean slate.
    db.session.execute(delete(PreparedRow).where(PreparedRow.run_id == run_id))
    db.session.execute(delete(ReportItem).where(ReportItem.run_id == run_id))
    source = _routed(run_id, export_type.select(ctx), export_type, provider_cls)
    total = db.session.execute(select(func.count()).select_from(source.subquery())).scalar()
    progress.phase("preparing", total)

    id_column = export_type.model.id
    last_id, seq, counts = 0, 0, {"records": 0, "invalid": 0}
    batch_size = _batch_size()
    while True:
        rows = db.session.execute(source.where(id_column > last_id).order_by(id_column).limit(batch_size)).all()
        if not rows:
            break
        values, issues = [], []
        for row in rows:
            payload = export_type.payload(row, ctx)
            key = export_type.record_key(payload)
            row_issues = export_type.row_issues(payload, ctx)
            invalid = [i for i in row_issues if i.invalid]
            seq += 1
            values.append({
                "run_id": run_id, "seq": seq, "record_key": key, "fingerprint": export_type.fingerprint(payload),
                "mutation": Mutation.NEW.value, "window_value": window_text(row.window_value),
                "group_key": export_type.group_key(payload), "company_id": payload.get("company_id"),
                "subject_key": export_type.subject_key(payload), "payload": payload, "active": True,
                "processed": False, "invalid": bool(invalid),
                "error": report_message(invalid[0].code, invalid[0].params) if invalid else None})
            counts["invalid"] += bool(invalid)
            issues.extend(row_issues)
        _insert_rows(values)
        _add_items(run_id, issues)
        last_id = rows[-1].source_id
        counts["records"] = seq
        progress.advance(seq)

    progress.phase("validating")
    set_issues = export_type.set_issues(ctx)
    _add_items(run_id, set_issues)
    for issue in set_issues:
        if issue.invalid and issue.group_key:
            counts["invalid"] += db.session.execute(
                update(PreparedRow).where(PreparedRow.run_id == run_id, PreparedRow.group_key == issue.group_key,
                                          PreparedRow.invalid.is_(False))
                .values(invalid=True, error=report_message(issue.code, issue.params))).rowcount

    progress.phase("comparing")
    _analyze("prepared_rows", "ledger_current")
    sync.mark_mutations(run_id, profile.id, profile.sync_type)
    removed = 0
    if profile.sync_type == "incremental_all":
        low, high = ctx.window_value_bounds(export_type.window_kind)
        subjects = ctx.params.get("debtor_numbers") if export_type.takes("debtor_numbers") else None
        args = dict(seq_base=seq, low=low, high=high, company_id=profile.company_id, subjects=subjects)
        if provider_cls.supports_removals:
            removed = sync.add_removals(run_id, profile.id, **args)
        else:
            left_out = sync.add_removals(run_id, profile.id, count_only=True, **args)
            if left_out:
                _add_items(run_id, [_removals_issue(left_out, provider_cls)])
    # Removals first: they are the ledger's records that no prepared row (changed or not) matches.
    marked = sum(sync.mutation_counts(run_id).values())
    sync.drop_undelivered(run_id, profile.id, profile.sync_type)
    mutations = sync.mutation_counts(run_id)
    counts.update({m.value: mutations.get(m.value, 0) for m in Mutation})
    # What an incremental sync leaves out was delivered before as it is: unchanged. Counted, so that
    # new + changed + unchanged add up to the records in the time window.
    counts[Mutation.UNCHANGED.value] += marked - sum(mutations.values())
    counts["prepared"] = sum(mutations.values())
    counts["invalid"] = db.session.execute(select(func.count()).where(
        PreparedRow.run_id == run_id, PreparedRow.invalid.is_(True))).scalar()
    counts.update(_severity_counts(run_id))
    run.counts = counts
    progress.advance(run.total or 0)
    progress.write()
    return removed


def _routed(run_id, source, export_type, provider_cls):
    """Seed 004: a finance-system provider gets only the departments whose finance system it is; the
    rest is left out of the run and counted (per department) in the report."""
    system = getattr(provider_cls, "finance_system", None)
    routed = export_type.route(source, system) if system else None
    if routed is None:
        return source
    elsewhere = or_(Department.finance_system.is_(None), Department.finance_system != system)
    left = db.session.execute(source.where(elsewhere).with_only_columns(
        func.coalesce(Department.code, ""), func.count()).group_by(Department.code)
        .order_by(Department.code)).all()
    if left:
        _add_items(run_id, [Issue("info", "department_elsewhere", {
            "count": sum(n for _code, n in left), "provider": str(provider_cls.label),
            "departments": ", ".join(code or "–" for code, _n in left)})])
    return routed


_ROW_COLUMNS = ("run_id", "seq", "record_key", "fingerprint", "mutation", "window_value", "group_key", "company_id",
                "subject_key", "payload", "active", "processed", "invalid", "error")


def _insert_rows(values):
    """Bulk insert of prepared rows: COPY on PostgreSQL, executemany elsewhere (same transaction)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        rows = (tuple(Json(v["payload"]) if name == "payload" else v[name] for name in _ROW_COLUMNS)
                for v in values)
        bulk_insert(connection, PreparedRow.__table__, _ROW_COLUMNS, rows)
    else:
        db.session.execute(insert(PreparedRow), values)


def _analyze(*tables):
    """PostgreSQL: fresh statistics after a bulk insert, so that the planner walks the indexes (keyset
    pages, ledger joins) instead of sorting whole runs. Autovacuum would come too late."""
    if db.session.connection().dialect.name == "postgresql":
        for table in tables:
            db.session.execute(text(f"ANALYZE {table}"))


def _removals_issue(count, provider_cls):
    return Issue("info", "removals_left_out", {"count": count, "provider": str(provider_cls.label)})


def _severity_counts(run_id):
    rows = db.session.execute(select(ReportItem.severity, func.count()).where(ReportItem.run_id == run_id)
                              .group_by(ReportItem.severity)).all()
    found = dict(rows)
    return {"errors": found.get("error", 0), "warnings": found.get("warning", 0)}


def _decoder(columns):
    kinds = {c.key: c.kind for c in columns}

    def decode(payload):
        result = {}
        for key, value in payload.items():
            kind = kinds.get(key)
            if value is None or value == "" or kind in (None, "text"):
                result[key] = value
            elif kind == "decimal":
                result[key] = Decimal(value)
            elif kind == "int":
                result[key] = int(value)
            elif kind == "date":
                result[key] = date.fromisoformat(value)
            elif kind == "datetime":
                result[key] = datetime.fromisoformat(value)
            elif kind == "bool":
                result[key] = bool(value)
            else:
                result[key] = value
        return result
    return decode


def export(run, progress):
    """Deliver the run's active, unprocessed, valid rows to the provider; record the outcome.

    The final transaction marks the rows processed (for providers that deliver as a whole), stores the
    files, sets the status and — for a production run — appends to the ledger and the mapping history.
    """
    profile = run.profile
    export_type = get_type(profile.export_type)
    provider_cls = get_provider(profile.provider)
    run_id = run.id
    export_pass = (run.export_passes or 0) + 1
    version = utcnow().replace(microsecond=0)
    # Each export pass is a file version of its own (seed 000): never the name of an earlier pass's file.
    latest = db.session.execute(select(func.max(RunFile.version)).where(RunFile.run_id == run_id)).scalar()
    if latest is not None and version <= latest:
        version = latest + timedelta(seconds=1)
    decode = _decoder([MUTATION_COLUMN] + export_type.columns())
    columns = [MUTATION_COLUMN] + export_type.output_columns(profile.options.get("columns"))
    deliverable = and_(PreparedRow.run_id == run_id, PreparedRow.active.is_(True),
                       PreparedRow.processed.is_(False), PreparedRow.invalid.is_(False))
    total = db.session.execute(select(func.count()).where(deliverable)).scalar()
    progress.phase("exporting", total)
    provider = provider_cls(profile=profile, run=run, export_type=export_type, columns=columns,
                            storage_root=current_app.config["PORTAL_STORAGE_DIR"], export_pass=export_pass,
                            version=version)
    cancel = export_type.supports_cancellation
    reverse = export_type.reverses_changes
    typed = provider.typed_values
    provider.begin()
    try:
        done, last_group, last_seq, stopped = 0, "", -1, False
        while True:
            rows = db.session.execute(
                select(PreparedRow.id, PreparedRow.record_key, PreparedRow.mutation, PreparedRow.payload,
                       PreparedRow.group_key, PreparedRow.seq)
                .where(deliverable, tuple_(PreparedRow.group_key, PreparedRow.seq) > tuple_(last_group, last_seq))
                .order_by(PreparedRow.group_key, PreparedRow.seq).limit(provider.batch_size)).all()
            if not rows:
                break
            batch = []
            delivered = sync.delivered_payloads(profile.id, [
                row.record_key for row in rows if row.mutation == Mutation.CHANGED.value]) if reverse else {}
            for row in rows:
                payload = row.payload
                if row.mutation == Mutation.REMOVED.value and cancel:
                    payload = export_type.cancellation(payload)
                if row.record_key in delivered:     # first take back what was delivered, then the new version
                    reversal = export_type.cancellation(delivered[row.record_key])
                    batch.append(DeliveryRow(row.id, row.record_key, "reversal",
                                             decode(reversal) if typed else reversal, f"{run_id}:{row.record_key}"))
                batch.append(DeliveryRow(row.id, row.record_key, row.mutation,
                                         decode(payload) if typed else payload, f"{run_id}:{row.record_key}"))
            results = provider.deliver(batch)
            if results is not None:
                _record_results(run_id, export_pass, results, provider_cls)
            last_group, last_seq = rows[-1].group_key, rows[-1].seq
            done += len(rows)
            progress.advance(done)
            if provider.stopped:        # the provider stopped on error itself (it sent nothing after it)
                stopped = True
                break
            if results is not None and export_type.stop_on_error and not all(r.ok for r in results):
                stopped = True
                break
        results = provider.flush()      # rows a provider held back (e.g. the last journal of the run)
        if results:
            _record_results(run_id, export_pass, results, provider_cls)
        stopped = stopped or provider.stopped      # e.g. a kit specification, sent in ``flush``
        files = provider.finish()
    except BaseException:
        provider.abort()
        raise

    # One transaction: rows processed, files, status, and for production the ledger and history.
    progress.phase("finishing")
    # The last transaction begins with the heartbeat's compare-and-set: from here to the commit it holds
    # the run row, so the reconciler cannot give this attempt up half-way.
    progress.beat()
    if not provider.per_row_results:
        db.session.execute(update(PreparedRow).where(deliverable)
                           .values(processed=True, export_pass=export_pass))
    for f in files:
        db.session.add(RunFile(run_id=run_id, name=f.name, path=f.path, format=f.format, size=f.size,
                               sha256=f.sha256, version=version, rows=f.rows))
    # Seed 000: rows left unprocessed that could still be delivered — unticked (Active off) or rejected by
    # the provider — leave the run Partially processed. Rows invalid by rule (a blocked debtor, a test
    # company) are reported errors, not "left": they never keep a run Partially processed.
    left = db.session.execute(select(func.count()).where(
        PreparedRow.run_id == run_id, PreparedRow.processed.is_(False), PreparedRow.invalid.is_(False))).scalar()
    processed_now = db.session.execute(select(func.count()).where(
        PreparedRow.run_id == run_id, PreparedRow.export_pass == export_pass,
        PreparedRow.processed.is_(True))).scalar()
    status = RunStatus.PARTIALLY_PROCESSED if left else RunStatus.EXPORTED
    transition(run, status)
    run.export_passes = export_pass
    run.finished_at = utcnow()
    counts = dict(run.counts or {})
    counts["processed"] = counts.get("processed", 0) + processed_now
    counts["left"] = left
    counts["stopped_on_error"] = stopped
    counts.update(_severity_counts(run_id))
    run.counts = counts
    run.done = done
    run.phase = None
    if run.mode == RunMode.PRODUCTION.value:
        sync.append_ledger(run_id, profile.id, export_pass)
        db.session.add(MappingHistoryEntry(profile_id=profile.id, run_id=run_id, status_date=utcnow(),
                                           status=status.value, record_count=processed_now,
                                           version=version if files else None))
    progress.finish()
    db.session.commit()
    progress.stop_clock()
    return status


def _record_results(run_id, export_pass, results, provider_cls):
    ok = [r.row_id for r in results if r.ok]
    if ok:
        db.session.execute(update(PreparedRow).where(PreparedRow.id.in_(ok))
                           .values(processed=True, export_pass=export_pass, error=None))
    failed = [r for r in results if not r.ok]
    for r in failed:
        key = db.session.execute(select(PreparedRow.record_key).where(PreparedRow.id == r.row_id)).scalar()
        params = {"record": key, "provider": str(provider_cls.label), **(r.params or {})}
        db.session.execute(update(PreparedRow).where(PreparedRow.id == r.row_id)
                           .values(error=r.message or report_message(r.code, params)))
        db.session.add(ReportItem(run_id=run_id, row_id=r.row_id, record_key=key, severity="error", code=r.code,
                                  params=params, provider_message=r.message))
    # A provider that answers per row has delivered these: keep the outcome even if the worker dies next.
    db.session.commit()


__all__ = ["prepare", "export", "Progress", "Run"]
