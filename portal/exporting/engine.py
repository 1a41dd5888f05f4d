"""Prepare and export: the work a job does for one run. Memory stays flat: the source is read in pages
by key, prepared rows are inserted in bulk, files are written in chunks, mutations are SQL.
"""
import logging
import re
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from psycopg.types.json import Json
from sqlalchemy import (
    DateTime, String, and_, case, delete, false, func, insert, literal, null, or_, select, text, true, tuple_, union_all,
    update,
)

from ..bulk import bulk_insert
from ..extensions import db
from ..i18n import org_timezone
from ..models import Department, utcnow
from ..models.exporting import (
    DELIVERY_ORDER,
    LedgerCurrent, MappingHistoryEntry, Mutation, Operation, PreparedRow, ReportItem, Run, RunFile, RunMode,
    RunStatus, Severity, error_count,
)
from . import changes, debtor_selection, sqlcsv, sync
from .attempts import Outcome, check, end
from .messages import report_message
from .providers import get_provider
from .providers.base import DeliveryRow
from .states import transition
from .types import get_type
from .types import sql
from .types.base import MUTATION_COLUMN, ExportType, Issue, SourceContext, window_text

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
        # A file written while preparing (``_file_while_preparing``), until ``export`` delivers it.
        self.written_while_preparing = None

    def discard_file(self):
        """A file written while preparing that no export took (the job ended otherwise): dropped."""
        writing, self.written_while_preparing = self.written_while_preparing, None
        if writing is not None:
            writing.abort()

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
    # What concerns the whole run (Visma.net: the account is not authorised) is said first.
    _add_items(run_id, provider_cls.run_issues(profile, run.mode))
    dialect = db.session.connection().dialect.name
    # Incremental runs read only what changed since the ledger's entries were prepared (``changes``):
    # the watermark first, then the source, kept to what may have changed, before the dispatch.
    run.source_version = changes.watermark()
    progress.phase("preparing")         # (finding what changed is preparing too: shown and timed as such)
    # Fresh statistics of the current ledger before it is joined (the last production run may have filled
    # it): finding what changed plans a join of the whole window with it.
    _analyze("ledger_current")
    changed = changes.Changes(run, profile.sync_type, dialect, scope=_removal_scope(export_type, ctx),
                              outside=_outside_window(export_type, ctx, dialect, provider_cls))
    spec = export_type.sql_source(ctx, dialect)
    if spec is not None:
        spec.select = _routed(run_id, spec.select, export_type, provider_cls)
        spec.select = changed.read(export_type, spec.select, spec.source_id)
        spec.window = changed.window
        spec.removals_found = changed.removals_found
        return changed.finish(_prepare_set_based(run, profile, export_type, provider_cls, ctx, spec, dialect,
                                                 progress, changed))
    source = changed.read(export_type, _routed(run_id, export_type.select(ctx), export_type, provider_cls),
                          export_type.model.id)
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
    # The provider's row checks (``Provider.row_checks``), by SQL over the rows just inserted.
    _provider_checks(run_id, provider_cls.row_checks(profile, PreparedRow.company_id, PreparedRow.record_key),
                     db.session.connection().dialect.name)
    set_issues = export_type.set_issues(ctx)
    _add_items(run_id, set_issues)
    for issue in set_issues:
        if issue.invalid and issue.group_key:
            counts["invalid"] += db.session.execute(
                update(PreparedRow).where(PreparedRow.run_id == run_id, PreparedRow.group_key == issue.group_key,
                                          PreparedRow.invalid.is_(False))
                .values(invalid=True, error=report_message(issue.code, issue.params))).rowcount

    progress.phase("comparing")
    _analyze("prepared_rows", inserted=seq)     # (``ledger_current`` was, before it was first joined)
    sync.mark_mutations(run_id, profile.id, profile.sync_type)
    removed = 0
    if profile.sync_type == "incremental_all":
        low, high, company_id, subjects = changed.scope
        window, key = changed.removals_against(changed.window, changed.key)
        args = dict(seq_base=seq, low=low, high=high, company_id=company_id, subjects=subjects,
                    window=window, key=key, found=changed.removals_found)
        if provider_cls.supports_removals:
            removed = sync.add_removals(run_id, profile.id, **args)
        else:
            left_out = sync.add_removals(run_id, profile.id, count_only=True, **args)
            if left_out:
                _add_items(run_id, [_removals_issue(left_out, provider_cls)])
    # Removals first: they are the ledger's records that no prepared row (changed or not) matches.
    marked = sum(sync.mutation_counts(run_id).values())
    sync.drop_undelivered(run_id, profile.id, profile.sync_type)
    _hold_back_groups(run_id, export_type, db.session.connection().dialect.name)
    return changed.finish(_finish_prepare(run, counts, progress, removed, marked))


