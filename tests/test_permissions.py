"""The permission matrix: every endpoint of the app × every role → allowed, 403, or the sign-in page.

``EXPECTED`` names the access rule of every endpoint in ``app.url_map``. An endpoint without an entry
fails ``test_every_endpoint_has_an_expected_permission``: when you add a page or action, add a line here.

An entry is either an access rule, or ``Entry(access, args=..., method=..., signs_out=...)`` where
``args`` are the URL arguments (a callable receiving the ``users`` fixture's ids may give them),
``method`` the HTTP method to try (default: GET if the endpoint allows it, else POST with a CSRF token).
Access rules: ``PUBLIC`` (anyone, also before sign-in), ``SIGNED_IN`` (any signed-in user), or a tuple
of ``Permission``s of which the user needs one (directly or through a task that includes it).
"""
from dataclasses import dataclass, field

import pytest

from portal.models import ROLES, Permission
from portal.models.user import IMPLIES

PUBLIC = "public"
SIGNED_IN = "signed-in"
IMPORT_EXPORT = (Permission.IMPORT_EXPORT,)
VIEW_EXPORTS = (Permission.VIEW_EXPORTS,)
MANAGE_EXPORTS = (Permission.MANAGE_EXPORTS,)
MANAGE_USERS = (Permission.MANAGE_USERS,)
READ_EXPORTS = (Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS)   # staff and managers (and consultants)
# The Visma.net sandbox stands in for an outside system: its pages and API have their own rules
# (bearer tokens, OAuth clients), never the portal's sign-in or permissions.
EXTERNAL = "external"
EXTERNAL_PREFIXES = ("sandbox.",)


@dataclass
class Entry:
    access: object
    args: object = field(default_factory=dict)   # dict, or callable(users) -> dict
    method: str = None
    data: dict = field(default_factory=dict)     # form fields for a POST (besides csrf_token)
    signs_out: bool = False                       # tried last, since it ends the session


EXPECTED = {
    "static": Entry(PUBLIC, args={"filename": "css/portal.css"}),
    # main
    "main.index": SIGNED_IN,
    "main.set_language": Entry(PUBLIC, data={"locale": "en"}),
    "main.health": PUBLIC,
    "main.favicon": PUBLIC,
    # auth
    "auth.login": PUBLIC,
    "auth.logout": Entry(PUBLIC, signs_out=True),
    # admin
    "admin.users": MANAGE_USERS,
    "admin.new_user": MANAGE_USERS,
    "admin.edit_user": Entry(MANAGE_USERS, args=lambda users: {"user_id": users["staff"]}),
    "admin.audit_log": MANAGE_USERS,
    "admin.audit_csv": MANAGE_USERS,
    # integrations (the Visma.net wizard)
    "integrations.accounts": MANAGE_EXPORTS,
    "integrations.new_account": MANAGE_EXPORTS,
    "integrations.account": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"]}),
    "integrations.setup": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"],
                                                                   "step": "authorise"}),
    "integrations.authorise": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"]}),
    "integrations.callback": MANAGE_EXPORTS,
    "integrations.refresh": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"]}),
    "integrations.disconnect": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"]}),
    "integrations.next_step": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"],
                                                                       "step": "verify"}),
    "integrations.new_mapping": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"]}),
    "integrations.delete_mapping": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"],
                                                                            "mapping_id": 1}),
    "integrations.save_dimensions": Entry(MANAGE_EXPORTS, args=lambda ids: {"account_id": ids["account"]}),
    # Other features add their endpoints below this line.
    # pages: profiles, runs, overview (ids that do not exist: a 404 still shows the permission passed)
    "profiles.index": READ_EXPORTS,
    "profiles.detail": Entry(READ_EXPORTS, args={"profile_id": 999}),
    "profiles.new": MANAGE_EXPORTS,
    "profiles.edit": Entry(MANAGE_EXPORTS, args={"profile_id": 999}),
    "profiles.columns": MANAGE_EXPORTS,
    "profiles.archive": Entry(MANAGE_EXPORTS, args={"profile_id": 999}),
    "runs.start": Entry(IMPORT_EXPORT, args={"profile_id": 999}),
    "runs.debtor_search": IMPORT_EXPORT,
    "runs.run": Entry(READ_EXPORTS, args={"run_id": 999}),
    "runs.run_panel": Entry(READ_EXPORTS, args={"run_id": 999}),
    "runs.download": Entry(READ_EXPORTS, args={"run_id": 999, "file_id": 999}),
    "runs.report_csv": Entry(READ_EXPORTS, args={"run_id": 999}),
    "runs.documents_json": Entry(READ_EXPORTS, args={"run_id": 999}),
    "runs.resume_sync": Entry(IMPORT_EXPORT, args={"profile_id": 999}),
    "runs.skip_record": Entry(MANAGE_EXPORTS, args={"profile_id": 999}, data={"reason": "x"}),
    "runs.cancel": Entry(IMPORT_EXPORT, args={"run_id": 999}),
    "runs.roll_back": Entry(IMPORT_EXPORT, args={"run_id": 999}),
    "runs.export": Entry(IMPORT_EXPORT, args={"run_id": 999}),
    "runs.profile_runs": Entry(READ_EXPORTS, args={"profile_id": 999}),
    "runs.scenarios": IMPORT_EXPORT,
    "runs.process": IMPORT_EXPORT,
    "runs.prepared": Entry(READ_EXPORTS, args={"run_id": 999}),
    "runs.history": Entry(READ_EXPORTS, args={"profile_id": 999}),
    "overview.index": VIEW_EXPORTS,
    "overview.download": VIEW_EXPORTS,
    # schedules (issue 12): Import and export, consultants too (their task includes it)
    "schedules.index": Entry(IMPORT_EXPORT, args={"profile_id": 999}),
    "schedules.new": Entry(IMPORT_EXPORT, args={"profile_id": 999}),
    "schedules.edit": Entry(IMPORT_EXPORT, args={"profile_id": 999, "schedule_id": 999}),
    "schedules.pause": Entry(IMPORT_EXPORT, args={"profile_id": 999, "schedule_id": 999}, data={"paused": "1"}),
    "schedules.delete": Entry(IMPORT_EXPORT, args={"profile_id": 999, "schedule_id": 999}),
    # notifications: whoever reads exports may subscribe
    "notifications.settings": READ_EXPORTS,
}

