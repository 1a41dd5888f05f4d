"""The integration wizard's logic: accounts, authorisation, mappings, dimensions, disconnect.

No ``request`` here: views pass plain values. Refusals are ``IntegrationError`` with a translatable
message; nothing is changed when one is raised.
"""
import hmac
import json
import logging
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..models import AdministrationMapping, Company, DimensionMapping, ExportProfile, IntegrationAccount, utcnow
from ..queue import redis_connection
from ..validation import has_visible_text, name_key, parse_id
from .visma import oauth, tokens
from .visma.client import VismaNetClient
from .visma.errors import ReauthorisationRequired, VismaNetApiError, VismaNetError, VismaNetUnavailable

log = logging.getLogger(__name__)

PENDING_SECONDS = 15 * 60
DIMENSION_KINDS = DimensionMapping.KINDS


class IntegrationError(ValueError):
    """A translatable reason why a change was refused; nothing was changed. ``field``: the form field it is
    about (None: the form as a whole, or the one the view names)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class AuthorisationFailed(Exception):
    """The way back from Visma Connect did not give us tokens. ``reason`` names which way failed."""

    def __init__(self, reason, account_id=None, detail=None):
        super().__init__(reason)
        self.reason = reason            # denied | state | expired | refused | unavailable | company | error
        self.account_id = account_id
        self.detail = detail            # Connect's own words, when it gave some


# ------------------------------------------------------------------------------------------ accounts

def list_accounts():
    return db.session.execute(db.select(IntegrationAccount).order_by(IntegrationAccount.name)).scalars().all()


def get_account(account_id):
    return db.session.get(IntegrationAccount, account_id)


MAX_NAME_LENGTH = 120       # integration_accounts.name


NAME_TAKEN = _l("An integration account with this name already exists.")


def create_account(name, user_id):
    """A new integration account. Names are unique as people read them: trimmed, whatever the case
    (``name_key``, compared in Python: SQLite's lower() folds ASCII only); the unique index on
    ``lower(name)`` keeps two consultants saving at the same moment from both getting one."""
    name = (name or "").strip()
    if not has_visible_text(name):
        raise IntegrationError(_l("Enter a name for the integration account."))
    if len(name) > MAX_NAME_LENGTH:
        raise IntegrationError(_l("A name can have at most %(max)d characters.", max=MAX_NAME_LENGTH))
    wanted = name_key(name)
    if any(name_key(other) == wanted
           for other in db.session.execute(db.select(IntegrationAccount.name)).scalars()):
        raise IntegrationError(NAME_TAKEN)
    account = IntegrationAccount(name=name, provider="visma_net", created_by_id=user_id,
                                 wizard_step="authorise")
    db.session.add(account)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise IntegrationError(NAME_TAKEN) from None
    audit.record(user_id, "integration.create", account)
    db.session.commit()
    return account


def account_problem(account):
    """What is wrong with the account, as a sentence for any page that uses it (or None)."""
    if account is None:
        return _l("The integration account no longer exists.")
    if account.needs_reauthorisation:
        return _l("Visma.net no longer accepts this integration account's authorisation. "
                  "Authorise it again on the account page.")
    if not account.access_token_encrypted and not account.refresh_token_encrypted:
        return _l("This integration account is not authorised at Visma.net.")
    return None


PROBLEM_MESSAGES = {
    "refresh_refused": _l("Visma Connect refused the refresh token."),
    "connect_unreachable": _l("Visma Connect could not be reached to refresh the tokens."),
    "no_refresh_token": _l("There is no refresh token; authorise the account again."),
    "token_refused": _l("Visma.net refused a freshly refreshed access token."),
    "api_unavailable": _l("Visma.net did not answer after several attempts."),
    "rate_limited": _l("Visma.net asked to wait longer than the portal waits in place."),
    "revoke_failed": _l("The tokens could not be revoked at Visma Connect."),
}


def last_error(account):
    """``(translated sentence, detail as it came)`` of the account's last error, or None."""
    if not account.last_error:
        return None
    try:
        problem = json.loads(account.last_error)
        return PROBLEM_MESSAGES[problem["code"]], problem.get("detail") or ""
    except (ValueError, KeyError, TypeError):
        return account.last_error, ""


def steps_reachable(account):
    """The wizard steps one may open: every step up to where the account stands."""
    return IntegrationAccount.STEPS[: account.step_index() + 1]


def advance(account, to_step):
    """Move the wizard forward to ``to_step`` (never back), after checking the step before it."""
    if to_step not in IntegrationAccount.STEPS:
        raise IntegrationError(_l("Unknown step."))
    if IntegrationAccount.STEPS.index(to_step) > IntegrationAccount.STEPS.index("verify") \
            and not account.is_authorised:
        raise IntegrationError(_l("Authorise the integration account first."))
    if IntegrationAccount.STEPS.index(to_step) > account.step_index():
        account.wizard_step = to_step
        db.session.commit()
    return account


# ------------------------------------------------------------------------------------ authorisation

def _pending_key(pending_id):
    return f"portal:integrations:oauth:{pending_id}"


def start_authorisation(account, user_id, redirect_uri):
    """Returns ``(pending_id, url)``: keep ``pending_id`` in the session, send the browser to ``url``.

    The state and the PKCE code verifier stay on the server (Redis, 15 minutes, used once); the
    browser only carries the random ``pending_id``.
    """
    pending_id = secrets.token_urlsafe(24)
    state = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)   # 86 characters, within PKCE's 43–128
    pending = {"account_id": account.id, "user_id": user_id, "state": state,
               "code_verifier": code_verifier, "redirect_uri": redirect_uri}
    redis_connection().set(_pending_key(pending_id), json.dumps(pending), ex=PENDING_SECONDS)
    url = oauth.authorization_url(redirect_uri, state, code_verifier, tenant_id=account.company_id)
    return pending_id, url


