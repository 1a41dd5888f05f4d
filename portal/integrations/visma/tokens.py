"""The token store: a valid access token for an account, refreshed under a lock.

Visma Connect rotates refresh tokens one-time: a refresh token presented twice revokes the whole
grant. So two workers must never spend the same refresh token. Refreshing takes a Redis lock per
account (all processes, any database) and then re-reads the row ``SELECT … FOR UPDATE`` (PostgreSQL;
SQLite serialises writers itself). A process that waited for the lock finds the token its
predecessor stored and uses it instead of refreshing again.

These functions use their own short database session, so that they never commit (or roll back)
the caller's work. Call them inside an app context.
"""
import json
import logging
from datetime import timedelta

from redis.exceptions import LockError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...extensions import db
from ...models import IntegrationAccount, utcnow
from ...queue import redis_connection
from . import oauth
from .errors import ReauthorisationRequired, VismaNetUnavailable

log = logging.getLogger(__name__)

# Refresh a little before the access token expires, so that it does not expire in flight.
EXPIRY_MARGIN = timedelta(seconds=60)
LOCK_SECONDS = 60


def _session():
    return Session(db.engine, expire_on_commit=False)


def apply_token(account, token, now=None):
    """Store a token endpoint answer on ``account`` (encrypted by the model's setters)."""
    now = now or utcnow()
    account.access_token = token["access_token"]
    if token.get("refresh_token"):
        account.refresh_token = token["refresh_token"]
    expires_in = token.get("expires_in")
    account.expires_at = now + timedelta(seconds=int(expires_in)) if expires_in else None
    scope = token.get("scope")
    if scope:
        account.scopes = " ".join(scope) if isinstance(scope, (list, tuple)) else str(scope)
    account.last_refresh_at = now
    account.needs_reauthorisation = False
    account.last_error = None
    account.last_error_at = None


# What ``last_error`` can say: a code (translated where it is shown, see ``services.last_error``) and
# a detail kept as it came (an OAuth error code, Visma.net's own words, the request that failed).
PROBLEMS = ("refresh_refused", "connect_unreachable", "no_refresh_token", "token_refused",
            "api_unavailable", "rate_limited", "revoke_failed")


def problem_text(code, detail=""):
    return json.dumps({"code": code, "detail": detail or ""})


def record_problem(account_id, code, detail="", needs_reauthorisation=False):
    """Note the account's last error (and, if asked, that it must be re-authorised)."""
    with _session() as session:
        account = session.get(IntegrationAccount, account_id)
        if account is None:
            return
        account.last_error = problem_text(code, detail)
        account.last_error_at = utcnow()
        if needs_reauthorisation:
            account.needs_reauthorisation = True
            account.access_token = None
            account.refresh_token = None
            account.expires_at = None
        session.commit()


def _usable(account, now):
    return account.access_token_encrypted and account.expires_at and account.expires_at - EXPIRY_MARGIN > now


def access_token(account_id):
    """A valid access token for the account, refreshed first when it (nearly) expired."""
    with _session() as session:
        account = session.get(IntegrationAccount, account_id)
        if account is None:
            raise ReauthorisationRequired(account_id, "The integration account no longer exists")
        if account.needs_reauthorisation:
            raise ReauthorisationRequired(account_id, "The integration account must be authorised again")
        if _usable(account, utcnow()):
            return account.access_token
        if not account.refresh_token_encrypted and not account.access_token_encrypted:
            raise ReauthorisationRequired(account_id, "The integration account is not authorised")
    return refresh(account_id)


def refresh(account_id, stale_access_token=None, force=False):
    """Refresh the account's tokens, once across every process; returns the new access token.

    ``stale_access_token``: the token the caller saw refused (401). If another process has stored a
    different, valid token since, that one is returned and no refresh is spent. ``force`` refreshes
    even when the stored token is still valid (the *Refresh* button).
    """
    lock = redis_connection().lock(f"portal:integration:{account_id}:refresh", timeout=LOCK_SECONDS,
                                   blocking_timeout=LOCK_SECONDS)
    if not lock.acquire():
        raise VismaNetUnavailable("Another process is refreshing the tokens of this account; try again")
    try:
        return _refresh_locked(account_id, stale_access_token, force)
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("The refresh lock of integration account %s expired before it was released",
                        account_id)


def _refresh_locked(account_id, stale_access_token, force):
    with _session() as session:
        account = session.execute(
            select(IntegrationAccount).where(IntegrationAccount.id == account_id).with_for_update()
        ).scalar_one_or_none()
        if account is None:
            raise ReauthorisationRequired(account_id, "The integration account no longer exists")
        if account.needs_reauthorisation:
            raise ReauthorisationRequired(account_id, "The integration account must be authorised again")
        now = utcnow()
        current = account.access_token
        if not force and _usable(account, now) and current != stale_access_token:
            # Someone refreshed while we waited for the lock (or nothing needed refreshing).
            session.commit()
            return current
        if force and stale_access_token and current != stale_access_token and _usable(account, now):
            session.commit()
            return current
        refresh_token = account.refresh_token
        if not refresh_token:
            session.commit()
            record_problem(account_id, "no_refresh_token", needs_reauthorisation=True)
            raise ReauthorisationRequired(account_id, "There is no refresh token")
        try:
            token = oauth.refresh(refresh_token)
        except oauth.ConnectRefused as exc:
            session.rollback()
            reason = f"Visma Connect refused the refresh token ({exc.error})"
            log.warning("Refreshing integration account %s failed: %s", account_id, exc.error)
            record_problem(account_id, "refresh_refused", exc.error, needs_reauthorisation=True)
            raise ReauthorisationRequired(account_id, reason) from None
        except oauth.ConnectUnavailable as exc:
            session.rollback()
            reason = f"Visma Connect could not be reached to refresh the token ({exc})"
            log.warning("Refreshing integration account %s: %s", account_id, reason)
            record_problem(account_id, "connect_unreachable", str(exc))
            raise VismaNetUnavailable(reason, problem="connect_unreachable") from None
        apply_token(account, token, now)
        session.commit()
        log.info("Refreshed the tokens of integration account %s", account_id)
        return account.access_token
