"""The export engine's tables: profiles, runs, prepared data, ledger, mapping history, report, files.

DESIGN §2–§5. Every time is stored in UTC (naive). The ledger is append-only: a roll back marks the
entries of the rolled-back run as not counting (``rolled_back``) and never deletes or rewrites them.
"""
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.orm import column_property

from ..extensions import db
from ..exporting.errors import ExportError
from ..exporting.messages import status_label, stored_text
from ..exporting.states import (  # noqa: F401  (re-exported: the statuses belong with the run)
    ACTIVE_STATUSES, CANCELLABLE_STATUSES, EXPORTABLE_STATUSES, FINAL_STATUSES, WORKING_STATUSES, RunStatus,
    can_become,
)
from .base import TimestampMixin, utcnow


class SyncType(str, enum.Enum):
    FULL = "full"
    INCREMENTAL_ALL = "incremental_all"
    INCREMENTAL_NEW = "incremental_new"


class RunMode(str, enum.Enum):
    TEST = "test"
    PRODUCTION = "production"


class Operation(str, enum.Enum):
    PREPARE = "prepare"
    EXPORT = "export"
    PREPARE_AND_EXPORT = "prepare_and_export"
    ROLL_BACK = "roll_back"


# A run in these has no "Completed on" (``Run.completed_at``): it waits to start, works, was cancelled or
# failed.
_NOT_COMPLETED = frozenset(s.value for s in (RunStatus.SCHEDULED, RunStatus.QUEUED, *WORKING_STATUSES,
                                             RunStatus.CANCELLED, RunStatus.FAILED))

# A run in these shows no time under "Completed on" at all (a cancelled or failed one says when it ended).
_NOT_SHOWN_COMPLETED = frozenset(s.value for s in (RunStatus.SCHEDULED, RunStatus.QUEUED, *WORKING_STATUSES))

_ACTIVE_SQL = "mode = 'production' AND status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES))


class Mutation(str, enum.Enum):
    NEW = "new"
    CHANGED = "changed"
    REMOVED = "removed"
    UNCHANGED = "unchanged"   # only in a full run: delivered again, the same as before


class Severity(enum.StrEnum):  # a str: stored, compared and formatted as its value
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ExportProfile(TimestampMixin, db.Model):
    """A named, saved configuration (Visma.net's *export scenario*)."""
    __tablename__ = "export_profiles"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    export_type = db.Column(db.String(40), nullable=False)
    provider = db.Column(db.String(40), nullable=False, default="file")
    # Provider options, e.g. for files: format, delimiter, quotechar, encoding, line_terminator,
    # skip_headers, translated_headers; for Visma.net: the integration account.
    options = db.Column(db.JSON, nullable=False, default=dict)
    sync_type = db.Column(db.String(20), nullable=False, default=SyncType.FULL.value)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=True)   # None: every company
    # The window a new run proposes: "previous_month", "current_month", "previous_week", "yesterday",
    # "today" or "last_<n>_days".
    default_window = db.Column(db.String(30), nullable=False, default="previous_month")
    created_by_id = db.Column(db.ForeignKey("users.id"), nullable=True)
    updated_by_id = db.Column(db.ForeignKey("users.id"), nullable=True)
    archived = db.Column(db.Boolean, nullable=False, default=False)

    company = db.relationship("Company")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    updated_by = db.relationship("User", foreign_keys=[updated_by_id])

    __table_args__ = (
        db.Index("ix_export_profiles_name", "name"),
        # One name per profile in use (the service compares them case folded: ``services.name_key``).
        db.Index("uq_export_profiles_name_in_use", text("lower(name)"), unique=True,
                 postgresql_where=text("archived = FALSE"), sqlite_where=text("archived = FALSE")),
    )


