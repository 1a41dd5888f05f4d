"""Bad input gets an answer, never a server error: every example of issue 13, item 3, on both databases.

Ids beyond the database's integer range are 404; NUL (and other control characters) in any text is a
400 page that says why, in the user's language; odd numbers and far dates are ignored or refused with a
message; the Show exports status filter works for every status. Nothing changes on a refused request.
"""
import re

import pytest

from portal.extensions import db
from portal.models import ExportProfile, IntegrationAccount, Run, User
from portal.models.sandbox import SandboxRequest
from tests import factories as support

FAR = "9" * 23


@pytest.fixture
def world(any_app):
    from portal.demo.seed import seed_users
    from portal.integrations.services import create_account
    with any_app.app_context():
        seed_users()
        company = support.company()
        support.debtors(company)
        profile = support.profile()
        invoices = support.profile(name="Invoices", export_type="invoices")
        run = support.run(profile, status="prepared")
        account = create_account("Visma.net Zorggroep", support.user_id("consultant"))
        return {"app": any_app, "profile": profile.id, "invoices": invoices.id, "run": run.id,
                "account": account.id, "staff": support.user_id("staff")}


class Browser:
    """A signed-in test client with the page's CSRF token."""

    def __init__(self, app, role):
        self.client = app.test_client()
        page = self.client.get("/auth/login").get_data(as_text=True)
        response = self.client.post("/auth/login", data={"email": f"{role}@example.com", "password": "demo",
                                                         "csrf_token": self._csrf(page)})
        assert response.status_code == 302
        self.token = self._csrf(self.client.get("/", follow_redirects=True).get_data(as_text=True))

    @staticmethod
    def _csrf(html):
        return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)


def _count(app, model):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("role,method,url", [
    ("staff", "get", f"/runs/{FAR}"),
    ("staff", "get", "/runs/2147483648"),
    ("staff", "get", "/runs/2147483648/panel"),
    ("staff", "get", f"/runs/1/files/{FAR}"),
    ("staff", "post", "/runs/2147483648/cancel"),
    ("staff", "get", "/profiles/2147483648"),
    ("staff", "get", f"/profiles/{FAR}/runs"),
    ("staff", "get", "/profiles/2147483648/start"),
    ("consultant", "get", "/integrations/2147483648"),
    ("consultant", "post", "/integrations/2147483648/refresh"),
    ("consultant", "post", f"/integrations/1/administrations/{FAR}/delete"),
    ("admin", "get", "/admin/users/2147483648"),
    ("admin", "get", "/admin/users/" + "9" * 5000),
    ("staff", "get", "/runs/²"),
])
def test_an_id_beyond_the_databases_range_is_not_found(world, role, method, url):
    browser = Browser(world["app"], role)
    response = getattr(browser, method)(url)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_the_largest_id_is_looked_up(world):
    assert Browser(world["app"], "staff").get("/runs/2147483647").status_code == 404
    assert Browser(world["app"], "staff").get(f"/runs/{world['run']}").status_code == 200


@pytest.mark.parametrize("role,url,data,model", [
    ("consultant", "/profiles/new", {"name": "Bad\x00name", "export_type": "journal_entries", "provider": "file",
                                     "sync_type": "full", "default_window": "previous_month", "format": "csv"},
     ExportProfile),
    ("consultant", "/integrations/new", {"name": "\x00"}, IntegrationAccount),
    ("admin", "/admin/users/new", {"email": "new@example.com", "name": "\x00", "password": "long-enough-1",
                                   "permissions": "import_export"}, User),
])
def test_a_nul_in_a_form_is_refused_with_a_message_and_changes_nothing(world, role, url, data, model):
    app = world["app"]
    before = _count(app, model)
    response = Browser(app, role).post(url, data)
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)
    assert _count(app, model) == before


def test_the_message_about_control_characters_is_in_the_users_language(world):
    browser = Browser(world["app"], "consultant")
    browser.post("/language", {"locale": "nl"})
    page = browser.post("/integrations/new", {"name": "a\x01b"}).get_data(as_text=True)
    assert "control character" not in page
    assert 'lang="nl"' in page


@pytest.mark.parametrize("url", ["/debtors/search?debtor_query=%00", "/overview/?export_type=a%00b",
                                 "/profiles/1/runs?status=%00", "/scenarios?operation=%01"])
def test_a_nul_in_a_query_is_refused(world, url):
    role = "manager" if url.startswith("/overview") else "staff"
    response = Browser(world["app"], role).get(url)
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/overview/?profile=²", "/overview/?company=١&started_by=" + FAR,
                                 "/overview/?page=" + "9" * 5000, "/overview/?page=-3"])
def test_odd_numbers_in_filters_are_ignored(world, url):
    assert Browser(world["app"], "manager").get(url).status_code == 200


def test_far_dates_in_the_overview_filter_get_a_message(world):
    page = Browser(world["app"], "manager").get("/overview/?date_from=9999-12-31&date_to=10000-01-01")
    assert page.status_code == 200
    assert "Enter a date between the years 1900 and 2999" in page.get_data(as_text=True)