def _finish_prepare(run, counts, progress, removed, marked):
    """``marked``: the records compared (the source's and the removals), delivered or not."""
    run_id = run.id
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
        _add_items(run_id, [Issue(Severity.INFO, "department_elsewhere", {
            "count": sum(n for _code, n in left), "provider": str(provider_cls.label),
            "departments": ", ".join(code or "–" for code, _n in left)})])
    return routed


def _prepare_set_based(run, profile, export_type, provider_cls, ctx, spec, dialect, progress, changed):
    """Prepare by one statement: the database builds each row's payload and fingerprint from the source,
    compares it with the current ledger (new / changed / unchanged) and inserts what the sync type
    delivers; row validations are SQL too. Removals: one key-only anti-join. No Python loop over rows."""
    run_id = run.id
    sync_type = profile.sync_type
    if dialect == "sqlite":
        sql.register_sqlite(db.session.connection().connection.driver_connection, None)
    total = db.session.execute(select(func.count()).select_from(
        spec.select.with_only_columns(spec.source_id).subquery())).scalar()
    progress.phase("preparing", total)

    # The type's checks, then the provider's (e.g. Visma.net: a company not mapped to a branch).
    checks = _row_checks(spec) + provider_cls.row_checks(profile, spec.company_id, spec.record_key)
    invalid = or_(*[check.condition for check in checks]) if checks else false()
    error = (case(*[(check.condition, _sql_message(check.code, check.params)) for check in checks], else_=null())
             if checks else null())
    # Run parameters (an invoice's booking date and description) are in the payload, not in the fingerprint.
    fingerprinted = [(name, value) for name, value in spec.payload if name not in export_type.run_param_keys]
    columns = ["run_id", "seq", "record_key", "fingerprint", "mutation", "window_value", "group_key", "company_id",
               "subject_key", "payload", "active", "processed", "invalid", "error"]
    # In chunks of source ids (each one statement), so that progress and the heartbeat are written between.
    chunk = _batch_size() * 10
    bounds = iter(_chunk_bounds(spec, chunk) if total > chunk else ())
    writing = _file_while_preparing(run, profile, export_type, provider_cls, spec, progress)
    done, last = 0, None
    while done < total:
        high = next(bounds, None) if total - done > chunk else None
        part = spec.select if last is None else spec.select.where(spec.source_id > last)
        if high is not None:
            part = part.where(spec.source_id <= high)
        if writing is not None and not _write_while_inserting(writing, progress, run_id, profile, sync_type, spec,
                                                              part, dialect, done, invalid, error, fingerprinted,
                                                              columns):
            writing = None          # a row the database cannot write exactly: the export writes the file
        if writing is None:
            db.session.execute(insert(PreparedRow).from_select(
                columns, _set_based_rows(run_id, profile, sync_type, spec, part, dialect, done, invalid, error,
                                         fingerprinted)))
        done = total if high is None else done + chunk
        last = high
        progress.advance(done)
    counts = {"records": total, "invalid": 0}
    # The rows' report items (by source row, then check), made only when a row failed a check: an invalid
    # row is always prepared, except by incremental_new when its key was delivered before (then looked for).
    if checks and (db.session.execute(select(PreparedRow.id).where(
            PreparedRow.run_id == run_id, PreparedRow.invalid.is_(True)).limit(1)).first() or (
            sync_type == "incremental_new" and db.session.execute(
                _whole_window(spec).with_only_columns(literal(1)).where(invalid).limit(1)).first())):
        _row_check_items(run_id, spec, checks, dialect)
    progress.advance(total)

    progress.phase("validating")
    set_issues = export_type.set_issues(ctx)
    _add_items(run_id, set_issues)
    for issue in set_issues:
        if issue.invalid and issue.group_key:
            db.session.execute(
                update(PreparedRow).where(PreparedRow.run_id == run_id, PreparedRow.group_key == issue.group_key,
                                          PreparedRow.invalid.is_(False))
                .values(invalid=True, error=report_message(issue.code, issue.params)))

    progress.phase("comparing")
    _analyze("prepared_rows", inserted=total)
    if sync_type != "incremental_new":
        _legacy_fingerprints(run_id, profile.id, export_type, sync_type)
    removed = 0
    if sync_type == "incremental_all":
        removals = (sync.removals_found(run_id, profile.id, seq_base=total) if spec.removals_found else
                    _removals_statement(run_id, profile.id, export_type, ctx, spec, changed, seq_base=total))
        if provider_cls.supports_removals:
            db.session.execute(removals["insert"])
            # (psycopg reports no row count for this INSERT … SELECT: counted instead)
            removed = db.session.execute(select(func.count()).where(
                PreparedRow.run_id == run_id, PreparedRow.mutation == Mutation.REMOVED.value)).scalar()
        else:
            left_out = db.session.execute(removals["count"]).scalar()
            if left_out:
                _add_items(run_id, [_removals_issue(left_out, provider_cls)])
    _hold_back_groups(run_id, export_type, dialect)
    return _finish_prepare(run, counts, progress, removed, marked=total + removed)


