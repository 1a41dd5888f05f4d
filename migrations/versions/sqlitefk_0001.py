"""SQLite enforces foreign keys from now on (``portal/extensions.py``): its schema and rows made fit for it.

1. ``prepared_rows.run_id``: no foreign key on SQLite either. PostgreSQL has none since i10i_0001 (checking
   it cost a lookup of the run per inserted row) and the model declares none; SQLite kept it, declared and
   unenforced. Enforced, it would have given SQLite a rule PostgreSQL does not have (a deleted run's
   prepared rows deleted with it): the two databases have the same keys with the same ON DELETE rules now.
   The table is copied once (batch mode).
2. The rows SQLite left behind while it did not enforce the keys — e.g. the schedules, their starts and the
   notification settings of a profile deleted before ``delete_profile`` deleted them by hand — get what
   their key's ON DELETE rule says, as PostgreSQL did at the delete: CASCADE deletes them (and, in turn,
   what points at them), SET NULL empties the reference. A reference without a rule (NO ACTION) is left
   as it is: nothing says what it should become, and SQLite checks a row's key only when it is written.
   ``migrations/env.py`` names any that are left.

PostgreSQL: nothing to do. Downgrade: the key is declared again on SQLite (the rows deleted stay deleted).

Revision ID: sqlitefk_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "sqlitefk_0001"
down_revision = "signin_0001"
branch_labels = None
depends_on = None

NAME = "fk_prepared_rows_run_id_runs"
CHUNK = 500


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if any(fk["name"] == NAME for fk in sa.inspect(bind).get_foreign_keys("prepared_rows")):
        with op.batch_alter_table("prepared_rows", recreate="always") as batch:
            batch.drop_constraint(NAME, type_="foreignkey")
    apply_delete_rules(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table("prepared_rows", recreate="always") as batch:
        batch.create_foreign_key(NAME, "runs", ["run_id"], ["id"], ondelete="CASCADE")


def apply_delete_rules(bind):
    """Give every row whose foreign key points at nothing what the key's ON DELETE rule says, until none
    is left that a rule covers (a deleted row's own dependents are found in the next round)."""
    while True:
        found = {}
        for table, rowid, _parent, fk_id in bind.exec_driver_sql("PRAGMA foreign_key_check").all():
            if rowid is not None:
                found.setdefault((table, fk_id), []).append(rowid)
        changed = False
        for (table, fk_id), rowids in sorted(found.items()):
            rule, columns = _rule(bind, table, fk_id)
            if rule == "CASCADE":
                statement = f'DELETE FROM "{table}" WHERE rowid IN (%s)'
            elif rule == "SET NULL":
                assignments = ", ".join(f'"{column}" = NULL' for column in columns)
                statement = f'UPDATE "{table}" SET {assignments} WHERE rowid IN (%s)'
            else:
                continue
            for start in range(0, len(rowids), CHUNK):
                chunk = rowids[start:start + CHUNK]
                bind.exec_driver_sql(statement % ", ".join("?" * len(chunk)), tuple(chunk))
            changed = True
        if not changed:
            return


def _rule(bind, table, fk_id):
    """(ON DELETE rule, the referencing columns) of foreign key ``fk_id`` of ``table``."""
    rows = [row for row in bind.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').all() if row[0] == fk_id]
    return rows[0][6].upper(), [row[3] for row in sorted(rows, key=lambda row: row[1])]
