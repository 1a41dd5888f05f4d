"""Users: the sign-in before the last one (``previous_login_at``), which the home page shows — it showed the
last sign-in, which is always the one that opened the page.

Revision ID: signin_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "signin_0001"
down_revision = "resolved_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("previous_login_at", sa.DateTime(), nullable=True))
    # Users who signed in before: their last sign-in is the best "previous" there is (never "first").
    op.execute(sa.text("UPDATE users SET previous_login_at = last_login_at"))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("previous_login_at")