class Run(db.Model):
    """One execution of a profile."""
    __tablename__ = "runs"
    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id"), nullable=False)
    mode = db.Column(db.String(12), nullable=False)
    operation = db.Column(db.String(24), nullable=False)
    # window_start/window_end (ISO dates, inclusive), and for invoices booking_date, description,
    # debtors ([{"company_id", "number"}]: ``exporting.debtor_selection``; older runs: debtor_numbers);
    # skip_headers; run_at_local and run_at_offset when scheduled.
    params = db.Column(db.JSON, nullable=False, default=dict)
    window_start = db.Column(db.Date, nullable=False)
    window_end = db.Column(db.Date, nullable=False)
    status = db.Column(db.String(24), nullable=False, default=RunStatus.QUEUED.value)
    phase = db.Column(db.String(24), nullable=True)
    done = db.Column(db.Integer, nullable=False, default=0)
    total = db.Column(db.Integer, nullable=True)
    progress_at = db.Column(db.DateTime, nullable=True)
    # The working attempt's heartbeat: progress writes and a timer (portal.exporting.attempts).
    heartbeat_at = db.Column(db.DateTime, nullable=True)
    phase_started_at = db.Column(db.DateTime, nullable=True)
    # records (source), new, changed, removed, unchanged, prepared, processed, errors, warnings
    counts = db.Column(db.JSON, nullable=False, default=dict)
    started_by_id = db.Column(db.ForeignKey("users.id"), nullable=True)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    run_at = db.Column(db.DateTime, nullable=True)          # UTC
    finished_at = db.Column(db.DateTime, nullable=True)
    idempotency_key = db.Column(db.String(80), nullable=True, unique=True)
    job_id = db.Column(db.String(80), nullable=True)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    export_passes = db.Column(db.Integer, nullable=False, default=0)
    # Why it failed: ``error_message`` the stored message (``exporting.messages.stored_message``) each
    # reader sees in their own language; ``error_reason`` its text as written then (the run's language;
    # the only one of runs that failed before messages were stored). Show ``reason_text``.
    error_reason = db.Column(db.Text, nullable=True)
    error_message = db.Column(db.JSON, nullable=True)
    locale = db.Column(db.String(8), nullable=False, default="en")
    # The change-marker watermark its prepare took (``exporting.changes``): what it delivers is recorded
    # in the ledger with it, so that a later incremental run reads only records changed since.
    source_version = db.Column(db.BigInteger, nullable=True)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    profile = db.relationship("ExportProfile")
    started_by = db.relationship("User")
    attempt_history = db.relationship("RunAttempt", order_by="RunAttempt.number", viewonly=True)

    __table_args__ = (
        # At most one active production run per profile: two web processes cannot both start one.
        db.Index("uq_runs_active_production", "profile_id", unique=True,
                 postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
        db.Index("ix_runs_profile_started", "profile_id", "started_at"),
        db.Index("ix_runs_status", "status"),
    )

    # -- the run's rules: templates, views and services read these, never decide them again ----------

    @property
    def is_production(self):
        return self.mode == RunMode.PRODUCTION.value

    @property
    def reason_text(self):
        """Why it failed (or is tried again), in the current locale; a run that failed before reasons
        were stored as messages shows the text it has."""
        if self.error_message:
            return stored_text(self.error_message)
        return self.error_reason or ""

    @property
    def has_errors(self):
        """The red triangle: the run failed, or its report holds an error that still stands (not resolved
        by a later delivery of its row)."""
        return (self.status == RunStatus.FAILED.value or bool((self.counts or {}).get("errors"))
                or bool(self.report_has_errors))

    @property
    def record_count(self):
        """The run's "Number of records": what it delivered once it exported, else what it prepared,
        else the records in its time window (so far: the progress total)."""
        counts = self.counts or {}
        for key in ("processed", "prepared", "records"):
            if counts.get(key) is not None:
                return counts[key]
        return self.total or 0

    @property
    def is_active(self):
        return self.status in {s.value for s in ACTIVE_STATUSES}

    @property
    def is_live(self):
        """Something is still going to happen by itself: the run page keeps polling while this is true."""
        return self.status not in {s.value for s in FINAL_STATUSES} and self.status not in (
            RunStatus.PREPARED.value, RunStatus.PARTIALLY_PROCESSED.value, RunStatus.SCHEDULED.value)

    @property
    def never_ran(self):
        """Scheduled, or cancelled before a worker took it: it has no start, completion or report (its
        ``started_at`` is when it was created)."""
        return self.status == RunStatus.SCHEDULED.value or (
            self.status == RunStatus.CANCELLED.value and not self.attempts)

    @property
    def completed_at(self):
        """The run's "Completed on": when it finished — not for a cancelled or failed run, which did not
        complete (its ``finished_at`` is when it was cancelled or failed: ``cancelled_at``, ``failed_at``),
        nor while it is queued or working again (an export of a prepared or partially processed run:
        ``finished_at`` is still the end of its prepare or of its previous pass, which the Mapping history
        keeps)."""
        if self.status in _NOT_COMPLETED:
            return None
        return self.finished_at

    @property
    def cancelled_at(self):
        """When a cancelled run was cancelled (its ``finished_at``), else None: the lists' and the CSV's
        "Completed on" say it for what it is."""
        return self.finished_at if self.status == RunStatus.CANCELLED.value else None

    @property
    def failed_at(self):
        """When a failed run failed (its ``finished_at``), else None: the lists' and the CSV's "Completed
        on" say it for what it is, as for a cancelled run."""
        return self.finished_at if self.status == RunStatus.FAILED.value else None

    @property
    def rows_editable(self):
        """Prepared rows can be ticked or unticked (and the run exported) only in these statuses."""
        return self.status in {s.value for s in EXPORTABLE_STATUSES}

    @property
    def can_cancel(self):
        """Whether the run can be cancelled (``services.cancel_run``): it has not started working, or waits
        with prepared data for an export."""
        return self.status in {s.value for s in CANCELLABLE_STATUSES}

    @property
    def percent(self):
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    def recorded_count(self):
        """How many of the run's ledger entries count (what a roll back would take out of the ledger)."""
        return db.session.execute(select(func.count()).where(
            LedgerEntry.run_id == self.id, LedgerEntry.rolled_back.is_(False))).scalar()

    def roll_back_refusal(self):
        """Why the run cannot be rolled back, as an ExportError, or None. The one roll-back rule: the
        command (``services.roll_back``), the plan a page shows first and ``can_roll_back`` read it."""
        if not can_become(self.status, RunStatus.ROLLED_BACK):
            return ExportError(_l("Export %(run)s is %(status)s and cannot be rolled back."),
                               code="not_rollbackable", run=self.id, status=status_label(self.status))
        if self.is_production and self.recorded_count():
            later = db.session.execute(
                select(Run.id).where(
                    Run.profile_id == self.profile_id, Run.mode == RunMode.PRODUCTION.value, Run.id > self.id,
                    # a later run that recorded something, or is about to (its mutations assume this ledger)
                    Run.status.in_([st.value for st in ACTIVE_STATUSES])
                    | Run.id.in_(select(LedgerEntry.run_id).where(LedgerEntry.profile_id == self.profile_id,
                                                                  LedgerEntry.rolled_back.is_(False))))
                .order_by(Run.id.desc()).limit(1)).scalar()
            if later is not None:
                return ExportError(
                    _l("Export %(run)s is not the latest production export of this profile: export %(later)s "
                       "came after it and builds on it. Roll back export %(later)s first."),
                    code="not_latest_production", run=self.id, later=later)
        return None

    @property
    def can_roll_back(self):
        return self.roll_back_refusal() is None


class RunAttempt(db.Model):
    """One execution of a run by a worker (portal.exporting.attempts): listed on the run page."""
    __tablename__ = "run_attempts"
    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.Integer, nullable=False)          # the run's ``attempts`` when it was claimed
    worker = db.Column(db.String(120), nullable=True)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    ended_at = db.Column(db.DateTime, nullable=True)        # a lost worker's: its last heartbeat
    outcome = db.Column(db.String(24), nullable=True)       # None while it works; attempts.Outcome
    # Why it ended, as ``runs.error_message``: ``reason_message`` the stored message (code and parameters)
    # each reader sees in their own language; ``reason`` its text as written then (the run's language; the
    # only one of attempts that ended before messages were stored). Show ``reason_text``.
    reason = db.Column(db.Text, nullable=True)
    reason_message = db.Column(db.JSON, nullable=True)

    __table_args__ = (db.UniqueConstraint("run_id", "number"),)

    @property
    def reason_text(self):
        """Why the attempt ended, in the current locale (an attempt recorded before messages were stored:
        its text as it was written)."""
        if self.reason_message:
            return stored_text(self.reason_message)
        return self.reason or ""


