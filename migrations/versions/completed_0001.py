"""The overview's sort by Completed on sorts by what the column shows: a run that waits or works (also a
prepared run exported again, whose ``finished_at`` is still the end of its prepare) shows no time and
comes last in both directions. An index on that expression (``portal.models.overview.COMPLETED_ON``,
term for term) lets both databases walk it instead of sorting every run; PostgreSQL also gets the
descending order with NULLS LAST, as ``ix_runs_finished_at_desc``.

Revision ID: completed_0001
"""
from alembic import op

revision = "completed_0001"
down_revision = "profilename_0001"
branch_labels = None
depends_on = None

COMPLETED_ON = ("CASE WHEN (status IN ('exporting', 'preparing', 'queued', 'scheduled')) THEN NULL "
                "ELSE finished_at END")


def upgrade():
    op.execute(f"CREATE INDEX ix_runs_completed_on ON runs (({COMPLETED_ON}), id)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_runs_completed_on_desc ON runs (({COMPLETED_ON}) DESC NULLS LAST, id DESC)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_runs_completed_on_desc")
    op.execute("DROP INDEX ix_runs_completed_on")