def test_odd_values_in_prepared_data_are_ignored(world):
    run_id = world["run"]
    response = Browser(world["app"], "staff").post(f"/runs/{run_id}/prepared",
                                                   {"shown": ["²", FAR, "1"], "active": "²", "goto": "²"})
    assert response.status_code in (302, 204)


def test_a_five_thousand_digit_id_in_process_is_ignored(world):
    response = Browser(world["app"], "staff").post("/scenarios/process", {
        "operation": "prepare", "profiles": "9" * 5000})
    assert response.status_code == 302
    assert _count(world["app"], Run) == 1


@pytest.mark.parametrize("status", ["exported", "failed", "prepared", "scheduled", "418", "whatever"])
def test_show_exports_filters_by_every_status(world, status):
    response = Browser(world["app"], "manager").get(f"/profiles/{world['profile']}/runs?status={status}")
    assert response.status_code == 200


def _start(browser, profile_id, **fields):
    page = browser.get(f"/profiles/{profile_id}/start").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"preset": "custom", "window_start": "2026-11-01", "window_end": "2026-11-30", "mode": "test",
            "debtor_scope": "all", "form_token": token, **fields}
    return browser.post(f"/profiles/{profile_id}/start", data)


@pytest.mark.parametrize("fields,message", [
    ({"window_end": "9999-12-31"}, "Enter a date between the years 1900 and 2999"),
    ({"window_start": "0001-01-01"}, "Enter a date between the years 1900 and 2999"),
    ({"run_at": "9999-12-31T23:59"}, "Enter a date between the years 1900 and 2999"),
    ({"mode": "production", "window_end": "9999-12-31"}, "Enter a date between the years 1900 and 2999"),
    ({"form_token": "x" * 81}, "This form is not valid any more"),
])
def test_the_start_form_refuses_far_dates_and_a_forged_token(world, fields, message):
    app = world["app"]
    response = _start(Browser(app, "staff"), world["profile"], **fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(app, Run) == 1


def test_a_far_booking_date_is_refused(world):
    response = _start(Browser(world["app"], "staff"), world["invoices"], booking_date="9999-12-31")
    assert "Enter a date between the years 1900 and 2999" in response.get_data(as_text=True)


def test_a_non_number_account_on_a_visma_net_profile_is_a_form_error(world):
    app = world["app"]
    from tests.test_fuzz import _forms_of
    browser = Browser(app, "consultant")
    form = next(f for f in _forms_of("/profiles/new", browser.get("/profiles/new").get_data(as_text=True))
                if "export_type" in dict(f["fields"]))
    data = {**dict(form["fields"]), "name": "To Visma.net", "provider": "visma_net", "account_id": "²"}
    data.pop("csrf_token", None)
    response = browser.post("/profiles/new", data)
    assert response.status_code == 200
    assert "Choose the integration account that sends to Visma.net." in response.get_data(as_text=True)
    assert _count(app, ExportProfile) == 2


def test_the_sandbox_refuses_a_nul_in_its_path(world):
    client = world["app"].test_client()
    assert client.get("/sandbox/api/v1/customer/a%00b").status_code == 400
    assert client.get("/sandbox/faults/%00").status_code == 400
    answer = client.post("/sandbox/api/v2/journaltransaction", json={"description": "a\x00b"})
    assert answer.status_code == 400 and "control character" in answer.get_json()["message"]


def test_the_sandbox_request_log_can_be_reset_while_a_request_is_recorded(world):
    """A reset between a request's insert and its commit's reload used to raise ObjectDeletedError."""
    from sqlalchemy import event

    from portal.sandbox import received
    app = world["app"]
    with app.app_context():
        session = db.session()

        def reset_meanwhile(_session):
            with db.engine.begin() as connection:
                connection.execute(SandboxRequest.__table__.delete())
        event.listen(session, "after_commit", reset_meanwhile, once=True)
        received.record("GET", "/api/v1/customer", None, 200, None, "{}")
        assert db.session.execute(db.select(db.func.count()).select_from(SandboxRequest)).scalar_one() == 0


def test_numbers_and_dates_are_parsed_within_bounds(app):
    from portal.validation import MAX_ID, parse_date, parse_id, parse_int
    assert parse_id("2147483647") == MAX_ID and parse_id("2147483648") is None
    assert parse_id("²") is None and parse_id("١") is None and parse_id("9" * 5000) is None
    assert parse_int("-5", minimum=-10) == -5 and parse_int("x", default=3) == 3
    assert parse_date("2026-11-30").year == 2026
    with app.test_request_context(), pytest.raises(ValueError):
        parse_date("9999-12-31")
    with app.test_request_context():
        assert parse_date("2999-12-31").year == 2999 and parse_date("1900-01-01").year == 1900


@pytest.mark.parametrize("value", ["2147483648", FAR, "²"])
def test_notifications_refuse_an_id_out_of_range(world, value):
    """Found by the fuzz test: an id past the integer range in the notifications form was a 500."""
    assert Browser(world["app"], "staff").post("/notifications", {"profile": value}).status_code == 404
