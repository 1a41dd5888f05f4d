from datetime import datetime, timezone

from ..extensions import db


def utcnow():
    """Now in UTC, naive: every stored time is UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
