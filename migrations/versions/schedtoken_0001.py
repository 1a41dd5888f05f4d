"""Schedules: ``schedules.form_token``, the one-time token of the New schedule form that created the
schedule (unique). The same form sent twice (a resent request, a double click) found no trace of the first
and created a second, identical schedule: two runs a day. Now the second finds the token taken and
creates nothing. Schedules made before have none (NULL: unique indexes allow many).

Revision ID: schedtoken_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "schedtoken_0001"
down_revision = "subscriptions_0001"
branch_labels = None
depends_on = None


# A column and a unique index: no table copy on SQLite (the schedules' starts keep pointing at them).
INDEX = "uq_schedules_form_token"


def upgrade():
    op.add_column("schedules", sa.Column("form_token", sa.String(80), nullable=True))
    op.create_index(INDEX, "schedules", ["form_token"], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name="schedules")
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("form_token")
