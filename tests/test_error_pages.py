"""Every HTTP error is the portal's page in the user's language, with its ``lang``: 405 (a link to an
action only a button does), 400 (``abort(400)``, a JSON body no form sends), 413 (too large) and 500 —
before, all of them were Werkzeug's bare English page (and a JSON list posted to a form a 500). A 500
never shows the exception; htmx gets the message fragment, as for the other errors. Both databases."""
import re

import pytest
from flask import abort
from sqlalchemy import text

from portal.extensions import db
from tests import factories as support
from tests.test_validation import Browser

HTMX = {"HX-Request": "true"}


@pytest.fixture
def site(any_app):
    from portal.demo.seed import seed_users
    with any_app.app_context():
        seed_users()
        profile = support.profile()
        run = support.run(profile, status="prepared")
        ids = {"profile": profile.id, "run": run.id}

    # Routes of this test only: an abort(400) as the views make, and two server errors (one leaves the
    # database's transaction aborted, as a failed statement does).
    def bad_request():
        abort(400)

    def broken():
        raise RuntimeError("secret detail of the failure")

    def broken_database():
        db.session.execute(text("SELECT * FROM no_such_table"))

    any_app.add_url_rule("/test-only/bad", "test_bad", bad_request)
    any_app.add_url_rule("/test-only/broken", "test_broken", broken)
    any_app.add_url_rule("/test-only/broken-database", "test_broken_database", broken_database)
    any_app.config["PROPAGATE_EXCEPTIONS"] = False     # as in production: a 500, not the test's exception
    return any_app, ids


def _lang(page):
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def test_405_is_the_portals_page_in_the_users_language(site):
    app, ids = site
    staff = Browser(app, "staff")
    response = staff.get("/auth/logout", headers={"Accept-Language": "nl"})
    page = response.get_data(as_text=True)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert _lang(page) == "nl" and "Dit kan niet op deze manier" in page and "Naar de startpagina" in page
    assert "Method Not Allowed" not in page
    swedish = staff.get("/scenarios/process", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert _lang(swedish) == "sv" and "Det här kan inte göras på det här sättet" in swedish
    consultant = Browser(app, "consultant")
    danish = consultant.client.put(f"/profiles/{ids['profile']}", headers={"Accept-Language": "da"})
    assert danish.status_code == 405
    assert _lang(danish.get_data(as_text=True)) == "da"
    assert "Det kan ikke gøres på denne måde" in danish.get_data(as_text=True)
    # htmx: the message fragment, as for a 403 or 404.
    fragment = staff.get("/scenarios/process", headers={**HTMX, "Accept-Language": "da"}).get_data(as_text=True)
    assert "<html" not in fragment and "data-error-message" in fragment
    assert "Det kan ikke gøres på denne måde" in fragment


def test_400_is_the_portals_page_in_the_users_language(site):
    app, _ids = site
    response = app.test_client().get("/test-only/bad", headers={"Accept-Language": "sv"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and _lang(page) == "sv"
    assert "Begäran kan inte hanteras" in page and "Bad Request" not in page


def test_a_json_body_that_is_no_form_is_a_400_in_the_users_language(site):
    """A JSON list or text posted to a form's action was a 500 (Flask-WTF could not read it as fields)."""
    app, ids = site
    staff = Browser(app, "staff")
    for body in (["a", "b"], "text"):
        response = staff.client.post(f"/runs/{ids['run']}/export", json=body,
                                     headers={"X-CSRFToken": staff.token, "Accept-Language": "nl"})
        assert response.status_code == 400
        assert response.get_json() == {"message": "Wat u verstuurde is onvolledig of niet wat de pagina verstuurt. "
                                                  "Ga terug, laad de pagina opnieuw en probeer het nogmaals."}
    with app.app_context():
        assert db.session.get(support.Run, ids["run"]).status == "prepared"


def test_413_is_the_portals_page_in_the_users_language(site):
    app, _ids = site
    staff = Browser(app, "staff")
    # A form field larger than Flask takes in memory (MAX_FORM_MEMORY_SIZE, 500 kB).
    response = staff.post("/scenarios/process", data={"operation": "x" * 600_000},
                          content_type="multipart/form-data", headers={"Accept-Language": "da"})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and _lang(page) == "da"
    assert "Det, du sendte, er for stort" in page and "Request Entity Too Large" not in page


def test_500_is_the_portals_page_without_the_exception(site):
    app, _ids = site
    staff = Browser(app, "staff")
    response = staff.get("/test-only/broken", headers={"Accept-Language": "da"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and _lang(page) == "da"
    assert "Noget gik galt" in page and "secret detail" not in page and "RuntimeError" not in page
    assert response.headers["X-Request-Id"] in page                 # the reference to give an administrator
    assert 'class="mainnav"' in page                                 # the portal's layout, signed in
    fragment = staff.get("/test-only/broken", headers={**HTMX, "Accept-Language": "sv"})
    assert fragment.status_code == 500
    assert "<html" not in fragment.get_data(as_text=True) and "Något gick fel" in fragment.get_data(as_text=True)


def test_500_after_a_failed_statement_still_draws_the_page(site):
    """On PostgreSQL a failed statement aborts the transaction; the page (navigation, notifications) reads
    from the database, so the handler starts afresh."""
    app, _ids = site
    staff = Browser(app, "staff")
    response = staff.get("/test-only/broken-database", headers={"Accept-Language": "nl"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and _lang(page) == "nl"
    assert "Er ging iets mis" in page and 'class="mainnav"' in page and "no_such_table" not in page
    assert staff.get("/").status_code == 200
