"""Reasons stored as messages: a failed run's (``runs.error_message``) and a skipped scheduled start's
(``schedule_starts.reason_message``), each a message code and its parameters rendered in the reader's
language — the text columns (``error_reason``, ``reason``) kept what the starter's language made of it,
which a Swedish manager then read in Dutch. Existing rows keep their text and show it as before.

Revision ID: reasons_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "reasons_0001"
down_revision = "stopend_0001"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of the tables: their indexes and triggers stay as they are).
    op.add_column("runs", sa.Column("error_message", sa.JSON(), nullable=True))
    op.add_column("schedule_starts", sa.Column("reason_message", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("schedule_starts", "reason_message")
    op.drop_column("runs", "error_message")
