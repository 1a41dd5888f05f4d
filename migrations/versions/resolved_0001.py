"""Report items: ``resolved`` stored when the row is delivered, instead of derived from the run's prepared
rows — a roll back removes those, and its resolved errors counted again (the red triangle on a rolled-back
export that had delivered everything).

Existing items are resolved as the derivation said: an error about a row that is processed now.

Revision ID: resolved_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "resolved_0001"
down_revision = "i10i_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_items") as batch:
        batch.add_column(sa.Column("resolved", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text(
        "UPDATE report_items SET resolved = TRUE WHERE severity = 'error' AND row_id IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM prepared_rows p WHERE p.id = report_items.row_id AND p.processed = TRUE)"))


def downgrade():
    with op.batch_alter_table("report_items") as batch:
        batch.drop_column("resolved")