def _hold_back_groups(run_id, export_type, dialect):
    """A type delivered in whole groups (``ExportType.whole_groups``: a journal, one per company and period,
    which must balance): a group of the run with an invalid row is held back whole. Its other rows become
    invalid too, each with a report item naming the line that holds it back (the group's first invalid
    line by key). One INSERT … SELECT and one UPDATE over the run's groups; the groups are found among the
    run's problem rows (``ix_prepared_rows_problem``), before either statement changes a row."""
    if not export_type.whole_groups:
        return
    bad = PreparedRow.__table__.alias("bad")
    holders = (select(bad.c.group_key, func.min(bad.c.record_key).label("holder"))
               .where(bad.c.run_id == run_id,
                      or_(bad.c.error.isnot(None), bad.c.invalid.is_(True)), bad.c.invalid.is_(True))
               .group_by(bad.c.group_key).subquery("holders"))
    rows = PreparedRow.__table__
    held = and_(rows.c.run_id == run_id, rows.c.invalid.is_(False), rows.c.group_key == holders.c.group_key)
    if db.session.execute(select(literal(1)).select_from(rows).where(held).limit(1)).first() is None:
        return
    code = export_type.held_back_code
    params = [("record", rows.c.record_key), ("line", holders.c.holder)]
    db.session.execute(insert(ReportItem).from_select(
        ["run_id", "row_id", "record_key", "severity", "code", "params", "created_at"],
        select(literal(run_id), rows.c.id, rows.c.record_key, literal(Severity.ERROR.value, String),
               literal(code, String), sql.json_object(params, dialect), literal(utcnow(), DateTime))
        .where(held).order_by(rows.c.group_key, rows.c.seq)))
    # (SQLite evaluates an UPDATE … FROM's join before it changes a row, as PostgreSQL does: the holders
    # are the lines invalid before this statement.)
    db.session.execute(update(rows).where(held).values(invalid=True, error=_sql_message(code, params)))


def _chunk_bounds(spec, chunk):
    """The source id that ends each full chunk of ``chunk`` rows, by one pass over the window's ids (the
    last chunk reads to the end of the window; when the count is a multiple of ``chunk``, the last bound
    is not used). Taken once, before the first chunk: a row that enters or leaves the window while the run
    prepares changes one chunk's size, never which rows are read. (A statement per chunk — the id
    ``chunk`` rows after the last — is the same SQL every time: the driver prepares it on its sixth run
    and PostgreSQL soon plans it once for all values, a plan that joined and sorted the whole window
    each time, 0.4–0.6 s a chunk instead of 20 ms: some 20 s of a 1,000,000-row run.)"""
    ids = spec.select.with_only_columns(spec.source_id.label("id")).subquery("ids")
    numbered = select(ids.c.id, func.row_number().over(order_by=ids.c.id).label("n")).subquery("numbered")
    return db.session.execute(select(numbered.c.id).where(numbered.c.n % chunk == 0)
                              .order_by(numbered.c.id)).scalars().all()


def _set_based_rows(run_id, profile, sync_type, spec, source, dialect, seq_base, invalid, error,
                    fingerprinted=None, carry=()):
    """The SELECT of one chunk of prepared rows: payload, fingerprint and mutation (against the current
    ledger) computed by the database; incremental sync types keep only what they deliver. The fingerprint
    hashes the payload's JSON, or — when the payload holds run parameters — that of ``fingerprinted``
    (the payload without them). ``carry``: [(label, SQL expression)] of the source added as columns (the
    file's values when it is written while inserting)."""
    separate = fingerprinted is not None and len(fingerprinted) != len(spec.payload)
    extra = [sql.json_object(fingerprinted, dialect).label("fingerprinted")] if separate else []
    extra += [expression.label(label) for label, expression in carry]
    src = source.with_only_columns(
        (literal(seq_base) + func.row_number().over(order_by=spec.source_id)).label("seq"),
        spec.record_key.label("record_key"),
        sql.json_object(spec.payload, dialect).label("payload"),
        spec.window_value.label("window_value"),
        (spec.group_key if spec.group_key is not None else literal("", String)).label("group_key"),
        (spec.company_id if spec.company_id is not None else null()).label("company_id"),
        (spec.subject_key if spec.subject_key is not None else null()).label("subject_key"),
        invalid.label("invalid"), error.label("error"), *extra).subquery("src")
    hashed = src.c.fingerprinted if separate else src.c.payload
    fp = select(*src.c, sql.fingerprint(hashed, dialect).label("fingerprint")).subquery("fp")
    cur = LedgerCurrent.__table__.alias("cur")
    mutation = case((cur.c.record_key.is_(None), literal(Mutation.NEW.value, String)),
                    (cur.c.fingerprint != fp.c.fingerprint, literal(Mutation.CHANGED.value, String)),
                    else_=literal(Mutation.UNCHANGED.value, String))
    rows = (select(literal(run_id).label("run_id"), fp.c.seq, fp.c.record_key, fp.c.fingerprint,
                   mutation.label("mutation"), fp.c.window_value, fp.c.group_key, fp.c.company_id,
                   fp.c.subject_key, fp.c.payload, true().label("active"), false().label("processed"),
                   fp.c.invalid, fp.c.error, *[fp.c[label] for label, _expression in carry])
            .select_from(fp.outerjoin(cur, and_(cur.c.profile_id == profile.id,
                                                cur.c.record_key == fp.c.record_key))))
    if sync_type == "incremental_all":       # unchanged records are not delivered: never inserted
        rows = rows.where(or_(cur.c.record_key.is_(None), cur.c.fingerprint != fp.c.fingerprint))
    elif sync_type == "incremental_new":
        rows = rows.where(cur.c.record_key.is_(None))
    return rows


