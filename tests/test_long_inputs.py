"""A text longer than its field takes is refused at the field with "at most N characters", never cut
without a word: a tester's integration account name of 5,000 characters and user name of 1,000 were
saved as 120 (the browser cut them at the field's ``maxlength``), and the services cut an export's
description at 200. No form writes ``maxlength`` (a browser cuts a paste at it silently); the services
refuse what the forms refuse, for every other caller."""
import html
import re

import pytest

from portal.admin import services as users
from portal.exporting import services
from portal.exporting.errors import ExportError
from portal.extensions import db
from portal.integrations import services as integrations
from portal.models import IntegrationAccount, User
from portal.models.exporting import ExportProfile
from portal.schedules import services as schedules

from tests import factories


@pytest.fixture
def invoices(app, users):
    with app.app_context():
        zorg, _, _ = factories.companies()
        factories.debtors(zorg, 2)
        profile = services.create_profile(name="Facturen", export_type="invoices", options={"format": "jsonl"})
        return profile.id


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def test_no_form_writes_maxlength(app, client, auth, invoices):
    auth.login("admin")         # the administrator holds the consultant's permission too
    for path in ("/admin/users/new", "/integrations/new", "/profiles/new", f"/profiles/{invoices}/edit",
                 f"/profiles/{invoices}/start", f"/profiles/{invoices}/schedules/new"):
        page = client.get(path).get_data(as_text=True)
        assert "<form" in page and "maxlength" not in page, path


def test_a_long_user_name_is_refused_at_its_field(app, client, auth):
    auth.login("admin")
    answer = client.post("/admin/users/new", data={
        "csrf_token": auth.csrf_token("/admin/users/new"), "email": "lang@example.com", "name": "N" * 1000,
        "permissions": ["import_export"], "locale": "", "password": "longpassword1", "active": "y"})
    page = _text(answer)
    assert answer.status_code in (200, 400)
    field = page[page.index('id="name-errors"'):]
    assert "Enter at most 120 characters; this has 1,000." in field[:field.index("</ul>")]
    with app.app_context():
        assert db.session.execute(db.select(User).filter_by(email="lang@example.com")).scalar() is None
        with pytest.raises(users.UserError):
            users.create_user("lang@example.com", "longpassword1", role="staff", name="N" * 121)
        assert db.session.execute(db.select(User).filter_by(email="lang@example.com")).scalar() is None


def test_a_long_integration_account_name_is_refused(app, client, auth):
    auth.login("consultant")
    answer = client.post("/integrations/new", data={"csrf_token": auth.csrf_token("/integrations/new"),
                                                    "name": "x" * 5000})
    assert "Enter at most 120 characters; this has 5,000." in _text(answer)
    with app.app_context():
        assert db.session.execute(db.select(IntegrationAccount)).scalars().all() == []
        with pytest.raises(integrations.IntegrationError, match="at most 120 characters"):
            integrations.create_account("x" * 121, None)
        assert db.session.execute(db.select(IntegrationAccount)).scalars().all() == []


def test_a_long_profile_name_is_refused(app, client, auth, invoices):
    auth.login("consultant")
    answer = client.post("/profiles/new", data={"csrf_token": auth.csrf_token("/profiles/new"), "name": "x" * 5000,
                                                "export_type": "payments", "provider": "file", "format": "csv"})
    assert "Enter at most 120 characters; this has 5,000." in _text(answer)
    with app.app_context():
        with pytest.raises(ExportError, match="at most 120 characters"):
            services.create_profile(name="x" * 121, export_type="payments", options={"format": "csv"})
        with pytest.raises(ExportError, match="at most 120 characters"):
            services.update_profile(invoices, name="x" * 121)
        assert [p.name for p in db.session.execute(db.select(ExportProfile)).scalars()] == ["Facturen"]