# The rows "Errors only" shows, as each database is asked for them (``queries.prepared_problem``): a
# partial index is used only when the query's condition is the index's, term for term.
PROBLEM_SQL = {"sqlite": "error IS NOT NULL OR invalid IS 1", "postgresql": "error IS NOT NULL OR invalid IS true"}


class PreparedRow(db.Model):
    __tablename__ = "prepared_rows"
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    # The run's id, without a foreign key: checking it cost PostgreSQL a lookup of the run per inserted row
    # (35–40 % of inserting them); runs are never deleted (migration i10i_0001).
    run_id = db.Column(db.Integer, nullable=False)
    seq = db.Column(db.Integer, nullable=False)            # the order of delivery
    record_key = db.Column(db.String(200), nullable=False)
    fingerprint = db.Column(db.String(64), nullable=True)   # None for a removal
    mutation = db.Column(db.String(12), nullable=True)
    window_value = db.Column(db.String(32), nullable=True)  # ISO date/time of the time-window column
    group_key = db.Column(db.String(120), nullable=False, default="")  # e.g. the journal: company, period
    company_id = db.Column(db.Integer, nullable=True)
    subject_key = db.Column(db.String(60), nullable=True)   # e.g. the debtor number (debtor selection)
    payload = db.Column(db.JSON, nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)
    processed = db.Column(db.Boolean, nullable=False, default=False)
    invalid = db.Column(db.Boolean, nullable=False, default=False)  # failed validation: never delivered
    error = db.Column(db.Text, nullable=True)
    export_pass = db.Column(db.Integer, nullable=True)      # which export of the run delivered it

    __table_args__ = (
        # Delivery order, and the Prepared data page's keyset (id last: the order is unique).
        db.Index("ix_prepared_rows_run_order", "run_id", "group_key", "seq", "id"),
        db.Index("ix_prepared_rows_run_key", "run_id", "record_key"),
        # "Errors only" on the Prepared data page: only the rows with a problem (few), in the same order.
        db.Index("ix_prepared_rows_problem", "run_id", "group_key", "seq", "id",
                 sqlite_where=text(PROBLEM_SQL["sqlite"]), postgresql_where=text(PROBLEM_SQL["postgresql"])),
    )