class _Writing:
    """A file written while preparing (``_file_while_preparing``): the provider that holds it open, the
    payload keys' types, the output columns, the delivery's export pass and file version."""

    def __init__(self, provider, fmt, kinds, columns, version):
        self.provider, self.fmt, self.kinds, self.columns, self.version = provider, fmt, kinds, columns, version

    def abort(self):
        self.provider.abort()


def _file_while_preparing(run, profile, export_type, provider_cls, spec, progress):
    """PostgreSQL, a prepare-and-export run's first pass whose file (CSV, JSON Lines) the database writes:
    the file is written by the statements that insert the prepared rows (``sqlcsv.write_while_inserting``),
    from the values the payload is built of — no JSON stored, read back and parsed again for it. Only when
    nothing between prepare and export can change a row or add a line: a full sync (no removals, every
    row inserted as it is delivered), no checks over the whole set (``set_issues``), no reversal lines, no
    fingerprints of the row-by-row engine in the ledger (compared in Python afterwards), one delivery
    group (rows in ``seq`` order chunk after chunk). Returns a ``_Writing`` (the provider has the file
    open), kept on ``progress`` for ``export``; or None, and the export writes the file as before."""
    if (db.session.connection().dialect.name != "postgresql" or run.operation != Operation.PREPARE_AND_EXPORT.value
            or (run.export_passes or 0) or profile.sync_type != "full" or spec.group_key is not None
            or export_type.reverses_changes or type(export_type).set_issues is not ExportType.set_issues
            or not current_app.config.get("EXPORT_FILES_BY_DATABASE", True)
            or not current_app.config.get("EXPORT_FILE_WHILE_PREPARING", True)):
        return None
    opener = getattr(provider_cls, "open_while_preparing", None)
    if opener is None or db.session.execute(select(literal(1)).where(
            LedgerCurrent.profile_id == profile.id, func.length(LedgerCurrent.fingerprint) == 64).limit(1)).first():
        return None
    columns = _delivery_columns(profile, export_type)
    version = _file_version(run.id)
    provider = provider_cls(profile=profile, run=run, export_type=export_type, columns=columns,
                            storage_root=current_app.config["PORTAL_STORAGE_DIR"], export_pass=1, version=version)
    opened = provider.open_while_preparing()
    if opened is None:
        return None
    fmt, options = opened
    kinds = sqlcsv.kinds_while_inserting(fmt, options, columns, spec.payload, spec.select)
    if kinds is None:
        return None
    provider._open(None)
    writing = _Writing(provider, fmt, kinds, columns, version)
    progress.written_while_preparing = writing
    return writing


def _write_while_inserting(writing, progress, run_id, profile, sync_type, spec, part, dialect, done, invalid,
                           error, fingerprinted, columns):
    """One chunk of prepared rows inserted and written into the file by one statement. False (nothing of
    the chunk inserted, the file dropped) when a row is not in final form."""
    values = dict(spec.payload)
    carry = [(f"v{i}", values[key]) for i, key in enumerate(writing.kinds)]
    rows = _set_based_rows(run_id, profile, sync_type, spec, part, dialect, done, invalid, error, fingerprinted,
                           carry=carry)
    try:
        sqlcsv.write_while_inserting(writing.fmt, writing.provider.writer, rows, columns, writing.kinds,
                                     writing.columns)
    except sqlcsv.OddRow:
        writing.abort()
        progress.written_while_preparing = None
        return False
    return True


