"""Indexes the pages' filters and sorting need on the engine's ``runs`` table (overview, Show exports)."""
from sqlalchemy import case, literal_column, null

from ..extensions import db
from .exporting import _NOT_SHOWN_COMPLETED, Run

# What the overview's "Completed on" column shows, as SQL: ``finished_at`` (the time it completed, or its
# cell's "Cancelled on …" / "Failed on …"), but nothing while a run waits or works — also a prepared run
# exported again, whose ``finished_at`` is still the end of its prepare (``Run.completed_at``). The
# statuses are literals, not parameters: the expression must be the index's, term for term, for the
# databases to walk ``ix_runs_completed_on`` (migration completed_0001).
COMPLETED_ON = case(
    (Run.status.in_([literal_column(f"'{status}'") for status in sorted(_NOT_SHOWN_COMPLETED)]), null()),
    else_=Run.finished_at)

# The overview's default order (newest first) and the date-range filter.
# ``status`` last: the totals per status of a date-range filter read the index only (migration i10g_0002).
db.Index("ix_runs_started_at", Run.started_at, Run.id, Run.status)
# The P/T filter, the "started by" filter, and the latest run of each profile (max(id) per profile).
db.Index("ix_runs_mode_started", Run.mode, Run.started_at, Run.status)
db.Index("ix_runs_started_by", Run.started_by_id, Run.started_at)
# The totals per status of the "started by" filter, in status order from one range.
db.Index("ix_runs_started_by_status", Run.started_by_id, Run.status)
db.Index("ix_runs_profile_id", Run.profile_id, Run.id)
# The overview's sorts by Completed on and by Time window (PostgreSQL also has ``finished_at DESC NULLS
# LAST, id DESC`` for the descending order: see migration i10g_0001).
db.Index("ix_runs_finished_at", Run.finished_at, Run.id)
# The sort by Completed on: by what the column shows (``COMPLETED_ON``), runs without it last (PostgreSQL also
# has the expression ``DESC NULLS LAST, id DESC``: see migration completed_0001).
db.Index("ix_runs_completed_on", COMPLETED_ON, Run.id)
db.Index("ix_runs_window_start", Run.window_start, Run.id)


class RunStatusCount(db.Model):
    """How many runs a profile has per mode and status: the overview's totals without reading every run.
    Written only by the database's triggers on ``runs`` (migration i10g_0001), in the same transaction as
    the run's change; read by ``exporting.queries.overview_totals``."""
    __tablename__ = "run_status_counts"
    profile_id = db.Column(db.ForeignKey("export_profiles.id", ondelete="CASCADE"), primary_key=True)
    mode = db.Column(db.String(12), primary_key=True)
    status = db.Column(db.String(24), primary_key=True)
    run_count = db.Column(db.Integer, nullable=False)
