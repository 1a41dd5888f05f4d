"""The current ledger: one row per profile and record key (what the ledger holds now), filled from the
history (``ledger_entries``) and from then on kept in step with it by the engine.

Revision ID: i10_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i10_0001"
down_revision = "i9_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_current",
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("export_profiles.id"), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("window_value", sa.String(length=32), nullable=True),
        sa.Column("group_key", sa.String(length=120), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("subject_key", sa.String(length=60), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", "record_key"),
    )
    op.create_index("ix_ledger_current_profile_window", "ledger_current", ["profile_id", "window_value"])
    # What counts now: per profile and key, the latest entry not rolled back, unless it is a removal.
    op.execute(sa.text("""
        INSERT INTO ledger_current (profile_id, record_key, fingerprint, window_value, group_key, company_id,
                                    subject_key, payload, entry_id, run_id)
        SELECT l.profile_id, l.record_key, l.fingerprint, l.window_value, l.group_key, l.company_id,
               l.subject_key, l.payload, l.id, l.run_id
        FROM ledger_entries l
        WHERE l.removed = :false AND l.id IN (
            SELECT MAX(m.id) FROM ledger_entries m WHERE m.rolled_back = :false GROUP BY m.profile_id, m.record_key)
    """).bindparams(false=False))


def downgrade():
    op.drop_index("ix_ledger_current_profile_window", table_name="ledger_current")
    op.drop_table("ledger_current")
