"""The source rows an incremental run reads (``changed_sources``), found once by one key-only anti-join and
then read by id, so that the planner knows how few they are (issue 10).

Revision ID: i10a_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "i10a_0002"
down_revision = "i10a_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "changed_sources",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "source_id"),
    )


def downgrade():
    op.drop_table("changed_sources")
