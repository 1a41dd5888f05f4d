"""Visma Connect stand-in: authorization requests, codes with PKCE, tokens with one-time rotation.

Services only (no ``request``): the views pass plain values in. Errors are ``OAuthError`` with the
RFC 6749 error code; the views turn them into a redirect or a JSON answer.
"""
import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..demo.constants import SANDBOX_COMPANIES
from ..extensions import db
from ..models.base import utcnow
from ..models.sandbox import (
    SandboxAuthorizationCode, SandboxAuthorizationRequest, SandboxCompany, SandboxToken,
)

# The scopes Visma Connect knows for the Visma.net ERP interactive API, plus the OpenID ones.
ERP_SCOPE_PREFIX = "vismanet_erp_interactive_api:"
ERP_SCOPES = {ERP_SCOPE_PREFIX + verb for verb in ("read", "create", "update", "delete")}
KNOWN_SCOPES = ERP_SCOPES | {"openid", "email", "profile", "offline_access", "tenants"}


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the code, ``description`` the human text."""

    def __init__(self, error, description, status=400, reason=None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.reason = reason    # which sentence the sandbox's error page shows


# The longest values the sandbox keeps (its columns; Visma Connect limits its inputs too).
MAX_REDIRECT_URI = 2000
MAX_STATE = 1000
MAX_COMPANY_ID = 20


def _same(given, expected):
    """A constant-time comparison of two texts, whatever characters they hold (``compare_digest`` takes
    ASCII text only: a client_id of 'é' was a TypeError, a 500)."""
    return hmac.compare_digest(str(given).encode("utf-8", "surrogatepass"),
                               str(expected).encode("utf-8", "surrogatepass"))


def _hash(value):
    return hashlib.sha256(value.encode()).hexdigest()


def _seconds(name):
    return int(current_app.config[name])


# ---------------------------------------------------------------------------------------- companies

def ensure_companies():
    """The sandbox's companies exist (created on first use, from the demo constants)."""
    existing = set(db.session.execute(db.select(SandboxCompany.id)).scalars())
    missing = [(cid, name) for cid, name in SANDBOX_COMPANIES if cid not in existing]
    if not missing:
        return
    for cid, name in missing:
        db.session.add(SandboxCompany(id=cid, name=name))
    try:
        db.session.commit()
    except IntegrityError:
        # Another process created them at the same moment: theirs are as good as ours.
        db.session.rollback()
        existing = set(db.session.execute(db.select(SandboxCompany.id)).scalars())
        if any(cid not in existing for cid, _name in missing):
            raise


def companies():
    ensure_companies()
    order = [cid for cid, _name in SANDBOX_COMPANIES]
    rows = db.session.execute(db.select(SandboxCompany)).scalars().all()
    return sorted(rows, key=lambda c: order.index(c.id) if c.id in order else len(order))


def company(company_id):
    ensure_companies()
    return db.session.get(SandboxCompany, company_id)


# ---------------------------------------------------------------------------------- authorization

def requested_company(acr_values, tenant):
    """The company the client asks to preselect: ``acr_values=tenant:<id>`` or ``tenant=<id>``."""
    for value in (acr_values or "").split():
        if value.startswith("tenant:"):
            return value.split(":", 1)[1]
    return tenant or None


def _loopback_aliases(uri):
    """``uri`` and, for a loopback host, its other spelling (127.0.0.1 / localhost) with the same port."""
    parts = urlsplit(uri)
    other = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(parts.hostname or "")
    if not other:
        return [uri]
    netloc = other + (f":{parts.port}" if parts.port else "")
    return [uri, parts._replace(netloc=netloc).geturl()]


