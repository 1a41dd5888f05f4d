"""Sign-in logic, apart from the request."""
from ..extensions import db
from ..models import User

# Checked against when the e-mail is unknown, so that both answers take the same time.
_DUMMY_HASH = None


def authenticate(email, password):
    """Return the active user with these credentials, or None. Never says which part was wrong."""
    global _DUMMY_HASH
    user = db.session.execute(
        db.select(User).filter_by(email=User.normalise_email(email))).scalar_one_or_none()
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = User(password_hash="")
            _DUMMY_HASH.set_password("not-a-password")
        _DUMMY_HASH.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.touch_login()
    db.session.commit()
    return user


def remember_locale(user, locale):
    """A language the user chose (the switcher, or the sign-in page) becomes their setting."""
    user.locale = locale
    db.session.commit()
