"""A prepared run is no dead end (issue 10, fixc): Export is on the run page and on Prepared data for
staff, as a plain form (CSRF, works with and without JavaScript), and both pages pass axe (with
JavaScript: axe is a script)."""
import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.exporting import PreparedRow, Run

from tests.browser.checks import axe_violations, watched_page
from tests.browser.test_dead_ends import prepared_run  # noqa: F401  (fixture)
from tests.browser.test_every_page import sign_in

pytestmark = pytest.mark.browser


def _status(app, run_id):
    with app.app_context():
        return db.session.get(Run, run_id).status


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_export_a_prepared_run_from_its_page(app, live_server, browser, prepared_run, javascript):  # noqa: F811
    _profile_id, run_id = prepared_run
    base = live_server.url
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/runs/{run_id}")
        export = page.locator("#run-panel form[action$='/export'] button")
        expect(export).to_have_text("Export")
        if javascript:    # axe runs as JavaScript in the page
            assert axe_violations(page, impacts=None) == []
        export.click()
        page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
        assert _status(app, run_id) == "queued"
        expect(page.locator("#run-panel")).not_to_contain_text("Roll back")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_export_from_prepared_data_saves_the_ticks(app, live_server, browser, prepared_run, javascript):  # noqa: F811
    _profile_id, run_id = prepared_run
    base = live_server.url
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/runs/{run_id}/prepared")
        if javascript:    # axe runs as JavaScript in the page
            assert axe_violations(page, impacts=None) == []
        page.locator("input[name=active]").first.uncheck()
        page.locator("main button[name=action][value=export]").click()
        page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
        assert _status(app, run_id) == "queued"
        with app.app_context():
            assert db.session.execute(db.select(db.func.count()).select_from(PreparedRow)
                                      .where(PreparedRow.active.is_(False))).scalar_one() == 1


def test_managers_see_no_export(app, live_server, page, prepared_run):  # noqa: F811
    _profile_id, run_id = prepared_run
    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.locator("#run-panel")).to_contain_text("Prepared data")
    expect(page.locator("form[action$='/export']")).to_have_count(0)
