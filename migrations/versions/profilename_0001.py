"""Export profiles: one name per profile in use — a unique index on ``lower(name)`` of the profiles that are
not archived (the service compares names trimmed and case folded, and says so next to the name field;
the index keeps two consultants saving at the same moment from both getting the name).

Profiles in use that already share a name keep the oldest one's; the others get " (2)", " (3)" … added.

Revision ID: profilename_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "profilename_0001"
down_revision = "mail_language_0001"
branch_labels = None
depends_on = None

INDEX = "uq_export_profiles_name_in_use"


def _key(name):
    return (name or "").strip().casefold()


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, name, lower(name) FROM export_profiles WHERE archived = FALSE ORDER BY id")).all()
    taken = {_key(name) for _id, name, _lower in rows} | {lower for _id, _name, lower in rows}
    seen = set()
    for profile_id, name, lower in rows:
        if _key(name) not in seen and lower not in seen:
            seen.update({_key(name), lower})
            continue
        number = 2
        while _key(f"{name} ({number})") in taken or f"{name} ({number})".lower() in taken:
            number += 1
        renamed = f"{name} ({number})"
        taken.update({_key(renamed), renamed.lower()})
        seen.update({_key(renamed), renamed.lower()})
        connection.execute(sa.text("UPDATE export_profiles SET name = :name WHERE id = :id"),
                           {"name": renamed, "id": profile_id})
    op.create_index(INDEX, "export_profiles", [sa.text("lower(name)")], unique=True,
                    postgresql_where=sa.text("archived = FALSE"), sqlite_where=sa.text("archived = FALSE"))


def downgrade():
    op.drop_index(INDEX, table_name="export_profiles")
