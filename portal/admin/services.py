"""User management, shared by the admin pages and ``flask users create``."""
from flask_babel import lazy_gettext as _l

from .. import audit
from ..extensions import db
from ..models import ROLES, Permission, User
from ..validation import has_visible_text

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128    # a 400,000-character one was hashed and stored; no one types more than this
MAX_NAME_LENGTH = 120        # users.name
MAX_EMAIL_LENGTH = 254       # users.email


class UserError(ValueError):
    """A translatable reason why a user change was refused; nothing was changed.

    ``field`` names the form field the reason belongs to, so that the page can show it there.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _check_password(password, allow_short=False):
    """A password is taken as typed (spaces inside and around it count), but not one of spaces alone."""
    if password and not has_visible_text(password):
        raise UserError(_l("A password cannot be made of spaces alone."), field="password")
    if not password or (len(password) < MIN_PASSWORD_LENGTH and not allow_short):
        raise UserError(_l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
                        field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(_l("A password can have at most %(max)d characters.", max=MAX_PASSWORD_LENGTH),
                        field="password")


def _check_name(name, required):
    """The name, trimmed. One of spaces (or invisible characters) alone is refused; so is none at all
    when ``required`` (a new user without one is called by their address). A longer name is refused,
    never cut (the form says so at the field; this is for every other caller)."""
    text = (name or "").strip()
    if (name or required) and not has_visible_text(text):
        raise UserError(_l("Enter the user's name."), field="name")
    if len(text) > MAX_NAME_LENGTH:
        raise UserError(_l("A name can have at most %(max)d characters.", max=MAX_NAME_LENGTH), field="name")
    return text


def create_user(email, password, role=None, permissions=None, name="", locale=None, active=True,
                allow_short_password=False, acting_user=None):
    """A new user (audited: by ``acting_user``, or by the system for the command line and the seed)."""
    email = User.normalise_email(email)
    if not email or "@" not in email or len(email) > MAX_EMAIL_LENGTH:
        raise UserError(_l("Enter a valid e-mail address."), field="email")
    name = _check_name(name, required=False)
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        raise UserError(_l("A user with this e-mail address already exists."), field="email")
    _check_password(password, allow_short_password)
    if permissions is None:
        if role not in ROLES:
            raise UserError(_l("Unknown role."), field="permissions")
        permissions = ROLES[role]
    user = User(email=email, name=name or email.split("@")[0], locale=locale, active=active)
    user.set_password(password)
    user.permissions = permissions
    db.session.add(user)
    db.session.flush()
    audit.record(acting_user, "user.create", user,
                 permissions=sorted(Permission(p).value for p in permissions), active=active)
    db.session.commit()
    return user


def update_user(user, permissions, locale, active, name, password=None, acting_user=None):
    """Save a user's settings. ``acting_user`` (the administrator) may not lock themselves out."""
    permissions = {Permission(p) for p in permissions}
    if acting_user is not None and acting_user.id == user.id:
        if Permission.MANAGE_USERS not in permissions:
            raise UserError(_l("You cannot remove your own permission to manage users. "
                               "Ask another administrator to do it."), field="permissions")
        if not active:
            raise UserError(_l("You cannot deactivate your own account. "
                               "Ask another administrator to do it."), field="active")
    name = _check_name(name, required=True)
    if password:
        _check_password(password)
    changes = [code for code, changed in (
        ("name", (user.name or "") != (name or "")), ("permissions", set(user.permissions) != permissions),
        ("language", (user.locale or None) != (locale or None)), ("password", bool(password)),
        ("active", active and not user.active), ("inactive", user.active and not active)) if changed]
    user.permissions = permissions
    user.locale = locale or None
    user.name = name
    if password:
        user.set_password(password)  # also signs the user out elsewhere
    if user.active and not active:
        user.session_version += 1
    user.active = active
    if changes:
        audit.record(acting_user, "user.update", user, changes=changes,
                     permissions=sorted(p.value for p in permissions))
    db.session.commit()
    return user


def get_user(user_id):
    return db.session.get(User, user_id)


def list_users():
    return db.session.execute(db.select(User).order_by(User.email)).scalars().all()