def _delivery_columns(profile, export_type):
    return [MUTATION_COLUMN] + export_type.output_columns(profile.options.get("columns"))


def _file_version(run_id):
    """The delivery's file version: now, to the second — never the name of an earlier pass's file (seed 000)."""
    version = utcnow().replace(microsecond=0)
    latest = db.session.execute(select(func.max(RunFile.version)).where(RunFile.run_id == run_id)).scalar()
    if latest is not None and version <= latest:
        version = latest + timedelta(seconds=1)
    return version


def _row_checks(spec):
    """The row validations as SQL, in ``row_issues``' order: the required values, then the type's own."""
    values = dict(spec.payload)
    checks = [sql.Check("missing_value", or_(values[name].is_(None), values[name] == ""),
                        [("record", spec.record_key), ("field", str(spec.headers.get(name, name)))])
              for name in spec.required]
    return checks + list(spec.checks)


def _sql_message(code, params):
    """The report's message for ``code`` as SQL text: the words rendered once (in the run's locale), the
    row's values (SQL expressions) put in where their placeholders are."""
    marks, plain = {}, {}
    for position, (name, value) in enumerate(params):
        if sql.is_sql(value):
            marks[f"\x00{position}\x00"] = value
            plain[name] = f"\x00{position}\x00"
        else:
            plain[name] = value
    rendered = report_message(code, plain)
    parts = [part for part in re.split("(\x00\\d+\x00)", rendered) if part]
    pieces = [func.coalesce(sql.as_text(marks[part]), "None") if part in marks else part for part in parts]
    return sql.concat(*pieces) if pieces else literal("", String)


def _whole_window(spec):
    """The source SELECT of the whole window (an incremental run reads only what changed: ``changes``)."""
    return spec.select if spec.window is None else spec.window


def _row_check_items(run_id, spec, checks, dialect):
    """Report items of the rows that fail a check, in the order the row-by-row engine made them (by
    source row, then by check). One INSERT … SELECT."""
    parts = []
    for position, check in enumerate(checks):
        params = sql.json_object([(name, value if sql.is_sql(value) else literal(value, String))
                                  for name, value in check.params], dialect)
        parts.append(_whole_window(spec).with_only_columns(
            spec.source_id.label("source_id"), literal(position).label("position"),
            spec.record_key.label("record_key"), literal(check.code, String).label("code"),
            params.label("params")).where(check.condition))
    items = union_all(*parts).subquery("checked")
    db.session.execute(insert(ReportItem).from_select(
        ["run_id", "record_key", "severity", "code", "params", "created_at"],
        select(literal(run_id), items.c.record_key, literal("error", String), items.c.code,
               items.c.params, literal(utcnow(), DateTime)).order_by(items.c.source_id, items.c.position)))


def _provider_checks(run_id, checks, dialect):
    """The row-by-row engine's share of the provider's row checks (``Provider.row_checks`` over the
    run's ``prepared_rows``), as the set-based engine applies them: a report item per failed check (by
    row, then check; one ``INSERT … SELECT``), and a row not invalid yet becomes invalid with the first
    failed check's message (one ``UPDATE``). No Python per row."""
    if not checks:
        return
    run_rows = PreparedRow.run_id == run_id
    parts = []
    for position, check in enumerate(checks):
        params = sql.json_object([(name, value if sql.is_sql(value) else literal(value, String))
                                  for name, value in check.params], dialect)
        parts.append(select(PreparedRow.seq.label("seq"), literal(position).label("position"),
                            PreparedRow.record_key.label("record_key"), literal(check.code, String).label("code"),
                            params.label("params")).where(run_rows, check.condition))
    items = union_all(*parts).subquery("checked")
    db.session.execute(insert(ReportItem).from_select(
        ["run_id", "record_key", "severity", "code", "params", "created_at"],
        select(literal(run_id), items.c.record_key, literal("error", String), items.c.code,
               items.c.params, literal(utcnow(), DateTime)).order_by(items.c.seq, items.c.position)))
    db.session.execute(update(PreparedRow).where(
        run_rows, PreparedRow.invalid.is_(False), or_(*[check.condition for check in checks])).values(
        invalid=True, error=case(*[(check.condition, _sql_message(check.code, check.params)) for check in checks],
                                 else_=null())))


