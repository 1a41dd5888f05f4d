"""Visma Connect through Authlib: the authorization URL (PKCE S256), code exchange, refresh, revocation.

Plain functions over the app's configuration; they know nothing about accounts or the database.
"""
import base64
import json

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app

class ConnectRefused(Exception):
    """Visma Connect answered with an OAuth error (``error`` as RFC 6749 names it)."""

    def __init__(self, error, description=None):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class ConnectUnavailable(Exception):
    """Visma Connect could not be reached or gave no usable answer (network, 5xx, not JSON)."""


def _config(name):
    return current_app.config[name]


def _session(redirect_uri=None, scope=None):
    return OAuth2Session(_config("VISMA_NET_CLIENT_ID"), _config("VISMA_NET_CLIENT_SECRET"),
                         scope=scope, redirect_uri=redirect_uri, code_challenge_method="S256")


def scopes():
    return current_app.config["VISMA_NET_SCOPES"]


def authorization_url(redirect_uri, state, code_verifier, tenant_id=None):
    """Where to send the browser. ``tenant_id`` asks Connect to preselect the account's company."""
    extra = {"acr_values": f"tenant:{tenant_id}"} if tenant_id else {}
    with _session(redirect_uri, scopes()) as session:
        url, _state = session.create_authorization_url(
            _config("VISMA_NET_AUTHORIZE_URL"), state=state, code_verifier=code_verifier, **extra)
    return url


def _timeout():
    return float(current_app.config["VISMA_NET_HTTP_TIMEOUT"])


def _call(action):
    try:
        return action()
    except OAuthError as exc:
        raise ConnectRefused(exc.error or "error", exc.description) from None
    except (requests.RequestException, ValueError) as exc:
        # ValueError: the answer was not JSON (a proxy's error page, a 5xx).
        raise ConnectUnavailable(type(exc).__name__) from None


def exchange_code(code, redirect_uri, code_verifier):
    def action():
        with _session(redirect_uri) as session:
            return dict(session.fetch_token(_config("VISMA_NET_TOKEN_URL"), grant_type="authorization_code",
                                            code=code, code_verifier=code_verifier, timeout=_timeout()))
    return _call(action)


def refresh(refresh_token):
    def action():
        with _session() as session:
            return dict(session.refresh_token(_config("VISMA_NET_TOKEN_URL"), refresh_token=refresh_token,
                                              timeout=_timeout()))
    return _call(action)


def revoke(token, token_type_hint):
    """RFC 7009 revocation; raises ``ConnectUnavailable`` / ``ConnectRefused`` when it did not work."""
    url = current_app.config.get("VISMA_NET_REVOKE_URL")
    if not url:
        return False

    def action():
        with _session() as session:
            response = session.revoke_token(url, token=token, token_type_hint=token_type_hint,
                                            timeout=_timeout())
        if response.status_code >= 500:
            raise requests.HTTPError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            try:
                error = response.json().get("error", f"HTTP {response.status_code}")
            except ValueError:
                error = f"HTTP {response.status_code}"
            raise OAuthError(error=error)
        return True
    return _call(action)


def token_claims(access_token):
    """The claims of a JWT access token (not verified: it came straight from the token endpoint)."""
    try:
        payload = access_token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, AttributeError):
        return {}


def tenant_of(token):
    """The company (tenant) a token response is for: ``tenant_id`` in the answer or in the JWT."""
    return token.get("tenant_id") or token_claims(token.get("access_token", "")).get("tenant_id")
