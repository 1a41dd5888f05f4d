"""Notification subscriptions: one per user, profile and event. A settings form that named an event twice
(``events-1=run_failed&events-1=run_failed``) saved two rows. Two partial unique indexes: one for a
profile's subscriptions, one for those of every profile (``profile_id`` NULL, which a plain unique
constraint would let repeat).

Duplicates already stored are removed first: the oldest row (lowest id) of each stays.

Revision ID: subscriptions_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "subscriptions_0001"
down_revision = "integrationname_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text(
        "DELETE FROM notification_subscriptions WHERE id NOT IN (SELECT keep FROM (SELECT MIN(id) AS keep "
        "FROM notification_subscriptions GROUP BY user_id, profile_id, event) AS kept)"))
    op.create_index("uq_notification_subscriptions_profile", "notification_subscriptions",
                    ["user_id", "profile_id", "event"], unique=True,
                    postgresql_where=sa.text("profile_id IS NOT NULL"), sqlite_where=sa.text("profile_id IS NOT NULL"))
    op.create_index("uq_notification_subscriptions_all", "notification_subscriptions", ["user_id", "event"],
                    unique=True, postgresql_where=sa.text("profile_id IS NULL"),
                    sqlite_where=sa.text("profile_id IS NULL"))


def downgrade():
    op.drop_index("uq_notification_subscriptions_all", table_name="notification_subscriptions")
    op.drop_index("uq_notification_subscriptions_profile", table_name="notification_subscriptions")
