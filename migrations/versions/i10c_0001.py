"""Prepared data pages by keyset: the delivery-order index ends with the id (a unique order), and a
partial index holds the rows "Errors only" shows.

Revision ID: i10c_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "i10c_0001"
down_revision = "i13a_0001"
branch_labels = None
depends_on = None

ORDER = ["run_id", "group_key", "seq", "id"]
# As each database is asked for "Errors only" (portal/models/exporting.py, PROBLEM_SQL): a partial index
# serves a query only when its condition is the query's, term for term.
PROBLEM_SQL = {"sqlite": "error IS NOT NULL OR invalid IS 1", "postgresql": "error IS NOT NULL OR invalid IS true"}


def upgrade():
    op.create_index("ix_prepared_rows_run_order", "prepared_rows", ORDER)
    op.drop_index("ix_prepared_rows_run_seq", table_name="prepared_rows")
    op.create_index("ix_prepared_rows_problem", "prepared_rows", ORDER,
                    sqlite_where=sa.text(PROBLEM_SQL["sqlite"]), postgresql_where=sa.text(PROBLEM_SQL["postgresql"]))


def downgrade():
    op.drop_index("ix_prepared_rows_problem", table_name="prepared_rows")
    op.create_index("ix_prepared_rows_run_seq", "prepared_rows", ["run_id", "group_key", "seq"])
    op.drop_index("ix_prepared_rows_run_order", table_name="prepared_rows")
