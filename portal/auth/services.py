"""Sign-in logic and the server's record of live sessions, apart from the request."""
import hashlib
import secrets

from flask import current_app

from .. import audit
from ..extensions import db
from ..models import User
from ..models.base import utcnow
from ..models.user import UserSession

SESSION_KEY = "sid"  # the key of the session token in the (signed) session cookie

# Checked against when the e-mail is unknown, so that both answers take the same time.
_DUMMY_HASH = None


def authenticate(email, password):
    """Return the active user with these credentials, or None. Never says which part was wrong.

    A refused attempt is in the audit log (with the address typed, never the password)."""
    global _DUMMY_HASH
    user = db.session.execute(
        db.select(User).filter_by(email=User.normalise_email(email))).scalar_one_or_none()
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = User(password_hash="")
            _DUMMY_HASH.set_password("not-a-password")
        _DUMMY_HASH.check_password(password)
        audit.record(None, "auth.sign_in_failed", commit=True, actor_email=User.normalise_email(email),
                     email=User.normalise_email(email))
        return None
    if not user.check_password(password) or not user.active:
        audit.record(None, "auth.sign_in_failed", user, commit=True, actor_email=user.email, email=user.email)
        return None
    user.touch_login()
    db.session.commit()
    return user


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user):
    """A new server-side session for ``user``; returns the token its cookie carries. Audited."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(token)))
    audit.record(user, "auth.sign_in", user)
    db.session.commit()
    return token


def session_is_live(user_id, token):
    """True while the session with ``token`` belongs to ``user_id`` and has not been ended."""
    if not token or not isinstance(token, str):
        return False
    return db.session.execute(
        db.select(UserSession.id).where(UserSession.token_hash == _hash(token), UserSession.user_id == user_id,
                                        UserSession.ended_at.is_(None))).first() is not None


def end_session(user, token):
    """Sign-out: the session ends on the server (a copy of its cookie opens nothing any more). Audited."""
    if token and isinstance(token, str):
        db.session.execute(db.update(UserSession).where(UserSession.token_hash == _hash(token),
                                                        UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow()))
    if user is not None:
        audit.record(user, "auth.sign_out", user)
    db.session.commit()


def note_browser_locale(user, locale):
    """The language the portal shows a user on "Browser language" (their own setting unset) in, ``locale``:
    kept for their e-mails (``notifications.mail_language``). Noted where it matters, not on every request:
    at sign-in, on the Notifications page (which names the mails' language) and when a user saves their own
    account as "Browser language". Nothing for a user with a language setting; written only when it changed."""
    if user.locale in current_app.config["LANGUAGES"]:
        return
    if user.browser_locale != locale:
        user.browser_locale = locale
        db.session.commit()


def remember_locale(user, locale):
    """A language the user chose (the switcher, or the sign-in page) becomes their setting."""
    user.locale = locale
    db.session.commit()