def registered_redirect_uris():
    """The redirect URIs registered for the portal's client, as at Visma Connect: the portal's callback
    at ``PORTAL_BASE_URL`` (both loopback spellings in the demo), plus ``SANDBOX_REDIRECT_URIS``."""
    config = current_app.config
    uris = []
    base = (config.get("PORTAL_BASE_URL") or "").rstrip("/")
    if base:
        uris.extend(_loopback_aliases(base + "/integrations/callback"))
    uris.extend((config.get("SANDBOX_REDIRECT_URIS") or "").replace(",", " ").split())
    return uris


def check_client_and_redirect(client_id, redirect_uri):
    """Errors here are shown on the sandbox's page; RFC 6749 §4.1.2.1 forbids redirecting them.

    As Visma Connect, the redirect_uri must be one registered for the client, character for character:
    a code is never sent anywhere else."""
    if not client_id or not _same(client_id, current_app.config["VISMA_NET_CLIENT_ID"]):
        raise OAuthError("invalid_client", "Unknown client_id.")
    parts = urlsplit(redirect_uri or "")
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.fragment \
            or len(redirect_uri) > MAX_REDIRECT_URI:
        raise OAuthError("invalid_request", "The redirect_uri is missing or not an absolute http(s) URI.")
    if redirect_uri not in registered_redirect_uris():
        raise OAuthError("invalid_request", "The redirect_uri is not registered for this client.",
                         reason="unregistered_redirect_uri")


def start_authorization(client_id, redirect_uri, response_type, scope, state, code_challenge,
                        code_challenge_method, acr_values=None, tenant=None):
    """Validate an authorization request and keep it until the person allows or denies it.

    Raises ``OAuthError`` for errors to send back to the redirect_uri (after ``check_client_and_redirect``
    passed)."""
    check_client_and_redirect(client_id, redirect_uri)
    if state is not None and len(state) > MAX_STATE:
        raise OAuthError("invalid_request", f"The state parameter is longer than {MAX_STATE} characters.")
    company_id = requested_company(acr_values, tenant)
    if company_id is not None and len(company_id) > MAX_COMPANY_ID:
        raise OAuthError("invalid_request", "The tenant is not a Visma.net company id.")
    if response_type != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
    scopes = list(dict.fromkeys((scope or "").split()))   # a scope named twice is granted once
    if not scopes:
        raise OAuthError("invalid_scope", "The scope parameter is required.")
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", "Unknown scope: " + " ".join(unknown))
    if not code_challenge:
        raise OAuthError("invalid_request", "PKCE is required: code_challenge is missing.")
    if code_challenge_method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256.")
    if not (43 <= len(code_challenge) <= 128):
        raise OAuthError("invalid_request", "The code_challenge is malformed.")
    pending = SandboxAuthorizationRequest(
        id=secrets.token_urlsafe(32), client_id=client_id, redirect_uri=redirect_uri,
        scope=" ".join(scopes), state=state, code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        requested_company_id=company_id,
        expires_at=utcnow() + timedelta(seconds=_seconds("SANDBOX_AUTHORIZATION_REQUEST_SECONDS")))
    db.session.add(pending)
    db.session.commit()
    return pending


def pending_request(request_id):
    """The authorization request still waiting for a decision, or None."""
    if not request_id:
        return None
    pending = db.session.get(SandboxAuthorizationRequest, request_id)
    if pending is None or pending.decided_at is not None or pending.expires_at < utcnow():
        return None
    return pending


def _decide(pending):
    claimed = db.session.execute(
        update(SandboxAuthorizationRequest)
        .where(SandboxAuthorizationRequest.id == pending.id,
               SandboxAuthorizationRequest.decided_at.is_(None))
        .values(decided_at=utcnow())).rowcount
    if not claimed:
        db.session.rollback()
        raise OAuthError("invalid_request", "This authorization request was already answered.")


def deny(pending):
    _decide(pending)
    db.session.commit()