def test_a_long_description_is_refused_not_cut(app, client, auth, invoices):
    auth.login("staff")
    answer = client.post(f"/profiles/{invoices}/start", data={
        "csrf_token": auth.csrf_token(f"/profiles/{invoices}/start"), "preset": "previous_month", "mode": "test",
        "description": "d" * 5000, "debtor_scope": "all", "action": "start"})
    page = _text(answer)
    assert "Enter at most 200 characters; this has 5,000." in page
    assert re.search(r'id="description-errors"', page)
    answer = client.post(f"/profiles/{invoices}/schedules/new", data={
        "csrf_token": auth.csrf_token(f"/profiles/{invoices}/schedules/new"), "frequency": "daily", "time": "06:00",
        "window": "previous_day", "mode": "test", "booking_date_rule": "window_end", "description": "d" * 201})
    assert "Enter at most 200 characters; this has 201." in _text(answer)
    with app.app_context():
        with pytest.raises(ExportError, match="at most 200 characters") as refused:
            services.start_run(invoices, window_start="2026-11-01", window_end="2026-11-30", description="d" * 201)
        assert refused.value.code == "description_too_long"
        with pytest.raises(ExportError, match="at most 200 characters"):
            schedules.save_schedule(invoices, frequency="daily", hour=6, window="previous_day",
                                    params={"description": "d" * 201})
        run = services.start_run(invoices, window_start="2026-11-01", window_end="2026-11-30",
                                 description="  " + "d" * 200 + "  ")
        assert run.params["description"] == "d" * 200          # the longest there is, stripped, whole


def test_a_long_debtor_search_is_refused_with_words_not_searched(app, client, auth, invoices):
    """The debtor search on Start export (with JavaScript: the active search; without: the form's Search)
    takes at most 100 characters: a longer text gets the limit in the user's language, never a 500 and
    no query with it."""
    from sqlalchemy import event
    seen = []
    with app.app_context():
        from portal.extensions import db as database
        engine = database.engine
    listener = lambda _c, _cur, statement, params, *_a: seen.append(str(params))      # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        auth.login("staff")
        found = client.get("/debtors/search", query_string={"debtor_query": "9" * 5000},
                           headers={"HX-Request": "true", "Accept-Language": "nl"})
        assert found.status_code == 200
        assert "Vul ten hoogste 100 tekens in; dit zijn er 5.000." in _text(found)
        path = f"/profiles/{invoices}/start"
        page = client.get(path).get_data(as_text=True)
        data = {"csrf_token": factories.csrf_from(page), "preset": "custom", "window_start": "2026-11-01",
                "window_end": "2026-11-30", "mode": "test", "debtor_scope": "selected",
                "debtor_query": "9" * 5000, "action": "search_debtors"}
        answer = client.post(path, data=data)
        assert answer.status_code in (200, 400)
        field = _text(answer)[_text(answer).index('id="debtor_query-errors"'):]
        assert "Enter at most 100 characters; this has 5,000." in field[:field.index("</ul>")]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert not any("9" * 200 in params for params in seen)               # the text never reached a query


@pytest.mark.parametrize("field", ["item_class_stock", "item_class_non_stock", "sales_account"])
def test_a_long_visma_code_is_refused_at_its_field(app, client, auth, field):
    with app.app_context():
        account = IntegrationAccount(name="Zorggroep Visma")
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    auth.login("consultant")
    export_type = "invoices" if field == "sales_account" else "products"
    data = {"csrf_token": auth.csrf_token("/profiles/new"), "name": "Visma", "export_type": export_type,
            "provider": "visma_net", "account_id": str(account_id), "sync_type": "full", "default_window": "",
            "item_class_stock": "STOCK", "item_class_non_stock": "NONSTOCK", field: "K" * 3000, "action": "save"}
    answer = client.post("/profiles/new", data=data, headers={"Accept-Language": "da"})
    assert answer.status_code in (200, 400)
    page = _text(answer)
    errors = page[page.index(f'id="{field}-errors"'):]
    assert "3.000" in errors[:errors.index("</ul>")] and "30" in errors[:errors.index("</ul>")]
    with app.app_context():
        assert db.session.execute(db.select(ExportProfile)).scalars().all() == []
