"""PostgreSQL: no foreign key from ``prepared_rows.run_id`` to ``runs`` (issue 10).

The key was checked row by row (one ``SELECT … FOR KEY SHARE`` on the run per inserted row): 35–40 % of
the server's work of inserting a run's prepared rows, measured at 100,000 and 1,000,000 rows. The rows are
only ever inserted by their own run's job, after the run row exists, and runs are never deleted by the
portal (a profile with runs is archived, not deleted: ``exporting.services.delete_profile``), so the key
guarded nothing the code does not. Code that ever deletes runs deletes their prepared rows with them (the
``ON DELETE CASCADE`` the key carried).

SQLite never enforced it (the portal did not turn on ``PRAGMA foreign_keys``); dropping it there would
copy the whole table, so it stayed declared there and unenforced — until sqlitefk_0001, which drops it
there too when SQLite starts enforcing foreign keys.

Revision ID: i10i_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i10i_0001"
down_revision = "i10f_0002"
branch_labels = None
depends_on = None

NAME = "fk_prepared_rows_run_id_runs"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(NAME, "prepared_rows", type_="foreignkey")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Rows of runs that no longer exist would stop the key: they go first, as the cascade would have.
        op.execute(sa.text("DELETE FROM prepared_rows p WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = p.run_id)"))
        op.create_foreign_key(NAME, "prepared_rows", "runs", ["run_id"], ["id"], ondelete="CASCADE")
