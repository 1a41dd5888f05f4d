"""Indexes for the pages' filters and sorting on ``runs`` (overview, Show exports, latest run per profile).

Revision ID: pages_0001
Revises: integration_0001 (needs only the engine's ``runs`` table)
"""
from alembic import op

revision = "pages_0001"
down_revision = "provider_0001"  # chained at merge: 0001 → engine → sandbox → integration → provider → pages
branch_labels = None
depends_on = None

INDEXES = {
    "ix_runs_started_at": ["started_at", "id"],
    "ix_runs_mode_started": ["mode", "started_at"],
    "ix_runs_started_by": ["started_by_id", "started_at"],
    "ix_runs_profile_id": ["profile_id", "id"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "runs", columns)


def downgrade():
    for name in reversed(list(INDEXES)):
        op.drop_index(name, table_name="runs")
