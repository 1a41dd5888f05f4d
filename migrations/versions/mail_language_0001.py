"""Users on "Browser language": the language the portal last used for them (``users.browser_locale``),
so that their e-mails come in it (they came in English). Existing users get it when they next open a page.

Revision ID: mail_language_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "mail_language_0001"
down_revision = "reasons_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("browser_locale", sa.String(8), nullable=True))


def downgrade():
    op.drop_column("users", "browser_locale")
