"""Indexes the pages' filters and sorting need on the engine's ``runs`` table (overview, Show exports)."""
from ..extensions import db
from .exporting import Run

# The overview's default order (newest first) and the date-range filter.
db.Index("ix_runs_started_at", Run.started_at, Run.id)
# The P/T filter, the "started by" filter, and the latest run of each profile (max(id) per profile).
db.Index("ix_runs_mode_started", Run.mode, Run.started_at)
db.Index("ix_runs_started_by", Run.started_by_id, Run.started_at)
db.Index("ix_runs_profile_id", Run.profile_id, Run.id)