ROLE_NAMES = ["anonymous", "staff", "manager", "consultant", "admin"]


def _entry(value):
    return value if isinstance(value, Entry) else Entry(value)


def _expected_entry(endpoint, rule):
    if endpoint.startswith(EXTERNAL_PREFIXES):
        return Entry(EXTERNAL, args={name: "1" for name in rule.arguments})
    return _entry(EXPECTED[endpoint])


def _objects(app, users):
    """Ids for URL arguments: the demo users and an integration account to open."""
    from portal.extensions import db
    from portal.models import IntegrationAccount
    with app.app_context():
        account = IntegrationAccount(name="Matrix")
        db.session.add(account)
        db.session.commit()
        return {**users, "account": account.id}


def _granted(role):
    granted = set(ROLES.get(role, set()))
    for permission in list(granted):
        granted |= IMPLIES.get(permission, set())
    return granted


def _expected(access, role):
    """'allowed', 'forbidden' (403) or 'sign-in' (redirect to the sign-in page)."""
    if access == PUBLIC:
        return "allowed"
    if role == "anonymous":
        return "sign-in"
    if access == SIGNED_IN or set(access) & _granted(role):
        return "allowed"
    return "forbidden"


def _outcome(response):
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303, 307) and location.startswith("/auth/login"):
        return "sign-in"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 400 and b"The form has expired" in response.data:
        return "refused by the CSRF check"
    if response.status_code >= 500 or response.status_code in (401, 405):
        return f"unexpected {response.status_code}"
    return "allowed"  # the view was reached (a 400/404/422 for an empty form counts: no permission refused it)


def test_every_endpoint_has_an_expected_permission(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if not rule.endpoint.startswith(EXTERNAL_PREFIXES)}
    missing = sorted(endpoints - set(EXPECTED))
    assert not missing, ("Endpoints without an entry in tests/test_permissions.py EXPECTED "
                         f"(add the permission each one needs): {missing}")
    stale = sorted(set(EXPECTED) - endpoints)
    assert not stale, f"EXPECTED names endpoints the app no longer has: {stale}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_permission_matrix(app, client, auth, users, role):
    if role != "anonymous":
        assert auth.login(role).status_code == 302
    ids = _objects(app, users)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    ordered = sorted(rules, key=lambda e: (_expected_entry(e, rules[e]).signs_out, e))
    wrong = []
    for endpoint in ordered:
        entry, rule = _expected_entry(endpoint, rules[endpoint]), rules[endpoint]
        args = entry.args(ids) if callable(entry.args) else entry.args
        with app.test_request_context():
            from flask import url_for
            url = url_for(endpoint, **args)
        method = entry.method or ("GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS"})[0])
        if method == "GET":
            response = client.get(url)
        else:
            data = {"csrf_token": auth.csrf_token("/auth/login"), **entry.data}
            response = client.open(url, method=method, data=data)
        if entry.access == EXTERNAL:
            if response.status_code == 403 or response.headers.get("Location", "").startswith("/auth/login"):
                wrong.append(f"{method} {url} ({endpoint}): an outside system's endpoint used the portal's "
                             f"sign-in or permissions ({response.status_code})")
            continue
        expected, got = _expected(entry.access, role), _outcome(response)
        if entry.access == PUBLIC and got == "sign-in":
            got = "allowed"  # a public action may lead to the sign-in page (sign-out does)
        if expected != got:
            wrong.append(f"{method} {url} ({endpoint}): expected {expected}, got {got}")
    assert not wrong, f"{role}:\n  " + "\n  ".join(wrong)


def test_forbidden_page_is_helpful_and_translated(client, auth):
    auth.login("staff")
    response = client.get("/admin/users")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "You may not open this page" in page
    assert "Ask an administrator" in page
    assert 'href="/"' in page  # a way on: the home page
    client.post("/language", data={"locale": "nl", "csrf_token": auth.csrf_token("/")})
    page = client.get("/admin/users").get_data(as_text=True)
    assert "U mag deze pagina niet openen" in page
    assert '<html lang="nl">' in page


def test_forbidden_htmx_request_gets_a_fragment(client, auth):
    auth.login("staff")
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "<html" not in body and "You may not open this page" in body
