"""What the Visma.net provider sent (or, in a test run, would send), and stopped syncs.

``VismaDocument`` is one document (a journal transaction, invoice, payment, purchase order, inventory
item or kit specification) built from one or more prepared rows. It is the provider's outbox: a
document is written as ``sending`` (and committed) *before* it is posted, so that a retry after a crash
between sending and recording knows to look it up at Visma.net before posting again. Its ``reference``
is stable across runs (the record and a digest of the document), so a later run with the same content
finds it ``sent`` and does not post it twice.

``SyncStop`` is the *stop on error* of a profile (payments, purchase orders, products): the first
rejected record stops the profile's sync until someone resumes it.
"""
from ..extensions import db
from .base import utcnow


class VismaDocument(db.Model):
    __tablename__ = "visma_documents"

    STATES = ("test", "invalid", "sending", "sent", "rejected", "lost")

    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id", ondelete="CASCADE"), nullable=False)
    account_id = db.Column(db.Integer, nullable=True)     # the integration account it went to
    mode = db.Column(db.String(12), nullable=False)        # test or production
    kind = db.Column(db.String(40), nullable=False)        # journaltransaction, customerinvoice, …
    path = db.Column(db.String(100), nullable=False)       # e.g. /v2/journaltransaction
    method = db.Column(db.String(8), nullable=False, default="POST")   # POST (create, action) or PUT (update)
    # What it does to the record at Visma.net: new, update, credit_note, new_version, void, deactivate,
    # correction (a journal with reversals), component (a kit's raw material sent before the kit).
    operation = db.Column(db.String(20), nullable=False, default="new")
    # The record's document at Visma.net, per company ("<family>:<company code>/<number>"): the latest
    # sent document of it is what Visma.net holds, and what a change updates, credits or voids.
    natural = db.Column(db.String(120), nullable=True)
    reference = db.Column(db.String(100), nullable=False)  # our reference, kept by Visma.net
    record_keys = db.Column(db.JSON, nullable=False, default=list)
    row_ids = db.Column(db.JSON, nullable=False, default=list)
    body = db.Column(db.JSON, nullable=False)              # the payload, as sent (or as it would be)
    state = db.Column(db.String(12), nullable=False)
    visma_number = db.Column(db.String(60), nullable=True)
    location = db.Column(db.String(500), nullable=True)
    message = db.Column(db.Text, nullable=True)            # Visma.net's ExceptionMessage, verbatim
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime, nullable=True)

    __table_args__ = (
        db.Index("ix_visma_documents_lookup", "account_id", "kind", "reference", "state"),
        db.Index("ix_visma_documents_natural", "account_id", "natural", "mode"),
    )


class SyncStop(db.Model):
    __tablename__ = "sync_stops"

    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id", ondelete="CASCADE"), nullable=False, index=True)
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    row_id = db.Column(db.BigInteger, nullable=True)
    record_key = db.Column(db.String(200), nullable=True)
    message = db.Column(db.Text, nullable=False)            # Visma.net's own message, as it came
    stopped_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    resumed_at = db.Column(db.DateTime, nullable=True)
    resumed_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    skip_reason = db.Column(db.Text, nullable=True)         # set when the record was skipped, not resumed
    # Set when the stop ended with its export — "cancelled" or "rolled_back" (``resumed_at``: when, and
    # ``resumed_by_id``: who) — rather than by Resume or Skip.
    ended = db.Column(db.String(16), nullable=True)
