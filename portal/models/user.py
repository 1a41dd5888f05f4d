"""Users and their permissions: the four tasks of DESIGN §1."""
import enum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import TimestampMixin, utcnow


class Permission(str, enum.Enum):
    IMPORT_EXPORT = "import_export"        # staff: start exports
    VIEW_EXPORTS = "view_exports"          # manager: read every export (read-only)
    MANAGE_EXPORTS = "manage_exports"      # setup consultant: profiles, integrations, and export
    MANAGE_USERS = "manage_users"          # administrator


PERMISSION_LABELS = {
    Permission.IMPORT_EXPORT.value: _l("Import and export"),
    Permission.VIEW_EXPORTS.value: _l("View exports"),
    Permission.MANAGE_EXPORTS.value: _l("Manage export and financial settings and export"),
    Permission.MANAGE_USERS.value: _l("Manage users"),
}

# A task that includes others (seed 001: "Manage export and financial settings *and export*").
IMPLIES = {
    Permission.MANAGE_EXPORTS: {Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS},
}

ROLES = {
    "staff": {Permission.IMPORT_EXPORT},
    "manager": {Permission.VIEW_EXPORTS},
    "consultant": {Permission.MANAGE_EXPORTS},
    "admin": {Permission.MANAGE_USERS, Permission.MANAGE_EXPORTS},
}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False, default="")
    password_hash = db.Column(db.String(255), nullable=False)
    # Comma-separated Permission values; small and read on every request with the user row.
    permissions_text = db.Column("permissions", db.String(255), nullable=False, default="")
    locale = db.Column(db.String(8), nullable=True)            # None: "Browser language"
    # With "Browser language": the language the portal last used for the user (their browser's, or the one
    # chosen for the session), so that their e-mails come in it too (``notifications.mail_language``).
    browser_locale = db.Column(db.String(8), nullable=True)
    active = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped when the password changes or the user is deactivated: old sessions stop working.
    session_version = db.Column(db.Integer, nullable=False, default=1)
    last_login_at = db.Column(db.DateTime, nullable=True)
    # The sign-in before the last one: what the home page shows (the last one is the user's own, just now).
    previous_login_at = db.Column(db.DateTime, nullable=True)

    @staticmethod
    def normalise_email(email):
        return (email or "").strip().lower()

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password):
        return check_password_hash(self.password_hash, password or "")

    @property
    def permissions(self):
        return {Permission(p) for p in self.permissions_text.split(",") if p}

    @permissions.setter
    def permissions(self, values):
        self.permissions_text = ",".join(sorted(Permission(v).value for v in values))

    def effective_permissions(self):
        granted = set(self.permissions)
        for permission in list(granted):
            granted |= IMPLIES.get(permission, set())
        return granted

    def can(self, *permissions):
        """True when the user holds any of ``permissions`` (directly or through a task that includes it)."""
        granted = self.effective_permissions()
        return any(Permission(p) in granted for p in permissions)

    # Flask-Login: the id in the session carries the version, so bumping it signs the user out.
    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self):
        return bool(self.active)

    def touch_login(self):
        self.previous_login_at = self.last_login_at
        self.last_login_at = utcnow()

    def __repr__(self):
        return f"<User {self.email}>"


class UserSession(db.Model):
    """A signed-in session, known to the server: sign-out ends it here, so a copied cookie is worthless.

    The browser's (signed) session cookie carries a random token; only its SHA-256 is stored.
    """
    __tablename__ = "user_sessions"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    ended_at = db.Column(db.DateTime, nullable=True)
