"""Subscriptions, notifications and the e-mail outbox (issue 12).

- ``Subscription``: a user wants to hear about an event of one profile (or, ``profile_id`` None, of all).
- ``Notification``: one event for one user; ``event_key`` is unique per user, so an event is never
  noted (or mailed) twice. Unread until the user opens the run.
- ``OutboxMail``: the e-mail of a notification, one per notification (unique), sent by the worker and
  retried with back-off while the SMTP server is down.
"""
from sqlalchemy import text

from ..extensions import db
from ..models.base import utcnow

EVENTS = ("run_failed", "sync_stopped", "production_finished", "schedule_skipped")


class Subscription(db.Model):
    __tablename__ = "notification_subscriptions"
    # One subscription per user, profile (or every profile: NULL, which a plain unique constraint would
    # let repeat) and event (migration subscriptions_0001).
    __table_args__ = (
        db.Index("uq_notification_subscriptions_profile", "user_id", "profile_id", "event", unique=True,
                 postgresql_where=text("profile_id IS NOT NULL"), sqlite_where=text("profile_id IS NOT NULL")),
        db.Index("uq_notification_subscriptions_all", "user_id", "event", unique=True,
                 postgresql_where=text("profile_id IS NULL"), sqlite_where=text("profile_id IS NULL")),
    )
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id", ondelete="CASCADE"), nullable=True)
    event = db.Column(db.String(30), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User")
    profile = db.relationship("ExportProfile")


class Notification(db.Model):
    __tablename__ = "notifications"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    event = db.Column(db.String(30), nullable=False)
    event_key = db.Column(db.String(120), nullable=False)        # e.g. "run_failed:42"
    profile_id = db.Column(db.ForeignKey("export_profiles.id", ondelete="CASCADE"), nullable=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True)
    params = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    read_at = db.Column(db.DateTime, nullable=True)

    user = db.relationship("User")
    profile = db.relationship("ExportProfile")
    run = db.relationship("Run")

    __table_args__ = (
        db.UniqueConstraint("user_id", "event_key", name="uq_notifications_once"),
        db.Index("ix_notifications_unread", "user_id", "read_at"),
    )


class OutboxMail(db.Model):
    __tablename__ = "mail_outbox"
    id = db.Column(db.Integer, primary_key=True)
    notification_id = db.Column(db.ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False,
                                unique=True)
    to_address = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text, nullable=False)
    state = db.Column(db.String(10), nullable=False, default="pending")   # pending, sending, sent, failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    claimed_at = db.Column(db.DateTime, nullable=True)
    last_error = db.Column(db.String(300), nullable=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime, nullable=True)

    notification = db.relationship("Notification")

    __table_args__ = (db.Index("ix_mail_outbox_due", "state", "next_attempt_at"),)
