"""Bad input never gets a server error: a bounded, seeded fuzz over every route and every role.

Every rule in ``app.url_map`` (the sandbox's too) is requested with odd path arguments (ids beyond the
database's integer range, non-ASCII digits, NUL bytes, very long text) and odd query and form
parameters (the names every page's forms use and the names the code reads from the request), as
anonymous and as each of the four roles, on SQLite and PostgreSQL. The answer may be anything but a
5xx: a 400/404, the form again with a message, a redirect. The seed makes a failure reproducible;
``FUZZ_REQUESTS`` (per database) makes the run longer when hunting.
"""
import os
import random
from html.parser import HTMLParser
import re
import traceback
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import got_request_exception
from werkzeug.datastructures import MultiDict

from portal.config import ROOT

SEED = int(os.environ.get("FUZZ_SEED", "13"))
REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "1500"))
ROLES = (None, "staff", "manager", "consultant", "admin")

HUGE = "9" * 25
ID_VALUES = ["1", "2", "3", "0", "2147483647", "2147483648", "4294967296", "9223372036854775808", HUGE,
             "9" * 5000, "-1", "²", "١", "1.5", "1e3", " 1", "0x10", "007"]
TEXT_VALUES = ["", " ", "x", "\x00", "a\x00b", "\x01\x1f", "\x7f", "²", "١٢", "-1", "0", "1", "2", "99",
               "2147483648", HUGE, "9" * 5000, "NaN", "inf", "1e400", "true", "yes", "no", "on", "all",
               "selected", "test", "production", "custom", "last_month", "prepare", "export", "roll_back",
               "prepare_and_export", "file", "visma_net", "csv", "xlsx", "sie4", "journal_entries", "invoices",
               "exported", "failed", "scheduled", "running", "queued", "2026-11-01", "2026-02-30", "9999-12-31",
               "10000-01-01", "0001-01-01", "1899-12-31", "2026-11-01T09:00", "9999-12-31T23:59",
               "0001-01-01T00:00", "2026-03-29T02:30", "25:61", "/overview/", "//evil.example/",
               "/\t/evil.example/", "\\\\evil.example", "https://evil.example/", "javascript:alert(1)",
               "<script>alert(1)</script>", "'; DROP TABLE users; --", "%00", "%", "{", "[]", "{\"a\": 1}",
               "x" * 300, "x" * 5000, "é" * 100, "\ud7ff", "\ufffe", "=1+1", "en", "nl", "sv", "da", "xx",
               "admin@example.com", "staff@example.com", "demo", "asc", "desc", "started", "status"]
# Besides the text values, ones just beyond what the sandbox keeps (state 1000, tenant 20, redirect_uri 2000).
AUTHORIZE_VALUES = TEXT_VALUES + ["s" * 1001, "1" * 21, "tenant:" + "1" * 21, "https://evil.example/cb",
                                  "http://127.0.0.1:5000/integrations/callback?x=" + "x" * 2000,
                                  " ".join(["openid"] * 400), "x" * 129, "x" * 43]
PATH_TEXT = ["x", "1", "authorise", "verify", "administrations", "dimensions", "done", "\x00", "a\x00b", "%00",
             "..", "x" * 3000, "²", "ZORG", "TEST"]


def _names_read_in_code():
    """Every parameter name the code reads from the request (so that new ones are fuzzed too)."""
    names = set()
    pattern = re.compile(r"request\.(?:args|form|values)\.(?:get|getlist)\(\s*[\"']([\w-]+)[\"']")
    for path in Path(ROOT, "portal").rglob("*.py"):
        names.update(pattern.findall(path.read_text()))
    return names


def _world(app):
    """Demo users and data, a run with files and prepared rows, a scheduled run, an integration account."""
    from portal.demo.seed import seed
    from portal.extensions import db
    from portal.integrations.services import create_account
    from portal.models import ExportProfile, User
    from tests import factories as support
    with app.app_context():
        seed(size=100)
        profile = db.session.execute(db.select(ExportProfile).order_by(ExportProfile.id)).scalars().first()
        done = support.run(profile, status="queued")
        support.execute(done)
        support.run(profile, status="scheduled")
        consultant = db.session.execute(db.select(User).filter_by(email="consultant@example.com")).scalar_one()
        create_account("Visma.net Zorggroep", consultant.id)
        users = {u.id: (u.password_hash, u.active, u.permissions_text, u.session_version, u.locale, u.name)
                 for u in db.session.execute(db.select(User)).scalars()}
    return users


