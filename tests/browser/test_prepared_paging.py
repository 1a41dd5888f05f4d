"""Prepared data pages by keyset in a real browser: in the run page's dialog (htmx) and as a page without
JavaScript, Next / Previous / First page / Last page move through the rows, a tick is saved on the way,
and axe-core finds nothing serious in the pager."""
import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.exporting import PreparedRow

from tests import factories
from tests.browser.checks import PageWatch, axe_violations
from tests.browser.test_every_page import open_dialog, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def big_run(app, users):
    """A prepared run of 120 rows (R0 … R119 in delivery order), every 10th with an error."""
    with app.app_context():
        profile = factories.profile("Kassabetalingen", export_type="payments")
        run = factories.run(profile, status="prepared", mode="production")
        db.session.execute(db.insert(PreparedRow), [
            {"run_id": run.id, "seq": i, "record_key": f"R{i}", "payload": {"receipt_number": f"R{i}"},
             "error": "Refused" if i % 10 == 9 else None} for i in range(120)])
        db.session.commit()
        return run.id


def _cells(scope):
    return [c for c in scope.locator("table.prepared tbody td:nth-child(6)").all_inner_texts()]


def _active(app, key):
    with app.app_context():
        return db.session.execute(db.select(PreparedRow.active).where(PreparedRow.record_key == key)).scalar_one()


def test_paging_in_the_dialog_saves_ticks_and_moves_by_keyset(app, live_server, browser, big_run):
    base = live_server.url
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    watch = PageWatch(page)
    try:
        sign_in(page, base, "staff")
        open_dialog(page, base, ("/runs/{run}", "prepared"), {"run": big_run})
        dialog = page.locator("dialog#dialog")
        expect(dialog).to_contain_text("120 rows")
        assert _cells(dialog)[:2] == ["R0", "R1"] and len(_cells(dialog)) == 50
        dialog.locator("input[name=active]").first.uncheck()
        dialog.get_by_role("button", name="Next").click()
        expect(dialog.locator("table.prepared tbody tr").first).to_contain_text("R50")
        assert not _active(app, "R0")  # Next saved the tick first
        assert axe_violations(page) == []
        dialog.get_by_role("button", name="Last page").click()
        expect(dialog.locator("table.prepared tbody tr").last).to_contain_text("R119")
        expect(dialog.get_by_role("button", name="Next")).to_have_count(0)
        dialog.get_by_role("button", name="Previous").click()
        expect(dialog.locator("table.prepared tbody tr").first).to_contain_text("R20")
        dialog.get_by_role("button", name="First page").click()
        expect(dialog.locator("table.prepared tbody tr").first).to_contain_text("R0")
        expect(dialog.locator("input[name=active]").first).not_to_be_checked()
        # The filter stays on while paging: 12 rows with an error, one page.
        dialog.get_by_role("link", name="Show only rows with errors").click()
        expect(dialog).to_contain_text("12 rows")
        assert _cells(dialog) == [f"R{i}" for i in range(9, 120, 10)]
        assert page.url.endswith(f"/runs/{big_run}")  # all of it inside the dialog
    finally:
        context.close()
    assert not watch.take()


def test_paging_without_javascript_is_plain_links_and_forms(app, live_server, browser, big_run):
    base = live_server.url
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, base, "manager")  # read-only: the pager is links
        page.goto(f"{base}/runs/{big_run}/prepared")
        page.get_by_role("link", name="Next").click()
        page.wait_for_url(re.compile(r"after=\d+"))
        assert _cells(page)[0] == "R50"
        page.get_by_role("link", name="Last page").click()
        page.wait_for_url(re.compile(r"page=last"))
        assert _cells(page)[-1] == "R119" and page.get_by_role("link", name="Next").count() == 0
        page.get_by_role("link", name="Previous").click()
        page.wait_for_url(re.compile(r"before=\d+"))
        assert _cells(page)[0] == "R20"
        page.goto(f"{base}/runs/{big_run}/prepared?after=nonsense")
        expect(page.locator("main")).to_contain_text("not found", ignore_case=True)
    finally:
        context.close()
