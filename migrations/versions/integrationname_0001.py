"""Integration accounts: one name per account whatever its case — a unique index on ``lower(name)`` (the
service compares names trimmed and case folded; the index keeps two consultants saving at the same moment
from both getting the name). "visma.net zorggroep" was accepted next to "Visma.net Zorggroep".

Accounts that already share a name so (or with spaces around it) keep the oldest one's; the others get
" (2)", " (3)" … added.

Revision ID: integrationname_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "integrationname_0001"
down_revision = "attempts_0001"
branch_labels = None
depends_on = None

INDEX = "uq_integration_accounts_name_lower"


def _key(name):
    return (name or "").strip().casefold()


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, name, lower(name) FROM integration_accounts ORDER BY id")).all()
    taken = {_key(name) for _id, name, _lower in rows} | {lower for _id, _name, lower in rows}
    seen = set()
    for account_id, name, lower in rows:
        if _key(name) not in seen and lower not in seen:
            seen.update({_key(name), lower})
            continue
        base = name.strip()[:113]     # room for " (NNN)" within the column's 120 characters
        number = 2
        while _key(f"{base} ({number})") in taken or f"{base} ({number})".lower() in taken:
            number += 1
        renamed = f"{base} ({number})"
        taken.update({_key(renamed), renamed.lower()})
        seen.update({_key(renamed), renamed.lower()})
        connection.execute(sa.text("UPDATE integration_accounts SET name = :name WHERE id = :id"),
                           {"name": renamed, "id": account_id})
    op.create_index(INDEX, "integration_accounts", [sa.text("lower(name)")], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name="integration_accounts")
