"""Process with a delivering operation, and Cancel of a prepared export, ask first in a real browser: with
JavaScript in the page's dialog (focus on its heading, Cancel / Back close it, nothing starts or changes
before Yes, axe finds nothing), without JavaScript as a page of its own."""
import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import IntegrationAccount
from portal.models.exporting import PreparedRow, Run

from tests import factories
from tests.browser.checks import axe_violations, watched_page
from tests.browser.test_every_page import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def scenarios(app, users):
    with app.app_context():
        kassa = factories.profile("Kassa", export_type="payments", fmt="jsonl")
        visma = factories.profile("Kassa Visma", export_type="payments", fmt="jsonl")
        account = IntegrationAccount(name="Visma.net", refresh_token_encrypted="sealed")   # authorised
        db.session.add(account)
        db.session.flush()
        visma.provider, visma.options = "visma_net", {"account_id": account.id}
        prepared = factories.run(kassa, mode="production", status="prepared", started_by=None)
        db.session.add_all([PreparedRow(run_id=prepared.id, seq=i, record_key=f"R{i}", payload={}) for i in range(2)])
        db.session.commit()
        return {"kassa": kassa.id, "visma": visma.id, "prepared": prepared.id}


def _runs(app):
    with app.app_context():
        return [(r.profile_id, r.status) for r in db.session.execute(db.select(Run).order_by(Run.id)).scalars()]


def test_prepare_and_export_asks_in_the_dialog(app, live_server, browser, scenarios):
    base = live_server.url
    before = _runs(app)
    with watched_page(browser) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/scenarios")
        page.check(f"#scenario-{scenarios['visma']}")
        process = page.locator("button:has-text('Process') >> nth=0")
        process.click()
        dialog = page.locator("dialog#dialog")
        expect(dialog.locator("h2#dialog-title")).to_have_text("Prepare and export these scenarios?")
        expect(page.locator("#dialog-title")).to_be_focused()
        expect(dialog).to_contain_text("Kassa Visma")
        expect(dialog).to_contain_text("Sends to Visma.net.")
        assert axe_violations(page, impacts=None) == []
        dialog.locator("a:has-text('Cancel')").click()
        expect(dialog).not_to_be_visible()
        expect(process).to_be_focused()
        assert _runs(app) == before                     # nothing started

        process.click()
        with page.expect_navigation():
            dialog.locator("button:has-text('Yes, start 1 production export')").click()
        expect(page.locator("main")).to_contain_text("1 scenario was processed.")
    assert _runs(app)[len(before):] == [(scenarios["visma"], "queued")]


def test_prepare_and_export_asks_on_a_page_without_javascript(app, live_server, browser, scenarios):
    base = live_server.url
    before = _runs(app)
    with watched_page(browser, javascript=False) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/scenarios")
        page.check(f"#scenario-{scenarios['visma']}")
        page.click("button:has-text('Process') >> nth=0")
        expect(page.locator("h1")).to_have_text("Prepare and export these scenarios?")
        expect(page.locator("main")).to_contain_text("Sends to Visma.net.")
        assert _runs(app) == before
        page.click("main a:has-text('Cancel')")
        page.wait_for_url(re.compile(r"/scenarios\?operation=prepare_and_export$"))
        assert _runs(app) == before


def test_cancel_a_prepared_export_in_the_dialog(app, live_server, browser, scenarios):
    base = live_server.url
    run_id = scenarios["prepared"]
    with watched_page(browser) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/runs/{run_id}")
        cancel = page.locator("#run-panel a:has-text('Cancel export')")
        cancel.click()
        dialog = page.locator("dialog#dialog")
        expect(dialog.locator("#dialog-title")).to_be_focused()
        expect(dialog).to_contain_text("Its 2 prepared rows are kept")
        assert axe_violations(page, impacts=None) == []
        dialog.locator("a:has-text('Back')").click()
        expect(dialog).not_to_be_visible()
        expect(cancel).to_be_focused()
        assert dict(_runs(app))[scenarios["kassa"]] == "prepared"
        cancel.click()
        with page.expect_navigation():
            dialog.locator("button:has-text('Yes, cancel the export')").click()
        expect(page.locator("main")).to_contain_text("The export was cancelled.")
    assert dict(_runs(app))[scenarios["kassa"]] == "cancelled"
