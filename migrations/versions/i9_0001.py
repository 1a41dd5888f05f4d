"""Journal lines keep the ledger account's name from the source (SIE 4's #KONTO carries it).

Revision ID: i9_0001
Revises: pages_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i9_0001"
down_revision = "pages_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("journal_lines") as batch:
        batch.add_column(sa.Column("account_name", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("journal_lines") as batch:
        batch.drop_column("account_name")