def allow(pending, company_id):
    """The person allowed access for ``company_id``: returns the authorization code (shown once)."""
    if company(company_id) is None:
        raise OAuthError("invalid_request", "Unknown company.")
    _decide(pending)
    code = secrets.token_urlsafe(32)
    db.session.add(SandboxAuthorizationCode(
        code_hash=_hash(code), client_id=pending.client_id, redirect_uri=pending.redirect_uri,
        scope=pending.scope, company_id=company_id, code_challenge=pending.code_challenge,
        code_challenge_method=pending.code_challenge_method,
        expires_at=utcnow() + timedelta(seconds=_seconds("SANDBOX_CODE_SECONDS"))))
    db.session.commit()
    return code


# ------------------------------------------------------------------------------------------- tokens

def authenticate_client(client_id, client_secret):
    config = current_app.config
    if not client_id or not client_secret \
            or not _same(client_id, config["VISMA_NET_CLIENT_ID"]) \
            or not _same(client_secret, config["VISMA_NET_CLIENT_SECRET"]):
        raise OAuthError("invalid_client", "Client authentication failed.", status=401)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims):
    """A compact JWT (HS256 with the app's secret), shaped like Visma Connect's access tokens."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(current_app.config["SECRET_KEY"].encode(), f"{header}.{payload}".encode(),
                         hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _issue(family, client_id, company_id, scope):
    """A new access token (and refresh token when ``offline_access`` was granted): the token response."""
    now = utcnow()
    access_seconds = _seconds("SANDBOX_ACCESS_TOKEN_SECONDS")
    issued_at = int(time.time())
    access = _jwt({"iss": current_app.config.get("SANDBOX_ISSUER", "sandbox-visma-connect"),
                   "client_id": client_id, "tenant_id": company_id, "scope": scope.split(),
                   "iat": issued_at, "nbf": issued_at, "exp": issued_at + access_seconds,
                   "jti": secrets.token_hex(16)})
    db.session.add(SandboxToken(kind="access", token_hash=_hash(access), family=family,
                                client_id=client_id, company_id=company_id, scope=scope,
                                expires_at=now + timedelta(seconds=access_seconds)))
    answer = {"access_token": access, "token_type": "Bearer", "expires_in": access_seconds,
              "scope": scope, "tenant_id": company_id}
    if "offline_access" in scope.split():
        refresh = secrets.token_urlsafe(48)
        db.session.add(SandboxToken(
            kind="refresh", token_hash=_hash(refresh), family=family, client_id=client_id,
            company_id=company_id, scope=scope,
            expires_at=now + timedelta(seconds=_seconds("SANDBOX_REFRESH_TOKEN_SECONDS"))))
        answer["refresh_token"] = refresh
    return answer


def _update_tokens(condition, **values):
    """Update tokens, locking them in id order first: two such updates never deadlock (PostgreSQL)."""
    ids = db.session.execute(db.select(SandboxToken.id).where(condition).order_by(SandboxToken.id)
                             .with_for_update()).scalars().all()
    if ids:
        db.session.execute(update(SandboxToken).where(SandboxToken.id.in_(ids)).values(**values))


def revoke_family(family):
    _update_tokens((SandboxToken.family == family) & SandboxToken.revoked_at.is_(None), revoked_at=utcnow())


def _verify_pkce(verifier, challenge):
    if not verifier or not (43 <= len(verifier) <= 128):
        return False
    computed = _b64(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return _same(computed, challenge)


def exchange_code(client_id, code, redirect_uri, code_verifier):
    if not code:
        raise OAuthError("invalid_request", "The code parameter is required.")
    # Locked: two exchanges of one code wait for each other instead of racing.
    grant = db.session.execute(db.select(SandboxAuthorizationCode)
                               .where(SandboxAuthorizationCode.code_hash == _hash(code))
                               .with_for_update()
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    if grant is None or grant.client_id != client_id:
        db.session.rollback()
        raise OAuthError("invalid_grant", "The authorization code is invalid.")
    spent = db.session.execute(
        update(SandboxAuthorizationCode)
        .where(SandboxAuthorizationCode.id == grant.id, SandboxAuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())).rowcount
    if not spent:
        # A code presented twice: the tokens it gave are revoked too (RFC 6749 §4.1.2).
        family = db.session.execute(db.select(SandboxAuthorizationCode.family)
                                    .where(SandboxAuthorizationCode.id == grant.id)).scalar_one()
        if family:
            revoke_family(family)
        db.session.commit()
        raise OAuthError("invalid_grant", "The authorization code was already used.")
    if grant.expires_at < utcnow():
        db.session.commit()
        raise OAuthError("invalid_grant", "The authorization code has expired.")
    if redirect_uri != grant.redirect_uri:
        db.session.commit()
        raise OAuthError("invalid_grant", "The redirect_uri does not match the authorization request.")
    if not _verify_pkce(code_verifier, grant.code_challenge):
        db.session.commit()
        raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
    family = secrets.token_hex(16)
    grant.family = family
    answer = _issue(family, client_id, grant.company_id, grant.scope)
    db.session.commit()
    return answer


def refresh(client_id, refresh_token):
    """One-time rotation: the presented refresh token is spent; presenting it again revokes the grant."""
    if not refresh_token:
        raise OAuthError("invalid_request", "The refresh_token parameter is required.")
    # Locked: concurrent refreshes with one token queue up here, so exactly one of them spends it.
    token = db.session.execute(db.select(SandboxToken).where(
        SandboxToken.token_hash == _hash(refresh_token), SandboxToken.kind == "refresh")
        .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    if token is None or token.client_id != client_id:
        db.session.rollback()
        raise OAuthError("invalid_grant", "The refresh token is invalid.")
    if token.revoked_at is not None:
        db.session.rollback()
        raise OAuthError("invalid_grant", "The refresh token has been revoked.")
    if token.expires_at < utcnow():
        db.session.rollback()
        raise OAuthError("invalid_grant", "The refresh token has expired.")
    # The row lock serialises PostgreSQL; the conditional update also SQLite (which has no FOR UPDATE).
    spent = db.session.execute(
        update(SandboxToken).where(SandboxToken.id == token.id, SandboxToken.used_at.is_(None))
        .values(used_at=utcnow())).rowcount
    if not spent:
        revoke_family(token.family)
        db.session.commit()
        raise OAuthError("invalid_grant",
                         "The refresh token was already used; every token of this grant is revoked.")
    answer = _issue(token.family, client_id, token.company_id, token.scope)
    db.session.commit()
    return answer


def revoke(client_id, token_value):
    """RFC 7009: revoking a refresh token revokes its grant; an unknown token is not an error.

    (``token_type_hint`` is only a hint: the token is looked up whatever its kind.)"""
    if not token_value:
        raise OAuthError("invalid_request", "The token parameter is required.")
    token = db.session.execute(db.select(SandboxToken).where(
        SandboxToken.token_hash == _hash(token_value))).scalar_one_or_none()
    if token is None or token.client_id != client_id:
        return
    if token.kind == "refresh":
        revoke_family(token.family)
    else:
        token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()


def access_token_company(token_value):
    """The (company id, scopes) of a live access token, or raise ``OAuthError('invalid_token')``."""
    if not token_value:
        raise OAuthError("invalid_token", "Authorization has been denied for this request.", status=401)
    token = db.session.execute(db.select(SandboxToken).where(
        SandboxToken.token_hash == _hash(token_value), SandboxToken.kind == "access")).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        raise OAuthError("invalid_token", "The access token is invalid or has been revoked.", status=401)
    if token.expires_at <= utcnow():
        raise OAuthError("invalid_token", "The access token has expired.", status=401)
    return token.company_id, set(token.scope.split())


def expire_access_tokens(company_id):
    """Every live access token of the company expires now (a fault switch)."""
    now = utcnow()
    _update_tokens((SandboxToken.company_id == company_id) & (SandboxToken.kind == "access")
                   & (SandboxToken.expires_at > now) & SandboxToken.revoked_at.is_(None), expires_at=now)
