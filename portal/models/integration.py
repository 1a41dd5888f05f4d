"""Integration accounts (Visma.net connections) and their administration and dimension mappings.

Tokens are stored encrypted (``portal.crypto``): the columns hold Fernet tokens, never
the bearer or refresh token itself. Use the account's properties to read and write them.
"""
from sqlalchemy import text

from ..crypto import decrypt, encrypt
from ..extensions import db
from .base import TimestampMixin


class IntegrationAccount(TimestampMixin, db.Model):
    __tablename__ = "integration_accounts"

    # Where the wizard stands; the account page and the wizard resume from here.
    STEPS = ("authorise", "verify", "administrations", "dimensions", "done")

    # One name per account whatever its case (the service compares them trimmed and case folded too:
    # ``validation.name_key``; migration integrationname_0001).
    __table_args__ = (db.Index("uq_integration_accounts_name_lower", text("lower(name)"), unique=True),)

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False, unique=True)
    provider = db.Column(db.String(30), nullable=False, default="visma_net")
    # The Visma.net company (tenant) chosen at sign-in; an account is bound to it for good.
    company_id = db.Column(db.String(64), nullable=True)
    company_name = db.Column(db.String(200), nullable=True)
    scopes = db.Column(db.String(500), nullable=False, default="")
    access_token_encrypted = db.Column(db.Text, nullable=True)
    refresh_token_encrypted = db.Column(db.Text, nullable=True)
    expires_at = db.Column(db.DateTime, nullable=True)          # when the access token expires (UTC)
    authorised_at = db.Column(db.DateTime, nullable=True)
    last_refresh_at = db.Column(db.DateTime, nullable=True)
    last_error = db.Column(db.Text, nullable=True)
    last_error_at = db.Column(db.DateTime, nullable=True)
    needs_reauthorisation = db.Column(db.Boolean, nullable=False, default=False)
    wizard_step = db.Column(db.String(20), nullable=False, default="authorise")
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    created_by = db.relationship("User")
    administration_mappings = db.relationship(
        "AdministrationMapping", back_populates="account", cascade="all, delete-orphan",
        order_by="AdministrationMapping.id")
    dimension_mappings = db.relationship(
        "DimensionMapping", back_populates="account", cascade="all, delete-orphan",
        order_by="DimensionMapping.kind")

    # -- tokens (decrypted on read, encrypted on write) ------------------------------------------
    @property
    def access_token(self):
        return decrypt(self.access_token_encrypted)

    @access_token.setter
    def access_token(self, value):
        self.access_token_encrypted = encrypt(value)

    @property
    def refresh_token(self):
        return decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value):
        self.refresh_token_encrypted = encrypt(value)

    @property
    def is_authorised(self):
        return bool(self.refresh_token_encrypted or self.access_token_encrypted) \
            and not self.needs_reauthorisation

    @property
    def scope_list(self):
        return self.scopes.split() if self.scopes else []

    def step_index(self):
        return self.STEPS.index(self.wizard_step) if self.wizard_step in self.STEPS else 0

    def __repr__(self):  # no tokens here, ever
        return f"<IntegrationAccount {self.id} {self.name!r} company={self.company_id}>"


class AdministrationMapping(TimestampMixin, db.Model):
    """Our company → the Visma.net company (the account's) and one of its branches."""
    __tablename__ = "administration_mappings"

    id = db.Column(db.Integer, primary_key=True)
    account_id = db.Column(db.ForeignKey("integration_accounts.id", ondelete="CASCADE"), nullable=False)
    company_id = db.Column(db.ForeignKey("companies.id", ondelete="CASCADE"), nullable=False)
    visma_company_id = db.Column(db.String(64), nullable=False)
    visma_company_name = db.Column(db.String(200), nullable=False, default="")
    branch_number = db.Column(db.String(30), nullable=False)
    branch_name = db.Column(db.String(200), nullable=False, default="")

    account = db.relationship("IntegrationAccount", back_populates="administration_mappings")
    company = db.relationship("Company")

    __table_args__ = (db.UniqueConstraint("account_id", "company_id"),)


class DimensionMapping(TimestampMixin, db.Model):
    """Cost centres or cost units → a Visma.net dimension segment, matched by its description."""
    __tablename__ = "dimension_mappings"

    KINDS = ("cost_centre", "cost_unit")

    id = db.Column(db.Integer, primary_key=True)
    account_id = db.Column(db.ForeignKey("integration_accounts.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(20), nullable=False)
    enabled = db.Column(db.Boolean, nullable=False, default=False)
    description = db.Column(db.String(200), nullable=False, default="")
    # Found at Visma.net when the mapping was saved: the dimension (e.g. SUBACCOUNT) and its segment.
    visma_dimension_id = db.Column(db.String(40), nullable=True)
    segment_id = db.Column(db.Integer, nullable=True)

    account = db.relationship("IntegrationAccount", back_populates="dimension_mappings")

    __table_args__ = (db.UniqueConstraint("account_id", "kind"),)
