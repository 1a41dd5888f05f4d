"""Prepared data: each Active checkbox is named by its record as a person knows it — the record key (an
invoice number and line), or for registered hours the employee and the start in the user's language —
never the row's internal sequence number (what a screen reader reads out for the box)."""
import re
from datetime import datetime

import pytest

from portal.exporting import services
from portal.extensions import db

from tests import factories


def _labels(page):
    return re.findall(r'<input type="checkbox" name="active" value="\d+" aria-label="([^"]*)"', page)


def _client(app, locale):
    client = app.test_client()
    factories.AuthActions(client).login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": factories.csrf_token(client, "/")})
    return client


def _prepared(profile):
    run = services.start_run(profile.id, mode="test", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30")
    factories.execute(run)
    return run.id


@pytest.mark.parametrize("locale, word", [("en", "Active"), ("nl", "Actief"), ("sv", "Aktiv"), ("da", "Aktiv")])
def test_invoice_lines_are_named_by_invoice_number_and_line(any_app, locale, word):
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        zorg, _, _ = factories.companies()
        debtor_list = factories.debtors(zorg, 2)
        factories.invoice_lines(zorg, debtor_list, 3, start=217)
        db.session.commit()
        run_id = _prepared(factories.profile("Facturen", export_type="invoices"))
    page = _client(any_app, locale).get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert _labels(page) == [f"{word}: INV000217/1", f"{word}: INV000218/1", f"{word}: INV000219/1"]


@pytest.mark.parametrize("locale, label", [
    ("en", "Active: Anna de Vries, 12/11/2026, 10:00"),
    ("nl", "Actief: Anna de Vries, 12-11-2026, 10:00"),
])
def test_registered_hours_are_named_by_employee_and_start(any_app, locale, label):
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        zorg, _, _ = factories.companies()
        person = factories.employee(zorg)
        factories.hours(zorg, person, [(datetime(2026, 11, 12, 9, 0), datetime(2026, 11, 12, 13, 0))])
        db.session.commit()
        run_id = _prepared(factories.profile("Uren", export_type="hours"))
    page = _client(any_app, locale).get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert _labels(page) == [label]
