"""The overview's totals per status kept by the database, and indexes for its sorts by Completed on and
Time window (issue 10).

``run_status_counts`` holds how many runs each profile has per mode and status. Triggers on ``runs``
keep it in step, in the same transaction as the change (whoever writes: the engine's status changes,
the jobs' and the reconciler's compare-and-set UPDATEs, plain SQL, deletes): a roll back undoes both,
and on PostgreSQL a concurrent change of the same counter waits for the row lock (the two rows of a
status change are locked in one order, so two changes cannot lock them crosswise). Only a change of
``status``, ``mode`` or ``profile_id`` fires them (the heartbeat and progress writes do not). A
decrement is an UPDATE (a counter row is there since its run was inserted); an increment inserts the row
when it is missing. The overview then sums at most (profiles × 2 × 10) rows instead of reading every run.

Sorted by Completed on or Time window, a page walked no index and sorted every matching run: now
``(finished_at, id)`` and ``(window_start, id)`` (SQLite walks the first in both directions, NULLS LAST
included; PostgreSQL needs ``finished_at DESC NULLS LAST`` for the descending order).

Revision ID: i10g_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i10g_0001"
down_revision = "i10a_0002"
branch_labels = None
depends_on = None

KEY = ("profile_id", "mode", "status")


def _add(row, n):
    values = ", ".join(f"{row}.{c}" for c in KEY)
    return (f"INSERT INTO run_status_counts (profile_id, mode, status, run_count) VALUES ({values}, {n}) "
            f"ON CONFLICT (profile_id, mode, status) DO UPDATE SET run_count = run_status_counts.run_count + {n}")


def _remove(row):
    return ("UPDATE run_status_counts SET run_count = run_count - 1 WHERE "
            + " AND ".join(f"{c} = {row}.{c}" for c in KEY))


CHANGED = "OLD.status <> NEW.status OR OLD.mode <> NEW.mode OR OLD.profile_id <> NEW.profile_id"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "run_status_counts",
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("export_profiles.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", "mode", "status"),
    )
    op.execute("INSERT INTO run_status_counts (profile_id, mode, status, run_count) "
               "SELECT profile_id, mode, status, count(*) FROM runs GROUP BY profile_id, mode, status")
    if postgres:
        op.execute(f"""
            CREATE FUNCTION portal_count_run_status() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN {_add("NEW", 1)};
                ELSIF TG_OP = 'DELETE' THEN {_remove("OLD")};
                ELSIF (OLD.profile_id, OLD.mode, OLD.status) < (NEW.profile_id, NEW.mode, NEW.status) THEN
                    {_remove("OLD")}; {_add("NEW", 1)};
                ELSE
                    {_add("NEW", 1)}; {_remove("OLD")};
                END IF;
                RETURN NULL;
            END $$""")
        op.execute("""
            CREATE FUNCTION portal_clear_run_status_counts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN DELETE FROM run_status_counts; RETURN NULL; END $$""")
        op.execute("CREATE TRIGGER runs_count_status AFTER INSERT OR DELETE ON runs "
                   "FOR EACH ROW EXECUTE FUNCTION portal_count_run_status()")
        op.execute("CREATE TRIGGER runs_count_status_change AFTER UPDATE OF status, mode, profile_id ON runs "
                   f"FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION portal_count_run_status()")
        op.execute("CREATE TRIGGER runs_count_status_truncate AFTER TRUNCATE ON runs "
                   "FOR EACH STATEMENT EXECUTE FUNCTION portal_clear_run_status_counts()")
    else:
        op.execute(f"CREATE TRIGGER runs_count_status_insert AFTER INSERT ON runs FOR EACH ROW "
                   f"BEGIN {_add('NEW', 1)}; END")
        op.execute(f"CREATE TRIGGER runs_count_status_delete AFTER DELETE ON runs FOR EACH ROW "
                   f"BEGIN {_remove('OLD')}; END")
        op.execute(f"CREATE TRIGGER runs_count_status_update AFTER UPDATE OF status, mode, profile_id ON runs "
                   f"FOR EACH ROW WHEN {CHANGED} BEGIN {_remove('OLD')}; {_add('NEW', 1)}; END")
    op.create_index("ix_runs_finished_at", "runs", ["finished_at", "id"])
    op.create_index("ix_runs_window_start", "runs", ["window_start", "id"])
    if postgres:
        op.execute("CREATE INDEX ix_runs_finished_at_desc ON runs (finished_at DESC NULLS LAST, id DESC)")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP INDEX ix_runs_finished_at_desc")
    op.drop_index("ix_runs_window_start", table_name="runs")
    op.drop_index("ix_runs_finished_at", table_name="runs")
    if postgres:
        for trigger in ("runs_count_status", "runs_count_status_change", "runs_count_status_truncate"):
            op.execute(f"DROP TRIGGER {trigger} ON runs")
        op.execute("DROP FUNCTION portal_clear_run_status_counts()")
        op.execute("DROP FUNCTION portal_count_run_status()")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER runs_count_status_{event}")
    op.drop_table("run_status_counts")
