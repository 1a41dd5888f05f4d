"""The export engine's tables: profiles, runs, prepared data, ledger, mapping history, report, files.

DESIGN §2–§5. Every time is stored in UTC (naive). The ledger is append-only: a roll back marks the
entries of the rolled-back run as not counting (``rolled_back``) and never deletes or rewrites them.
"""
import enum

from sqlalchemy import text

from ..extensions import db
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


class RunStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PREPARING = "preparing"
    PREPARED = "prepared"
    EXPORTING = "exporting"
    EXPORTED = "exported"
    PARTIALLY_PROCESSED = "partially_processed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ROLLED_BACK = "rolled_back"


S = RunStatus
# The only legal status changes. Anything else raises (portal.exporting.errors.IllegalTransition).
TRANSITIONS = {
    S.SCHEDULED: {S.QUEUED, S.CANCELLED, S.FAILED},
    S.QUEUED: {S.PREPARING, S.EXPORTING, S.CANCELLED, S.FAILED},
    S.PREPARING: {S.PREPARED, S.EXPORTING, S.FAILED, S.QUEUED},
    S.PREPARED: {S.QUEUED, S.CANCELLED, S.ROLLED_BACK, S.FAILED},
    S.EXPORTING: {S.EXPORTED, S.PARTIALLY_PROCESSED, S.FAILED, S.QUEUED},
    S.PARTIALLY_PROCESSED: {S.QUEUED, S.CANCELLED, S.ROLLED_BACK},
    S.EXPORTED: {S.ROLLED_BACK},
    S.FAILED: {S.ROLLED_BACK},
    S.CANCELLED: set(),
    S.ROLLED_BACK: set(),
}
# A production run in one of these holds its profile: at most one per profile (database-enforced).
ACTIVE_STATUSES = (S.SCHEDULED, S.QUEUED, S.PREPARING, S.PREPARED, S.EXPORTING, S.PARTIALLY_PROCESSED)
# The worker is busy with the run in these.
WORKING_STATUSES = (S.PREPARING, S.EXPORTING)
FINAL_STATUSES = (S.EXPORTED, S.FAILED, S.CANCELLED, S.ROLLED_BACK)

_ACTIVE_SQL = "mode = 'production' AND status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES))


class Mutation(str, enum.Enum):
    NEW = "new"
    CHANGED = "changed"
    REMOVED = "removed"
    UNCHANGED = "unchanged"   # only in a full run: delivered again, the same as before


class Severity(str, enum.Enum):
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

    __table_args__ = (db.Index("ix_export_profiles_name", "name"),)


class Run(db.Model):
    """One execution of a profile."""
    __tablename__ = "runs"
    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id"), nullable=False)
    mode = db.Column(db.String(12), nullable=False)
    operation = db.Column(db.String(24), nullable=False)
    # window_start/window_end (ISO dates, inclusive), and for invoices booking_date, description,
    # debtor_numbers; skip_headers; run_at_local and run_at_offset when scheduled.
    params = db.Column(db.JSON, nullable=False, default=dict)
    window_start = db.Column(db.Date, nullable=False)
    window_end = db.Column(db.Date, nullable=False)
    status = db.Column(db.String(24), nullable=False, default=RunStatus.QUEUED.value)
    phase = db.Column(db.String(24), nullable=True)
    done = db.Column(db.Integer, nullable=False, default=0)
    total = db.Column(db.Integer, nullable=True)
    progress_at = db.Column(db.DateTime, nullable=True)     # also the worker's heartbeat
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
    error_reason = db.Column(db.Text, nullable=True)
    locale = db.Column(db.String(8), nullable=False, default="en")
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    profile = db.relationship("ExportProfile")
    started_by = db.relationship("User")

    __table_args__ = (
        # At most one active production run per profile: two web processes cannot both start one.
        db.Index("uq_runs_active_production", "profile_id", unique=True,
                 postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
        db.Index("ix_runs_profile_started", "profile_id", "started_at"),
        db.Index("ix_runs_status", "status"),
    )

    @property
    def is_production(self):
        return self.mode == RunMode.PRODUCTION.value


class PreparedRow(db.Model):
    __tablename__ = "prepared_rows"
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
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
        db.Index("ix_prepared_rows_run_seq", "run_id", "group_key", "seq"),
        db.Index("ix_prepared_rows_run_key", "run_id", "record_key"),
    )


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

    __table_args__ = (db.Index("ix_ledger_current_profile_window", "profile_id", "window_value"),)


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