# The order in which a run's rows are delivered and shown: by group (e.g. a journal), then ``seq``, and the
# row's id last, so that the order is unique and a page by key never skips a row. (``seq`` is unique within
# a run only when no source row entered the window while the run prepared: each chunk of source ids is
# numbered from where the previous chunk should have ended, so an extra row in a chunk shares its ``seq``.)
DELIVERY_ORDER = (PreparedRow.group_key, PreparedRow.seq, PreparedRow.id)


class LedgerEntry(db.Model):
    """What a production run delivered. Append-only; entries of a rolled-back run stop counting."""
    __tablename__ = "ledger_entries"
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id"), nullable=False)
    record_key = db.Column(db.String(200), nullable=False)
    fingerprint = db.Column(db.String(64), nullable=True)
    removed = db.Column(db.Boolean, nullable=False, default=False)
    window_value = db.Column(db.String(32), nullable=True)
    group_key = db.Column(db.String(120), nullable=False, default="")
    company_id = db.Column(db.Integer, nullable=True)
    subject_key = db.Column(db.String(60), nullable=True)
    payload = db.Column(db.JSON, nullable=True)   # what was delivered: the base of a cancellation line
    run_id = db.Column(db.ForeignKey("runs.id"), nullable=False, index=True)
    rolled_back = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    source_version = db.Column(db.BigInteger, nullable=True)   # its run's watermark (``exporting.changes``)

    __table_args__ = (db.Index("ix_ledger_entries_profile_key", "profile_id", "record_key", "id"),)


class LedgerCurrent(db.Model):
    """What the ledger of a profile holds *now*: one row per record key, the latest entry that counts
    (not rolled back, not a removal). Derived from ``ledger_entries`` and kept in step with it in the
    same transaction (a production run's commit, a roll back), so that comparing a run with the ledger
    is an index join instead of a ``MAX(id) … GROUP BY`` over the whole history."""
    __tablename__ = "ledger_current"
    profile_id = db.Column(db.ForeignKey("export_profiles.id"), primary_key=True)
    record_key = db.Column(db.String(200), primary_key=True)
    fingerprint = db.Column(db.String(64), nullable=True)
    window_value = db.Column(db.String(32), nullable=True)
    group_key = db.Column(db.String(120), nullable=False, default="")
    company_id = db.Column(db.Integer, nullable=True)
    subject_key = db.Column(db.String(60), nullable=True)
    payload = db.Column(db.JSON, nullable=True)
    entry_id = db.Column(db.BigInteger, nullable=False)    # the ledger entry it comes from
    run_id = db.Column(db.Integer, nullable=False)
    source_version = db.Column(db.BigInteger, nullable=True)   # the entry's (None: read every time)

    __table_args__ = (
        db.Index("ix_ledger_current_profile_window", "profile_id", "window_value"),
        # SQLite: an incremental run probes the current ledger once per record of its window for the key's
        # watermark (``exporting.changes``); this index answers it without reading the row (its payload).
        db.Index("ix_ledger_current_key", "record_key", "profile_id", "source_version").ddl_if(dialect="sqlite"),
    )