def _legacy_fingerprints(run_id, profile_id, export_type, sync_type):
    """Ledger entries recorded before the database computed fingerprints carry the row-by-row engine's
    (sha256 of the payload's JSON, 64 characters). Such a record looks changed to SQL; it is compared
    here in Python instead — once per run, only for those records."""
    legacy = db.session.execute(
        select(PreparedRow.id, PreparedRow.payload, LedgerCurrent.fingerprint)
        .join(LedgerCurrent, and_(LedgerCurrent.profile_id == profile_id,
                                  LedgerCurrent.record_key == PreparedRow.record_key))
        .where(PreparedRow.run_id == run_id, PreparedRow.mutation == Mutation.CHANGED.value,
               func.length(LedgerCurrent.fingerprint) == 64).execution_options(yield_per=2000))
    same = [row.id for row in legacy if export_type.fingerprint(row.payload) == row.fingerprint]   # streamed
    for start in range(0, len(same), 500):
        chunk = same[start:start + 500]
        if sync_type == "full":
            db.session.execute(update(PreparedRow).where(PreparedRow.id.in_(chunk))
                               .values(mutation=Mutation.UNCHANGED.value))
        else:
            db.session.execute(delete(PreparedRow).where(PreparedRow.id.in_(chunk)))


def _removal_scope(export_type, ctx):
    """(low, high, company id, subjects): the current ledger's records a run over ``ctx`` compares for
    removals (``sync.removals_against``). Subjects: the debtor selection, ``[(company id, number)]``."""
    low, high = ctx.window_value_bounds(export_type.window_kind)
    subjects = debtor_selection.subjects(ctx.params) if export_type.takes("debtors") else None
    return low, high, ctx.company_id, subjects


def _outside_window(export_type, ctx, dialect, provider_cls):
    """A type whose window is a change time (``ExportType.window_is_change_time``): (the source SELECT in the
    run's scope whatever the time — company, debtors, the provider's routing —, its record key as SQL:
    ``record_key_sql``). A ledger record of the window is removed only when this has no row of its key: a
    record that left the window by being changed again is not gone. None for the other types (leaving the
    window is leaving the source)."""
    if not export_type.window_is_change_time:
        return None
    key = export_type.record_key_sql()
    if key is None:
        raise TypeError(f"{export_type.key}: a type whose window is a change time declares record_key_sql()")
    everywhen = ctx.without_window()
    spec = export_type.sql_source(everywhen, dialect)
    source = spec.select if spec is not None else export_type.select(everywhen)
    system = getattr(provider_cls, "finance_system", None)
    routed = export_type.route(source, system) if system else None
    return (source if routed is None else routed), key


def _removals_statement(run_id, profile_id, export_type, ctx, spec, changed, seq_base):
    """The current ledger's records in the window (and scope) whose key the source no longer has
    (``sync.removals_against``: one key-only anti-join, the row-by-row engine's too): the whole window,
    not only what changed — or, for a change-time window, the source in scope whatever the window
    (``Changes.removals_against``)."""
    low, high, company_id, subjects = _removal_scope(export_type, ctx)
    source, key = changed.removals_against(_whole_window(spec), spec.record_key)
    return sync.removals_against(run_id, profile_id, source, key, seq_base=seq_base, low=low,
                                 high=high, company_id=company_id, subjects=subjects)


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


# A table is analyzed when the rows written since its last ANALYZE are more than this share of it (what
# autovacuum's default ``autovacuum_analyze_scale_factor`` waits for).
ANALYZE_SHARE = 0.1


def _analyze(*tables, inserted=0):
    """PostgreSQL: fresh statistics after a bulk insert, so that the planner walks the indexes (keyset
    pages, ledger joins) instead of sorting whole runs. Autovacuum would come too late.

    Only when the table changed by a meaningful share since its last ANALYZE (the rows written since,
    as the statistics system counts them, plus ``inserted``: this run's own, not yet counted there) or
    was never analyzed: sampling a table of millions of rows took 1–4 s, after an incremental run that
    inserted a few thousand, whose statistics would not change a plan."""
    if db.session.connection().dialect.name != "postgresql":
        return
    for table in tables:
        size, written = db.session.execute(text(
            "SELECT c.reltuples, COALESCE(pg_stat_get_mod_since_analyze(c.oid), 0) FROM pg_class c "
            "WHERE c.oid = CAST(:table AS regclass)"), {"table": table}).one()
        if size < 0 or written + inserted > ANALYZE_SHARE * size:
            db.session.execute(text(f"ANALYZE {table}"))


def _removals_issue(count, provider_cls):
    return Issue(Severity.INFO, "removals_left_out", {"count": count, "provider": str(provider_cls.label)})


