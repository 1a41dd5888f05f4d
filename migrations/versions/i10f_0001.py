"""``changed_sources`` also holds the removals an incremental_all run found: its one pass over the window
(a full outer join of the window's keys and change markers with the current ledger's keys) gives the rows
to read and the records gone at once (issue 10). A removal has no source row: ``source_id`` becomes
nullable, ``record_key`` is new, the primary key becomes an index. The table only ever holds a running
prepare's rows, so it is created again.

Revision ID: i10f_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i10f_0001"
down_revision = "i10g_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("changed_sources")
    op.create_table(
        "changed_sources",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("record_key", sa.String(200), nullable=True),
    )
    op.create_index("ix_changed_sources_run", "changed_sources", ["run_id", "source_id"])


def downgrade():
    op.drop_table("changed_sources")
    op.create_table(
        "changed_sources",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "source_id"),
    )
