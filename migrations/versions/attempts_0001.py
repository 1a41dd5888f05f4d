"""An attempt's reason stored as a message, as a failed run's (``runs.error_message``) and a skipped
scheduled start's (reasons_0001): ``run_attempts.reason_message``, a message code and its parameters
rendered in each reader's language — ``reason`` kept what the run's language made of it. Existing rows
keep their text and show it as before.

Revision ID: attempts_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "attempts_0001"
down_revision = "completed_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("run_attempts", sa.Column("reason_message", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("run_attempts", "reason_message")