def _restore_users(app, snapshot):
    """The admin pages may change any user (a password, deactivation): put the demo users back."""
    from portal.extensions import db
    from portal.models import User
    with app.app_context():
        for user in db.session.execute(db.select(User)).scalars():
            if user.id in snapshot:
                (user.password_hash, user.active, user.permissions_text, user.session_version, user.locale,
                 user.name) = snapshot[user.id]
        db.session.commit()


class _Forms(HTMLParser):
    """The forms of a page: action, method and their fields with the values a browser would send."""

    def __init__(self, url):
        super().__init__()
        self.url, self.forms, self._form, self._select = url, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action") or self.url, "method": (attrs.get("method") or "get").upper(),
                          "fields": []}
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None and (self._select[1] is None or "selected" in attrs):
            self._select[1] = attrs.get("value", "")
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            if kind not in {"submit", "button", "image", "file"}:
                self._form["fields"].append([attrs["name"], attrs.get("value", "")])
        elif tag == "textarea":
            self._form["fields"].append([attrs["name"], ""])
        elif tag == "select":
            self._select = [attrs["name"], None]
            self._form["fields"].append(self._select)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _forms_of(url, html):
    parser = _Forms(url)
    parser.feed(html)
    for form in parser.forms:
        form["fields"] = [field for field in form["fields"] if field[1] is not None]  # an empty select
    return [form for form in parser.forms if form["fields"] and form["action"].startswith("/")]


def _csrf(html):
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    return match.group(1) if match else None


def _sign_in(client, role):
    page = client.get("/auth/login").get_data(as_text=True)
    response = client.post("/auth/login", data={"email": f"{role}@example.com", "password": "demo",
                                                "csrf_token": _csrf(page)})
    assert response.status_code == 302, f"{role} could not sign in: {response.status_code} {response.get_data(as_text=True)[:3000]}"
    return _csrf(client.get("/", follow_redirects=True).get_data(as_text=True))


def _path(rule, rng):
    """The rule's URL with each argument replaced by an odd (or a plausible) value, percent-encoded."""
    def value(match):
        converter = match.group(1) or "default"
        if converter in {"int", "id"}:
            raw = rng.choice(ID_VALUES)
        elif converter == "path":
            raw = rng.choice(["css/portal.css", "../../etc/passwd", "css/\x00.css", "x" * 300, "vendor/htmx.min.js"])
        else:
            raw = rng.choice(PATH_TEXT)
        return quote(raw, safe="/" if converter == "path" else "")
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", value, rule.rule)


def _params(names, rng):
    chosen = rng.sample(names, k=min(len(names), rng.randint(1, 5)))
    params = []
    for name in chosen:
        for _ in range(rng.choice([1, 1, 1, 2])):
            params.append((name, rng.choice(TEXT_VALUES)))
    return params


def _valid_authorize_request(app):
    """An authorization request the sandbox's Visma Connect accepts: the portal's client, a registered
    redirect_uri, a code challenge (so that a spoiled value is reached, not refused before it)."""
    with app.app_context():
        from portal.sandbox.connect import registered_redirect_uris
        redirect_uri = registered_redirect_uris()[0]
    return {"client_id": app.config["VISMA_NET_CLIENT_ID"], "redirect_uri": redirect_uri,
            "response_type": "code", "scope": "openid offline_access vismanet_erp_interactive_api:read",
            "state": "s-1", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuEJSJ3pZcM",
            "code_challenge_method": "S256", "acr_values": "tenant:1000001", "tenant": "1000001"}


def _spoiled_authorize_params(valid, rng):
    """The valid request with one to three of its values spoiled (too long ones included)."""
    params = dict(valid)
    for name in rng.sample(sorted(params), k=rng.randint(1, 3)):
        params[name] = rng.choice(AUTHORIZE_VALUES)
    return list(params.items())