def _take_pending(pending_id):
    if not pending_id:
        return None
    raw = redis_connection().getdel(_pending_key(pending_id))
    return json.loads(raw) if raw else None


def finish_authorisation(pending_id, user_id, state, code=None, error=None, error_description=None):
    """Back from Visma Connect: check state, exchange the code (with the PKCE verifier), store tokens."""
    pending = _take_pending(pending_id)
    if pending is None:
        raise AuthorisationFailed("expired")
    account_id = pending["account_id"]
    if pending["user_id"] != user_id or not state \
            or not hmac.compare_digest(str(state).encode(), pending["state"].encode()):
        log.warning("Authorisation of integration account %s: the state did not match", account_id)
        raise AuthorisationFailed("state", account_id)
    if error == "access_denied":
        raise AuthorisationFailed("denied", account_id)
    if error or not code:
        raise AuthorisationFailed("error", account_id, detail=error_description or error)
    account = db.session.get(IntegrationAccount, account_id)
    if account is None:
        raise AuthorisationFailed("expired")
    try:
        token = oauth.exchange_code(code, pending["redirect_uri"], pending["code_verifier"])
    except oauth.ConnectRefused as exc:
        log.warning("Authorisation of integration account %s: Connect refused the code (%s)",
                    account_id, exc.error)
        raise AuthorisationFailed("refused", account_id, detail=exc.description or exc.error) from None
    except oauth.ConnectUnavailable:
        raise AuthorisationFailed("unavailable", account_id) from None
    tenant = oauth.tenant_of(token)
    if account.company_id and tenant and tenant != account.company_id:
        # One account is one company for good: its mappings point into that company.
        _revoke_quietly(token)
        raise AuthorisationFailed("company", account_id, detail=account.company_name or account.company_id)
    tokens.apply_token(account, token)
    account.company_id = tenant or account.company_id
    account.authorised_at = utcnow()
    if account.step_index() < IntegrationAccount.STEPS.index("verify"):
        account.wizard_step = "verify"
    audit.record(user_id, "integration.authorise", account, company=account.company_id)
    db.session.commit()
    _update_company_name(account)
    return account


def _revoke_quietly(token):
    for value, hint in ((token.get("refresh_token"), "refresh_token"),
                        (token.get("access_token"), "access_token")):
        if value:
            try:
                oauth.revoke(value, hint)
            except (oauth.ConnectRefused, oauth.ConnectUnavailable) as exc:
                log.warning("Could not revoke a token of the wrong company: %s", type(exc).__name__)


def _update_company_name(account):
    """The company's name at Visma.net: the name of its main branch (Visma.net's company details)."""
    try:
        branches = VismaNetClient(account).get_json("/v1/branch") or []
    except VismaNetError as exc:
        log.warning("Integration account %s: could not read the company name: %s", account.id,
                    type(exc).__name__)
        return
    main = next((b for b in branches if b.get("isMainBranch")), branches[0] if branches else None)
    if main and main.get("name"):
        account.company_name = main["name"]
        db.session.commit()