def _severity_counts(run_id):
    rows = db.session.execute(select(ReportItem.severity, func.count()).where(ReportItem.run_id == run_id)
                              .group_by(ReportItem.severity)).all()
    found = dict(rows)
    # Errors: each failed row once, resolved ones (delivered by a later pass) not (``error_count``).
    errors = error_count(run_id) if found.get(Severity.ERROR) else 0
    return {"errors": errors, "warnings": found.get(Severity.WARNING, 0)}


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
    decode = _decoder([MUTATION_COLUMN] + export_type.columns())
    columns = _delivery_columns(profile, export_type)
    deliverable = and_(PreparedRow.run_id == run_id, PreparedRow.active.is_(True),
                       PreparedRow.processed.is_(False), PreparedRow.invalid.is_(False))
    if export_type.whole_groups and run.operation == Operation.EXPORT.value:
        # (Rows can be unticked only while a run waits with prepared data: an export of it, never the
        # export of a prepare-and-export run.)
        deliverable = _whole_groups_only(run_id, deliverable, export_type)
    total = db.session.execute(select(func.count()).where(deliverable)).scalar()
    progress.phase("exporting", total)
    # The file prepare wrote while inserting the rows holds exactly the deliverable rows (the same
    # statements; nothing in between changes a row): delivered as it is. (Counted again, to be sure.)
    writing, progress.written_while_preparing = progress.written_while_preparing, None
    if writing is not None and (export_pass != 1 or writing.provider.writer.rows != total):
        writing.abort()
        writing = None
    if writing is not None:
        provider, version = writing.provider, writing.version
    else:
        # Each export pass is a file version of its own (seed 000): never the name of an earlier pass's file.
        version = _file_version(run_id)
        provider = provider_cls(profile=profile, run=run, export_type=export_type, columns=columns,
                                storage_root=current_app.config["PORTAL_STORAGE_DIR"], export_pass=export_pass,
                                version=version)
    cancel = export_type.supports_cancellation
    reverse = export_type.reverses_changes
    typed = provider.typed_values
    if writing is None:
        provider.begin()
    try:
        done, last, stopped = 0, ("", -1, 0), False
        # A file the database can write itself (CSV, JSON Lines): one streaming query, no Python per row.
        from_database = getattr(provider, "write_from_database", None)
        if writing is not None:
            written, done = True, total         # (``run.done`` is set in the final transaction)
        else:
            written = from_database is not None and from_database(deliverable, cancel, reverse, progress)
            if written:
                done = total
                progress.advance(done)

        def batch_of(rows):
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
            return batch

        if not written and not provider.per_row_results:
            # A file (XLSX, SIE 4, or CSV / JSON Lines the database could not write): the deliverable rows
            # from one streaming query (PostgreSQL; SQLite: by key, a page a statement), in batches.
            # No autoflush: the progress (``run.done``) waits for its own commit instead of being flushed by
            # the next read, which on SQLite would hold the write lock until then (heartbeat locked out).
            with db.session.no_autoflush, _delivery_stream(deliverable, provider.batch_size) as batches:
                for rows in batches:
                    results = provider.deliver(batch_of(rows))
                    if results is not None:
                        _record_results(run_id, export_pass, results, provider_cls)
                    done += len(rows)
                    progress.advance(done)
                    if provider.stopped:
                        stopped = True
                        break
            written = True
        while not written:
            # A provider that answers per row: a page at a time by key (its results are committed between).
            rows = db.session.execute(
                select(*_DELIVERY_COLUMNS)
                .where(deliverable, tuple_(*DELIVERY_ORDER) > tuple_(*last))
                .order_by(*DELIVERY_ORDER).limit(provider.batch_size)).all()
            if not rows:
                break
            results = provider.deliver(batch_of(rows))
            if results is not None:
                _record_results(run_id, export_pass, results, provider_cls)
            last = (rows[-1].group_key, rows[-1].seq, rows[-1].id)
            done += len(rows)
            progress.advance(done)
            if provider.stopped:        # the provider stopped on error itself (it sent nothing after it)
                stopped = True
                break
            # Stop on error: only a record the provider rejected (in a test run: a document it would reject)
            # stops; a row the portal refused itself (``refused``) is that row's error and the rest goes on.
            if results is not None and export_type.stop_on_error and not all(r.ok or r.refused for r in results):
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
        _resolve_errors(run_id, select(PreparedRow.id).where(deliverable).scalar_subquery())
        db.session.execute(update(PreparedRow).where(deliverable)
                           .values(processed=True, export_pass=export_pass))
    for f in files:
        db.session.add(RunFile(run_id=run_id, name=f.name, path=f.path, format=f.format, size=f.size,
                               sha256=f.sha256, version=version, rows=f.rows))
    # Seed 000: rows left unprocessed that could still be delivered — unticked (Active off) or rejected by
    # the provider — leave the run Partially processed. Rows invalid by rule (a blocked debtor, a test
    # company) are reported errors, not "left": they never keep a run Partially processed.
    # (One pass over the run's rows for both counts.)
    left, processed_now = db.session.execute(select(
        func.count(case((and_(PreparedRow.processed.is_(False), PreparedRow.invalid.is_(False)), 1))),
        func.count(case((and_(PreparedRow.export_pass == export_pass, PreparedRow.processed.is_(True)), 1))))
        .where(PreparedRow.run_id == run_id)).one()
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


