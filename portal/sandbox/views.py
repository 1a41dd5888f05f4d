"""The sandbox's HTTP face: Visma Connect (authorize, token, revocation) and its own pages.

The token and revocation endpoints and the ERP API are machine endpoints (exempt from the portal's
CSRF protection); the sign-in/allow page and the fault switches are human pages and use CSRF.
"""
import base64
import json
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit, parse_qsl

from flask import current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from ..web import content_security_policy
from . import bp, connect, received
from .connect import OAuthError

CSRF_EXEMPT = []


def machine_endpoint(view):
    CSRF_EXEMPT.append(view)
    return view


def _with_query(uri, params):
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items()
                                                             if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _redirect_back(redirect_uri, **params):
    response = redirect(_with_query(redirect_uri, params), code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_action_csp(redirect_uri):
    """The consent form redirects to the client: let the browser follow it (CSP form-action)."""
    parts = urlsplit(redirect_uri)
    return content_security_policy(f"{parts.scheme}://{parts.netloc}")


def _problem_page(error, status=400):
    return render_template("sandbox/connect_error.html", error=error), status


# ------------------------------------------------------------------------------------ authorization

@bp.get("/connect/authorize")
def authorize():
    args = request.args
    try:
        connect.check_client_and_redirect(args.get("client_id"), args.get("redirect_uri"))
    except OAuthError as error:
        return _problem_page(error)
    try:
        pending = connect.start_authorization(
            client_id=args.get("client_id"), redirect_uri=args.get("redirect_uri"),
            response_type=args.get("response_type"), scope=args.get("scope"), state=args.get("state"),
            code_challenge=args.get("code_challenge"),
            code_challenge_method=args.get("code_challenge_method"),
            acr_values=args.get("acr_values"), tenant=args.get("tenant"))
    except OAuthError as error:
        return _redirect_back(args["redirect_uri"], error=error.error,
                              error_description=error.description, state=args.get("state"))
    return _consent_page(pending)


def _consent_page(pending, problem=None, status=200):
    body = render_template("sandbox/authorize.html", pending=pending, companies=connect.companies(),
                           chosen=pending.requested_company_id, problem=problem,
                           scopes=pending.scope.split())
    return body, status, {"Content-Security-Policy": _form_action_csp(pending.redirect_uri),
                          "Cache-Control": "no-store"}


@bp.post("/connect/authorize")
def authorize_decision():
    pending = connect.pending_request(request.form.get("request_id"))
    if pending is None:
        return _problem_page(OAuthError("invalid_request", "expired"))
    if request.form.get("decision") == "deny":
        connect.deny(pending)
        return _redirect_back(pending.redirect_uri, error="access_denied",
                              error_description="The user denied access.", state=pending.state)
    company_id = request.form.get("company")
    if not company_id or connect.company(company_id) is None:
        return _consent_page(pending, problem=_("Choose a company."), status=400)
    code = connect.allow(pending, company_id)
    return _redirect_back(pending.redirect_uri, code=code, state=pending.state)


# ------------------------------------------------------------------------------ token / revocation

def _oauth_json(payload, status=200, headers=None):
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _oauth_error(error):
    headers = {}
    if error.status == 401 and request.authorization is not None:
        headers["WWW-Authenticate"] = 'Basic realm="sandbox-visma-connect"'
    return _oauth_json({"error": error.error, "error_description": error.description},
                       error.status, headers)


def _client_credentials():
    """client_secret_basic (RFC 6749 §2.3.1: form-urlencoded inside Basic) or client_secret_post."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
            client_id, _sep, secret = decoded.partition(":")
            return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
        except (ValueError, UnicodeDecodeError):
            return None, None
    return request.form.get("client_id"), request.form.get("client_secret")


SECRET_FIELDS = {"client_secret", "code", "code_verifier", "refresh_token", "token"}


def _redacted_form():
    return json.dumps({k: ("***" if k in SECRET_FIELDS else v) for k, v in request.form.items()})


def _log_token_call(response, company_id=None):
    received.record(request.method, request.path, company_id, response.status_code, _redacted_form(),
                    None if response.status_code < 400 else response.get_data(as_text=True))
    return response


@bp.post("/connect/token")
@machine_endpoint
def token():
    try:
        client_id, secret = _client_credentials()
        connect.authenticate_client(client_id, secret)
        grant_type = request.form.get("grant_type")
        if grant_type == "authorization_code":
            answer = connect.exchange_code(client_id, request.form.get("code"),
                                           request.form.get("redirect_uri"),
                                           request.form.get("code_verifier"))
        elif grant_type == "refresh_token":
            answer = connect.refresh(client_id, request.form.get("refresh_token"))
        elif not grant_type:
            raise OAuthError("invalid_request", "The grant_type parameter is required.")
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported.")
    except OAuthError as error:
        return _log_token_call(_oauth_error(error))
    return _log_token_call(_oauth_json(answer), answer.get("tenant_id"))


@bp.post("/connect/revocation")
@machine_endpoint
def revocation():
    try:
        client_id, secret = _client_credentials()
        connect.authenticate_client(client_id, secret)
        connect.revoke(client_id, request.form.get("token"))
    except OAuthError as error:
        return _log_token_call(_oauth_error(error))
    response = current_app.response_class(status=200)
    response.headers["Cache-Control"] = "no-store"
    return _log_token_call(response)