def test_bad_input_never_gets_a_server_error(any_app, monkeypatch):
    app = any_app
    from portal.extensions import limiter
    snapshot = _world(app)
    monkeypatch.setattr(limiter, "enabled", False)  # the login limit is tested elsewhere; here it would hide pages
    app.config["PROPAGATE_EXCEPTIONS"] = False       # a 500 page, as a user would get, not an exception here

    failures = []

    def record(sender, exception, **extra):
        failures.append("".join(traceback.format_exception(exception)[-3:]))
    got_request_exception.connect(record, app)

    rules = [rule for rule in app.url_map.iter_rules()]
    valid_authorize = _valid_authorize_request(app)
    clients, tokens = {}, {}
    field_names = set(_names_read_in_code()) | {"csrf_token", "form_token", "account_id", "provider", "name",
                                                  "window_start", "window_end", "run_at", "booking_date",
                                                  "description", "preset", "debtor_scope", "email", "password"}
    forms = {}
    for role in ROLES:
        client = app.test_client()
        if role:
            tokens[role] = _sign_in(client, role)
        clients[role] = client
        forms[role] = []
        # Every page this role can open (with real ids): its fields' names, and its forms to send back
        # with one or two values spoiled.
        for rule in rules:
            if "GET" not in rule.methods or rule.endpoint.startswith(("sandbox.", "static")):
                continue
            url = re.sub(r"<(?:int|id):\w+>", "1", rule.rule).replace("<step>", "administrations")
            response = client.get(url)
            body = response.get_data()
            response.close()  # a streamed answer (CSV) keeps its request context until closed
            if response.status_code == 200 and response.mimetype == "text/html":
                html = body.decode()
                field_names.update(re.findall(r'name="([\w-]+)"', html))
                forms[role].extend(_forms_of(url, html))
    names = sorted(field_names)

    rng = random.Random(SEED)
    errors, seen_rules, statuses = [], set(), {}
    for number in range(REQUESTS):
        role = ROLES[number % len(ROLES)]
        client = clients[role]
        before = len(failures)
        if forms[role] and rng.random() < 0.5:
            # A real form of a page, as the browser would send it, with one or two values spoiled.
            form = rng.choice(forms[role])
            fields = [list(field) for field in form["fields"]]
            for field in rng.sample(fields, k=min(len(fields), rng.randint(1, 2))):
                if field[0] != "csrf_token":
                    field[1] = rng.choice(TEXT_VALUES)
            path, method = form["action"], form["method"]
            adapter = app.url_map.bind("localhost")
            try:
                rule = adapter.match(path.split("?")[0], method=method, return_rule=True)[0]
            except Exception:
                continue
            params = [tuple(field) for field in fields]
        else:
            rule = rng.choice(rules)
            method = rng.choice(sorted(rule.methods - {"HEAD", "OPTIONS"}))
            path = _path(rule, rng)
            params = _params(names, rng)
            if rule.endpoint == "sandbox.authorize" and method == "GET" and rng.random() < 0.7:
                params = _spoiled_authorize_params(valid_authorize, rng)
            if method != "GET" and role and rng.random() < 0.9:
                params.append(("csrf_token", tokens[role]))
        if method == "GET":
            response = client.get(path, query_string=params)
        else:
            data = [(name, tokens[role] if name == "csrf_token" and role else value) for name, value in params]
            if rule.rule.startswith("/sandbox/api") and rng.random() < 0.5:
                body = {name: value for name, value in params}
                response = client.open(path, method=method, json=body)
            else:
                response = client.open(path, method=method, data=MultiDict(data))
        response.get_data()
        response.close()
        seen_rules.add(rule.rule)
        statuses[response.status_code // 100] = statuses.get(response.status_code // 100, 0) + 1
        # The sandbox's fault switches make its API answer 5xx on purpose; the portal's pages never may.
        intended_fault = rule.endpoint.startswith("sandbox.") and len(failures) == before
        if len(failures) > before or (response.status_code >= 500 and not intended_fault):
            errors.append(f"{method} {path[:120]!r} {params!r:.300} as {role}: {response.status_code}\n"
                          + (failures[-1] if len(failures) > before else ""))
        if rule.endpoint.startswith(("admin.", "auth.")) and method == "POST":
            _restore_users(app, snapshot)
            if role:  # signed out, or a changed user: sign in again
                clients[role] = app.test_client()
                tokens[role] = _sign_in(clients[role], role)
    got_request_exception.disconnect(record, app)

    print(f"\nfuzz: {REQUESTS} requests over {len(seen_rules)} of {len(rules)} routes, {len(ROLES)} roles "
          f"(seed {SEED}), answers by class: {dict(sorted(statuses.items()))}, server errors: {len(errors)}")
    assert not errors, f"{len(errors)} server errors, first ones:\n" + "\n".join(errors[:15])
    assert len(seen_rules) >= len(rules) * 0.85


OUT_OF_RANGE_IDS = ["2147483648", "9223372036854775808", HUGE, "-1", "0"]


def test_ids_out_of_range_in_every_form_are_refused_not_a_server_error(any_app, monkeypatch):
    """Every form field that holds a number (a select of ids, an id in a hidden field), sent back with an
    id beyond the database's integer range: no overflow (``coerce=int`` once reached the database)."""
    app = any_app
    from portal.extensions import limiter
    snapshot = _world(app)
    monkeypatch.setattr(limiter, "enabled", False)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failures = []

    def record(sender, exception, **extra):
        failures.append("".join(traceback.format_exception(exception)[-3:]))
    got_request_exception.connect(record, app)
    errors, tried = [], set()
    for role in ("consultant", "admin"):
        client = app.test_client()
        token = _sign_in(client, role)
        forms = []
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint.startswith(("sandbox.", "static")):
                continue
            url = re.sub(r"<(?:int|id):\w+>", "1", rule.rule).replace("<step>", "administrations")
            response = client.get(url)
            body = response.get_data()
            response.close()
            if response.status_code == 200 and response.mimetype == "text/html":
                forms.extend(_forms_of(url, body.decode()))
        # The form of the reported case: a mapping's company beyond the range.
        forms.append({"action": "/integrations/1/administrations", "method": "POST",
                      "fields": [["csrf_token", token], ["company", "1"], ["branch", "MAIN"]]})
        for form in forms:
            for index, (name, value) in enumerate(form["fields"]):
                key = (role, form["action"], form["method"], name)
                if name == "csrf_token" or not re.fullmatch(r"[0-9]+", value or "") or key in tried:
                    continue
                tried.add(key)
                for bad in OUT_OF_RANGE_IDS:
                    fields = [(n, token if n == "csrf_token" else (bad if i == index else v))
                              for i, (n, v) in enumerate(form["fields"])]
                    before = len(failures)
                    if form["method"] == "GET":
                        response = client.get(form["action"], query_string=fields)
                    else:
                        response = client.post(form["action"], data=MultiDict(fields))
                    response.get_data()
                    response.close()
                    if len(failures) > before or response.status_code >= 500:
                        errors.append(f"{form['method']} {form['action']} {name}={bad[:30]} as {role}: "
                                      f"{response.status_code}\n" + (failures[-1] if len(failures) > before else ""))
                    if form["action"].startswith(("/admin", "/auth")) and form["method"] == "POST":
                        _restore_users(app, snapshot)
                        client = app.test_client()
                        token = _sign_in(client, role)
    got_request_exception.disconnect(record, app)
    assert len(tried) >= 10, tried
    assert not errors, f"{len(errors)} server errors:\n" + "\n".join(errors[:15])


def test_sandbox_authorize_with_a_valid_request_and_one_bad_value_never_gets_a_server_error(any_app):
    """Each parameter of a valid authorization request in turn, with every odd value: an OAuth answer
    (the consent page, an error redirect to the registered redirect_uri or the error page), never a 5xx —
    an overlong state, tenant or redirect_uri once failed PostgreSQL's insert."""
    app = any_app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    valid = _valid_authorize_request(app)
    client = app.test_client()
    assert client.get("/sandbox/connect/authorize", query_string=valid).status_code == 200
    errors = []
    for name in sorted(valid):
        for bad in AUTHORIZE_VALUES:
            response = client.get("/sandbox/connect/authorize", query_string={**valid, name: bad})
            status = response.status_code
            location = response.headers.get("Location", "")
            if status >= 500 or status not in {200, 302, 400}:
                errors.append(f"{name}={bad[:40]!r}: {status}")
            elif location and not location.startswith(valid["redirect_uri"] + "?"):
                errors.append(f"{name}={bad[:40]!r}: sent to {location[:80]}")
    assert not errors, f"{len(errors)} bad answers:\n" + "\n".join(errors[:15])
