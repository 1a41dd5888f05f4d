"""The Visma.net sandbox's state: Connect grants and tokens, per-company faults, what it received.

Everything lives in the database (never in a process), so the sandbox works behind several
gunicorn processes. Tokens and codes are stored only as SHA-256 hashes.
"""
from ..extensions import db
from .base import utcnow


class SandboxCompany(db.Model):
    """A Visma.net company (tenant) of the sandbox, with its switchable faults."""
    __tablename__ = "sandbox_companies"

    id = db.Column(db.String(20), primary_key=True)           # Visma.net company id (tenant id)
    name = db.Column(db.String(200), nullable=False)
    # Faults: the next N API requests answer 429 (with Retry-After) / 500.
    fault_rate_limit_count = db.Column(db.Integer, nullable=False, default=0)
    fault_retry_after = db.Column(db.Integer, nullable=False, default=2)
    fault_server_error_count = db.Column(db.Integer, nullable=False, default=0)
    # Every API request waits this long before it answers.
    fault_delay_seconds = db.Column(db.Float, nullable=False, default=0.0)
    # After this many more API requests, every access token of the company expires (0 = off).
    fault_expire_tokens_after = db.Column(db.Integer, nullable=False, default=0)
    # The next record whose reference/number equals this is rejected with a 400 (once).
    fault_reject_reference = db.Column(db.String(100), nullable=True)
    fault_reject_message = db.Column(db.String(500), nullable=True)
    # Closed financial periods (YYYYMM, comma separated) on top of every period before 2025-01.
    closed_periods = db.Column(db.Text, nullable=False, default="")
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SandboxAuthorizationRequest(db.Model):
    """An authorization request waiting for the person to choose a company and allow or deny."""
    __tablename__ = "sandbox_authorization_requests"

    id = db.Column(db.String(43), primary_key=True)           # random, shown in the consent form
    client_id = db.Column(db.String(200), nullable=False)
    redirect_uri = db.Column(db.String(2000), nullable=False)
    scope = db.Column(db.String(1000), nullable=False)
    state = db.Column(db.String(1000), nullable=True)
    code_challenge = db.Column(db.String(200), nullable=False)
    code_challenge_method = db.Column(db.String(10), nullable=False)
    requested_company_id = db.Column(db.String(20), nullable=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    decided_at = db.Column(db.DateTime, nullable=True)


class SandboxAuthorizationCode(db.Model):
    __tablename__ = "sandbox_authorization_codes"

    id = db.Column(db.Integer, primary_key=True)
    code_hash = db.Column(db.String(64), nullable=False, unique=True)
    client_id = db.Column(db.String(200), nullable=False)
    redirect_uri = db.Column(db.String(2000), nullable=False)
    scope = db.Column(db.String(1000), nullable=False)
    company_id = db.Column(db.String(20), nullable=False)
    code_challenge = db.Column(db.String(200), nullable=False)
    code_challenge_method = db.Column(db.String(10), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    used_at = db.Column(db.DateTime, nullable=True)
    # The grant (token family) this code produced: revoked if the code is presented again.
    family = db.Column(db.String(32), nullable=True)


class SandboxToken(db.Model):
    """An access or refresh token. ``family`` ties together every token of one grant."""
    __tablename__ = "sandbox_tokens"
    __table_args__ = (db.Index("ix_sandbox_tokens_family", "family"),
                      db.Index("ix_sandbox_tokens_company_kind", "company_id", "kind"))

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(10), nullable=False)           # "access" or "refresh"
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    family = db.Column(db.String(32), nullable=False)
    client_id = db.Column(db.String(200), nullable=False)
    company_id = db.Column(db.String(20), nullable=False)
    scope = db.Column(db.String(1000), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    used_at = db.Column(db.DateTime, nullable=True)           # a refresh token is spent once
    revoked_at = db.Column(db.DateTime, nullable=True)


class SandboxRecord(db.Model):
    """A document the ERP API stand-in created: journal transaction, invoice, payment, order, item, kit."""
    __tablename__ = "sandbox_records"
    __table_args__ = (db.UniqueConstraint("company_id", "kind", "number",
                                          name="uq_sandbox_records_company_kind_number"),
                      db.Index("ix_sandbox_records_lookup", "company_id", "kind", "reference"))

    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.String(20), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    number = db.Column(db.String(60), nullable=False)         # the number Visma.net gave it
    reference = db.Column(db.String(100), nullable=True)      # the sender's reference, for look-ups
    period = db.Column(db.String(6), nullable=True)           # YYYYMM
    body = db.Column(db.Text, nullable=False)                 # the JSON as received
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class SandboxRequest(db.Model):
    """One request the sandbox received (API and token endpoint), for the received-requests page."""
    __tablename__ = "sandbox_requests"
    __table_args__ = (db.Index("ix_sandbox_requests_company_created", "company_id", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    method = db.Column(db.String(10), nullable=False)
    path = db.Column(db.String(2000), nullable=False)
    company_id = db.Column(db.String(20), nullable=True)
    status = db.Column(db.Integer, nullable=False)
    request_body = db.Column(db.Text, nullable=True)
    response_body = db.Column(db.Text, nullable=True)
