"""Stopped syncs: ``sync_stops.ended`` says how a stop ended other than by Resume or Skip — its export
was cancelled (``cancelled``) or rolled back (``rolled_back``). Before, a cancelled stopped export left
the stop standing: the system message with Resume stayed on every page, and Resume had nothing to resume.

Stops left standing by an export already cancelled or rolled back end now (``ended`` says which, at the
export's end), so that their system message goes.

Revision ID: stopend_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "stopend_0001"
down_revision = "sqlitefk_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_stops") as batch:
        batch.add_column(sa.Column("ended", sa.String(16), nullable=True))
    for status in ("cancelled", "rolled_back"):
        op.execute(sa.text(
            "UPDATE sync_stops SET ended = :status, resumed_at = (SELECT COALESCE(r.finished_at, "
            "sync_stops.stopped_at) FROM runs r WHERE r.id = sync_stops.run_id) "
            "WHERE resumed_at IS NULL AND run_id IN (SELECT id FROM runs WHERE status = :status)"
        ).bindparams(status=status))


def downgrade():
    with op.batch_alter_table("sync_stops") as batch:
        batch.drop_column("ended")
