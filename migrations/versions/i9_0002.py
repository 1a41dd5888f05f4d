"""Visma.net documents know their record per company (``natural``), their method and operation, so
that a change is sent as an update, a credit note, a void or a reversal of what Visma.net holds.

Revision ID: i9_0002
Revises: i13b_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i9_0002"
down_revision = "i13b_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visma_documents") as batch:
        batch.add_column(sa.Column("method", sa.String(length=8), nullable=False, server_default="POST"))
        batch.add_column(sa.Column("operation", sa.String(length=20), nullable=False, server_default="new"))
        batch.add_column(sa.Column("natural", sa.String(length=120), nullable=True))
    op.create_index("ix_visma_documents_natural", "visma_documents", ["account_id", "natural", "mode"])
    with op.batch_alter_table("sync_stops") as batch:
        batch.add_column(sa.Column("skip_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("sync_stops") as batch:
        batch.drop_column("skip_reason")
    op.drop_index("ix_visma_documents_natural", table_name="visma_documents")
    with op.batch_alter_table("visma_documents") as batch:
        batch.drop_column("natural")
        batch.drop_column("operation")
        batch.drop_column("method")