def _whole_groups_only(run_id, deliverable, export_type):
    """A type delivered in whole groups (``ExportType.whole_groups``, journals): a group with a row left
    unticked (Active off, valid, not delivered) waits, whole — its rows stay, the run is Partially
    processed, and ticking the row and exporting again delivers the whole group. A report item (information)
    per waiting group names its first unticked line. ``deliverable`` kept to the other groups (a key-only
    ``NOT IN``, read once), or as it is when no row is unticked."""
    unticked = PreparedRow.__table__.alias("unticked")
    waiting = (select(unticked.c.group_key, func.min(unticked.c.record_key).label("line"))
               .where(unticked.c.run_id == run_id, unticked.c.active.is_(False), unticked.c.processed.is_(False),
                      unticked.c.invalid.is_(False)).group_by(unticked.c.group_key))
    groups = db.session.execute(waiting).all()
    if not groups:
        return deliverable
    _add_items(run_id, [Issue(Severity.INFO, f"{export_type.held_back_code}_unticked", {"line": line},
                              record_key=line) for _group, line in groups])
    return and_(deliverable, PreparedRow.group_key.not_in(
        select(unticked.c.group_key).where(unticked.c.run_id == run_id, unticked.c.active.is_(False),
                                           unticked.c.processed.is_(False), unticked.c.invalid.is_(False))))


_DELIVERY_COLUMNS = (PreparedRow.id, PreparedRow.record_key, PreparedRow.mutation, PreparedRow.payload,
                     PreparedRow.group_key, PreparedRow.seq)


@contextmanager
def _delivery_stream(deliverable, size):
    """The deliverable rows in delivery order, in lists of ``size``.

    PostgreSQL: one streaming query, on a connection of its own (the run's progress is committed between
    batches, which would close a cursor of the session's transaction; prepare committed the rows). SQLite:
    a page at a time by key, each page one statement — a read left open across batches would lock every
    other writer out (no WAL): the heartbeat's thread, the progress on another pooled connection.
    """
    order = DELIVERY_ORDER
    stmt = select(*_DELIVERY_COLUMNS).where(deliverable).order_by(*order)
    if db.session.connection().dialect.name != "sqlite":
        with db.engine.connect() as own:
            result = own.execution_options(stream_results=True, yield_per=size).execute(stmt)
            try:
                yield result.partitions(size)
            finally:
                result.close()
        return

    def pages():
        last = ("", -1, 0)
        while True:
            rows = db.session.execute(stmt.where(tuple_(*order) > tuple_(*last)).limit(size)).all()
            if not rows:
                return
            yield rows
            last = (rows[-1].group_key, rows[-1].seq, rows[-1].id)
    yield pages()


def _resolve_errors(run_id, row_ids):
    """The errors about rows delivered now (``row_ids``: ids or a subquery of them), which an earlier export
    pass could not deliver, are resolved (``ReportItem.resolved``)."""
    standing = and_(ReportItem.run_id == run_id, ReportItem.severity == Severity.ERROR.value,
                    ReportItem.resolved.is_(False), ReportItem.row_id.isnot(None))
    # (Most runs have no such error: then the rows are not looked at — a whole run's ids in a subquery.)
    if db.session.execute(select(ReportItem.id).where(standing).limit(1)).first():
        db.session.execute(update(ReportItem).where(standing, ReportItem.row_id.in_(row_ids)).values(resolved=True))


def _record_results(run_id, export_pass, results, provider_cls):
    ok = [r.row_id for r in results if r.ok]
    if ok:
        db.session.execute(update(PreparedRow).where(PreparedRow.id.in_(ok))
                           .values(processed=True, export_pass=export_pass, error=None))
        _resolve_errors(run_id, ok)
    failed = [r for r in results if not r.ok]
    for r in failed:
        key = db.session.execute(select(PreparedRow.record_key).where(PreparedRow.id == r.row_id)).scalar()
        params = {"record": key, "provider": str(provider_cls.label), **(r.params or {})}
        # A row the portal refused (``refused``) is invalid by rule: an error, not "left" (seed 000).
        db.session.execute(update(PreparedRow).where(PreparedRow.id == r.row_id)
                           .values(error=r.message or report_message(r.code, params),
                                   **({"invalid": True} if r.refused else {})))
        db.session.add(ReportItem(run_id=run_id, row_id=r.row_id, record_key=key, severity=Severity.ERROR, code=r.code,
                                  params=params, provider_message=r.message))
    # A provider that answers per row has delivered these: keep the outcome even if the worker dies next.
    db.session.commit()


__all__ = ["prepare", "export", "Progress", "Run"]
