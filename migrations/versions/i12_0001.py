"""Recurring schedules and their starts; notification subscriptions, notifications and the mail outbox.

Revision ID: i12_0001
Revises: i10_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i12_0001"
down_revision = "i10_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("export_profiles.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("frequency", sa.String(12), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(24), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_start_at", sa.DateTime(), nullable=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_schedules_profile_id", "schedules", ["profile_id"])
    op.create_index("ix_schedules_due", "schedules", ["paused", "next_start_at"])
    op.create_table(
        "schedule_starts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule_id", sa.Integer(), sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("code", sa.String(60), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_schedule_starts_once"),
    )
    op.create_index("ix_schedule_starts_run_id", "schedule_starts", ["run_id"])
    op.create_table(
        "notification_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("export_profiles.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_notification_subscriptions_user_id", "notification_subscriptions", ["user_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("event_key", sa.String(120), nullable=False),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("export_profiles.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("user_id", "event_key", name="uq_notifications_once"),
    )
    op.create_index("ix_notifications_run_id", "notifications", ["run_id"])
    op.create_index("ix_notifications_unread", "notifications", ["user_id", "read_at"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notifications.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["state", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_notifications_run_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_notification_subscriptions_user_id", table_name="notification_subscriptions")
    op.drop_table("notification_subscriptions")
    op.drop_index("ix_schedule_starts_run_id", table_name="schedule_starts")
    op.drop_table("schedule_starts")
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.drop_index("ix_schedules_profile_id", table_name="schedules")
    op.drop_table("schedules")