class ChangedSource(db.Model):
    """What an incremental run's one pass over its window found (``exporting.changes``): the source rows
    it reads (``source_id``; read by id afterwards, so the planner knows how few they are) and, for
    incremental_all, the current ledger's records of the window that the source no longer has
    (``record_key``, no ``source_id``: the removals). Emptied when the run's prepare ends."""
    __tablename__ = "changed_sources"
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    source_id = db.Column(db.BigInteger, nullable=True)
    record_key = db.Column(db.String(200), nullable=True)

    __table_args__ = (db.Index("ix_changed_sources_run", "run_id", "source_id"),)
    # No primary key in the table (a removal has no source row); the ORM needs one to map the class, and
    # the table is only read and written by statements, never loaded as objects.
    __mapper_args__ = {"primary_key": [run_id, source_id, record_key]}


class MappingHistoryEntry(db.Model):
    __tablename__ = "mapping_history"
    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id"), nullable=False)
    run_id = db.Column(db.ForeignKey("runs.id"), nullable=False)
    status_date = db.Column(db.DateTime, nullable=False, default=utcnow)
    status = db.Column(db.String(24), nullable=False)
    record_count = db.Column(db.Integer, nullable=False, default=0)
    version = db.Column(db.DateTime, nullable=True)    # the time stamp of the produced file version

    __table_args__ = (db.Index("ix_mapping_history_profile", "profile_id", "status_date"),)


class ReportItem(db.Model):
    __tablename__ = "report_items"
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)
    row_id = db.Column(db.BigInteger, nullable=True)
    record_key = db.Column(db.String(200), nullable=True)
    severity = db.Column(db.String(10), nullable=False)
    code = db.Column(db.String(60), nullable=False)
    params = db.Column(db.JSON, nullable=False, default=dict)
    provider_message = db.Column(db.Text, nullable=True)   # verbatim, as the provider sent it
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # An error about a row that a later export pass (or the resumed sync) delivered after all is *resolved*:
    # it stays in the report as what happened, marked so, but no longer counts as the run's error (its count,
    # the status badge's warning, the red triangle). Set when the row is delivered (``engine``), kept when a
    # roll back removes the run's prepared rows.
    resolved = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())


class RunFile(db.Model):
    __tablename__ = "run_files"
    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(255), nullable=False)
    path = db.Column(db.String(1000), nullable=False)
    format = db.Column(db.String(10), nullable=False)
    size = db.Column(db.BigInteger, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    version = db.Column(db.DateTime, nullable=False)
    rows = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)



def unresolved_error():
    """The condition on ``ReportItem``: an error that still counts (not resolved by a later delivery)."""
    return and_(ReportItem.severity == Severity.ERROR.value, ReportItem.resolved.is_(False))


def _error_total(run_id):
    return (select(func.count(func.distinct(func.coalesce(ReportItem.row_id, -ReportItem.id))))
            .where(ReportItem.run_id == run_id, unresolved_error()))


def error_count(run_id):
    """The run's errors: each failed row once (a row rejected in two export passes, or rejected and
    stopping the sync, is one error), each error without a row once (a failed run's reason); resolved
    errors do not count. The one number of a run's errors: the report, the run page's counts and the
    overview CSV (``Run.error_total``) all read it — never the snapshot in ``counts``, which an export
    pass writes and a failure, a skip or a resolve after it does not."""
    return db.session.execute(_error_total(run_id)).scalar()


# Whether the run's report holds an error (that still counts): loaded with the run only where a list asks
# for it (``undefer``), otherwise on first use.
Run.report_has_errors = column_property(
    exists().where(ReportItem.run_id == Run.id, unresolved_error()), deferred=True)
# ``error_count`` of the run, as a column: loaded where a list asks for it (``undefer``), else on first use.
Run.error_total = column_property(
    _error_total(Run.id).correlate_except(ReportItem).scalar_subquery(), deferred=True)
