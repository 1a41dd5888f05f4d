"""The audit log: who did what, when, on what. Append-only (the ORM refuses changes; so does PostgreSQL).

An entry stores an action *code* and its parameters, never a sentence: it is translated when shown,
in the reader's language (``portal.audit.describe``). Secrets never go in: callers pass names and ids.
"""
from sqlalchemy import event

from ..extensions import db
from .base import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    # Who: the user (None for a failed sign-in of an unknown address, or the system), and the e-mail
    # address as it was then (a later change of the user does not rewrite history).
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    actor_email = db.Column(db.String(254), nullable=True)
    action = db.Column(db.String(40), nullable=False, index=True)
    # On what: a kind ("run", "profile", "integration", "user"), its id and its name as it was then.
    target_type = db.Column(db.String(40), nullable=True)
    target_id = db.Column(db.Integer, nullable=True)
    target_label = db.Column(db.String(200), nullable=True)
    details = db.Column(db.JSON, nullable=False, default=dict)
    source_ip = db.Column(db.String(45), nullable=True)

    actor = db.relationship("User", lazy="joined")


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper, _connection, _target):
    raise RuntimeError("the audit log is append-only")