def refresh_now(account, user=None):
    """The *Refresh* button: new tokens now (and the company name read again)."""
    try:
        tokens.refresh(account.id, force=True)
    except ReauthorisationRequired:
        db.session.refresh(account)
        raise IntegrationError(_l("Visma Connect refused to refresh the tokens. Authorise the account again."))
    except VismaNetUnavailable:
        db.session.refresh(account)
        raise IntegrationError(_l("Visma Connect could not be reached. Try again in a moment."))
    db.session.refresh(account)
    audit.record(user, "integration.refresh", account)
    db.session.commit()
    _update_company_name(account)
    return account


def profiles_sending_through(account):
    """The export profiles in use that send to Visma.net through this account (what disconnecting stops)."""
    profiles = db.session.execute(db.select(ExportProfile).where(
        ExportProfile.provider == "visma_net", ExportProfile.archived.is_(False))
        .order_by(ExportProfile.name, ExportProfile.id)).scalars()
    return [p for p in profiles if parse_id((p.options or {}).get("account_id")) == account.id]


def disconnect(account, user=None):
    """Revoke the tokens at Visma Connect and forget them here. Returns False when revoking failed
    (the tokens are forgotten all the same; the grant then ends when its refresh token expires)."""
    revoked = True
    for value, hint in ((account.refresh_token, "refresh_token"), (account.access_token, "access_token")):
        if not value:
            continue
        try:
            if not oauth.revoke(value, hint):      # no VISMA_NET_REVOKE_URL configured
                revoked = False
        except (oauth.ConnectRefused, oauth.ConnectUnavailable) as exc:
            log.warning("Integration account %s: revoking the %s failed (%s)", account.id, hint,
                        type(exc).__name__)
            revoked = False
    account.access_token = None
    account.refresh_token = None
    account.expires_at = None
    account.needs_reauthorisation = False
    account.last_error = None if revoked else tokens.problem_text("revoke_failed")
    account.last_error_at = None if revoked else utcnow()
    account.wizard_step = "authorise" if account.step_index() < IntegrationAccount.STEPS.index("done") \
        else account.wizard_step
    audit.record(user, "integration.disconnect", account, revoked=revoked)
    db.session.commit()
    return revoked


# --------------------------------------------------------------------------------- administrations

def _api_problem(exc):
    if isinstance(exc, ReauthorisationRequired):
        return IntegrationError(_l("Visma.net no longer accepts this integration account's authorisation. "
                                   "Authorise it again on the account page."))
    if isinstance(exc, VismaNetApiError):
        return IntegrationError(_l("Visma.net answered: %(message)s", message=exc.exception_message))
    return IntegrationError(_l("Visma.net could not be reached. Try again in a moment."))


def branches(account):
    """The Visma.net company's branches: ``[(number, name)]``, from ``GET /v1/branch``."""
    try:
        data = VismaNetClient(account).get_json("/v1/branch") or []
    except VismaNetError as exc:
        db.session.refresh(account)
        raise _api_problem(exc) from None
    return [(str(b.get("number", "")).strip(), b.get("name") or "") for b in data
            if b.get("number") and b.get("isActive", True) is not False]


def companies():
    return db.session.execute(db.select(Company).order_by(Company.name)).scalars().all()


def add_mapping(account, company_id, branch_number, known_branches, user=None):
    """*New mapping*: our company → the account's Visma.net company and one of its branches."""
    company_id = parse_id(company_id)  # an id beyond the integer range is no company, not an overflow
    company = db.session.get(Company, company_id) if company_id else None
    if company is None:
        raise IntegrationError(_l("Choose one of our companies."), field="company")
    names = dict(known_branches)
    if branch_number not in names:
        raise IntegrationError(_l("Choose a branch that exists at Visma.net."), field="branch")
    if db.session.execute(db.select(AdministrationMapping.id).filter_by(
            account_id=account.id, company_id=company.id)).first():
        raise IntegrationError(_l("%(company)s is already mapped in this integration account.",
                                  company=company.name), field="company")
    mapping = AdministrationMapping(account=account, company=company, visma_company_id=account.company_id,
                                    visma_company_name=account.company_name or "",
                                    branch_number=branch_number, branch_name=names[branch_number])
    db.session.add(mapping)
    audit.record(user, "integration.add_mapping", account, company=company.name, branch=branch_number)
    db.session.commit()
    return mapping


def get_mapping(account, mapping_id):
    """The account's administration mapping ``mapping_id``, or None (also when it is another account's)."""
    mapping = db.session.get(AdministrationMapping, mapping_id)
    return mapping if mapping is not None and mapping.account_id == account.id else None


