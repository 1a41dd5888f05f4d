"""SQLite: an index on the current ledger's key and watermark, so that an incremental run's probe per
record of its window (``exporting.changes``) reads the index only, not the row with its payload (issue 10).
PostgreSQL finds the rows to read by one hash join and needs none.

Revision ID: i10f_0002
"""
from alembic import op

revision = "i10f_0002"
down_revision = "i10f_0001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_ledger_current_key", "ledger_current", ["record_key", "profile_id", "source_version"])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_ledger_current_key", table_name="ledger_current")
