"""User management, shared by the admin pages and ``flask users create``."""
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import ROLES, Permission, User

MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    """A translatable reason why a user change was refused; nothing was changed."""


def _check_password(password, allow_short=False):
    if not password or (len(password) < MIN_PASSWORD_LENGTH and not allow_short):
        raise UserError(_l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def create_user(email, password, role=None, permissions=None, name="", locale=None, active=True,
                allow_short_password=False):
    email = User.normalise_email(email)
    if not email or "@" not in email:
        raise UserError(_l("Enter a valid e-mail address."))
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        raise UserError(_l("A user with this e-mail address already exists."))
    _check_password(password, allow_short_password)
    if permissions is None:
        if role not in ROLES:
            raise UserError(_l("Unknown role."))
        permissions = ROLES[role]
    user = User(email=email, name=name or email.split("@")[0], locale=locale, active=active)
    user.set_password(password)
    user.permissions = permissions
    db.session.add(user)
    db.session.commit()
    return user


def update_user(user, permissions, locale, active, name, password=None):
    user.permissions = {Permission(p) for p in permissions}
    user.locale = locale or None
    user.name = name
    if password:
        _check_password(password)
        user.set_password(password)  # also signs the user out elsewhere
    if user.active and not active:
        user.session_version += 1
    user.active = active
    db.session.commit()
    return user


def list_users():
    return db.session.execute(db.select(User).order_by(User.email)).scalars().all()