def delete_mapping(account, mapping_id, user=None):
    mapping = get_mapping(account, mapping_id)
    if mapping is None:
        raise IntegrationError(_l("This mapping does not exist."))
    audit.record(user, "integration.delete_mapping", account, company=mapping.company.name,
                 branch=mapping.branch_number)
    db.session.delete(mapping)
    db.session.commit()


def mapping_for(account, company_id):
    """The branch our company's records go to in this account (for the provider), or None."""
    return db.session.execute(db.select(AdministrationMapping).filter_by(
        account_id=account.id, company_id=company_id)).scalar_one_or_none()


# -------------------------------------------------------------------------------------- dimensions

def dimension_settings(account):
    """``{kind: DimensionMapping or None}`` for cost centres and cost units."""
    found = {m.kind: m for m in account.dimension_mappings}
    return {kind: found.get(kind) for kind in DIMENSION_KINDS}


def dimension_segments(account):
    """For the provider: ``{kind: (dimension id, segment id)}`` of the enabled dimension mappings."""
    return {m.kind: (m.visma_dimension_id, m.segment_id) for m in account.dimension_mappings
            if m.enabled and m.segment_id is not None}


def _dimension_id():
    return current_app.config["VISMA_NET_DIMENSION_ID"]


def _normalise(text):
    return " ".join((text or "").split()).casefold()


def save_dimensions(account, wanted, user=None):
    """``wanted``: ``{kind: (enabled, description)}``. Each enabled description must match a segment
    of Visma.net's subaccount dimension; a mismatch names the segments that exist."""
    cleaned = {kind: (bool(enabled), " ".join((description or "").split()))
               for kind, (enabled, description) in wanted.items() if kind in DIMENSION_KINDS}
    errors = {}
    for kind, (enabled, description) in cleaned.items():
        if enabled and not description:
            errors[kind] = _l("Enter the description of the dimension as it is called in Visma.net.")
    if errors:
        raise DimensionError(errors)
    segments = {}
    if any(enabled for enabled, _description in cleaned.values()):
        segments = _subaccount_segments(account)
    found = {}
    for kind, (enabled, description) in cleaned.items():
        if not enabled:
            continue
        segment = segments.get(_normalise(description))
        if segment is None:
            existing = ", ".join(f"“{s['description']}”" for s in segments.values()) or "–"
            errors[kind] = _l("Visma.net has no dimension called “%(description)s”. "
                              "The dimensions that exist: %(existing)s.",
                              description=description, existing=existing)
        else:
            found[kind] = segment
    ids = [s["segmentId"] for s in found.values()]
    if not errors and len(ids) != len(set(ids)):
        errors["cost_unit"] = _l("Cost centres and cost units must be different dimensions.")
    if errors:
        raise DimensionError(errors)
    current = dimension_settings(account)
    for kind, (enabled, description) in cleaned.items():
        mapping = current.get(kind) or DimensionMapping(account=account, kind=kind)
        mapping.enabled = enabled
        mapping.description = description
        mapping.visma_dimension_id = _dimension_id() if enabled else None
        mapping.segment_id = found[kind]["segmentId"] if enabled else None
        if enabled:
            mapping.description = found[kind]["description"]   # Visma.net's spelling
        db.session.add(mapping)
    audit.record(user, "integration.save_dimensions", account,
                 enabled=sorted(kind for kind, (enabled, _d) in cleaned.items() if enabled))
    db.session.commit()
    return dimension_settings(account)


class DimensionError(IntegrationError):
    """Per kind, why its dimension was refused."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors.values()))
        self.errors = errors


def _subaccount_segments(account):
    """``{normalised description: segment}`` of the dimension that holds cost centres and units."""
    client = VismaNetClient(account)
    dimension_id = _dimension_id()
    try:
        dimensions = client.get_json("/v1/dimension") or []
        if dimension_id not in dimensions:
            raise IntegrationError(_l("Visma.net has no dimension %(dimension)s. The dimensions that exist: "
                                      "%(existing)s.", dimension=dimension_id,
                                      existing=", ".join(map(str, dimensions)) or "–"))
        detail = client.get_json(f"/v1/dimension/{dimension_id}", {"expandSegmentsValues": "false"}) or {}
    except VismaNetError as exc:
        db.session.refresh(account)
        raise _api_problem(exc) from None
    segments = {}
    for segment in detail.get("segments") or []:
        if segment.get("description") and segment.get("segmentId") is not None:
            segments.setdefault(_normalise(segment["description"]), segment)
    return segments
