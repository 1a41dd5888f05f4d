"""Prepared data, keyboard only: Escape keeps what was unticked, as Close does ("Close saves your
selections") — with the focus anywhere in the dialog, even on Export (which must not export). Escape
without a change only closes the dialog. Without JavaScript Prepared data is a page and Close saves."""
import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.exporting import PreparedRow, Run

from tests import factories
from tests.browser.checks import PageWatch
from tests.browser.test_every_page import open_dialog, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def prepared_run(app, users):
    with app.app_context():
        profile = factories.profile("Kassabetalingen", export_type="payments")
        run = factories.run(profile, status="prepared", mode="production")
        db.session.execute(db.insert(PreparedRow), [
            {"run_id": run.id, "seq": i, "record_key": f"R{i}", "payload": {"receipt_number": f"R{i}"}}
            for i in range(3)])
        db.session.commit()
        return run.id


def _active(app, key):
    with app.app_context():
        return db.session.execute(db.select(PreparedRow.active).where(PreparedRow.record_key == key)).scalar_one()


def _status(app, run_id):
    with app.app_context():
        return db.session.get(Run, run_id).status


@pytest.fixture
def js_page(browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    context.close()
    assert not page.watch.take()


def test_escape_keeps_an_untick_made_with_space(app, live_server, js_page, prepared_run):
    page, base = js_page, live_server.url
    sign_in(page, base, "staff")
    open_dialog(page, base, ("/runs/{run}", "prepared"), {"run": prepared_run})
    dialog = page.locator("dialog#dialog")
    box = dialog.locator("input[name=active]").first
    box.focus()
    page.keyboard.press("Space")
    expect(box).not_to_be_checked()
    page.keyboard.press("Escape")
    expect(page.locator("#flashes")).to_contain_text("Your selections were saved.")
    assert not _active(app, "R0") and _active(app, "R1")
    assert _status(app, prepared_run) == "prepared"
    # Reopened, the row is still unticked.
    open_dialog(page, base, ("/runs/{run}", "prepared"), {"run": prepared_run})
    expect(page.locator("dialog#dialog input[name=active]").first).not_to_be_checked()


def test_escape_on_the_export_button_saves_and_does_not_export(app, live_server, js_page, prepared_run):
    page, base = js_page, live_server.url
    sign_in(page, base, "staff")
    open_dialog(page, base, ("/runs/{run}", "prepared"), {"run": prepared_run})
    dialog = page.locator("dialog#dialog")
    dialog.locator("input[name=active]").nth(1).focus()
    page.keyboard.press("Space")
    export = dialog.locator("button[name=action][value=export]")
    export.focus()
    expect(export).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#flashes")).to_contain_text("Your selections were saved.")
    assert not _active(app, "R1")
    assert _status(app, prepared_run) == "prepared"   # Escape is Close, never Export


def test_escape_without_a_change_only_closes(app, live_server, js_page, prepared_run):
    page, base = js_page, live_server.url
    sign_in(page, base, "staff")
    open_dialog(page, base, ("/runs/{run}", "prepared"), {"run": prepared_run})
    box = page.locator("dialog#dialog input[name=active]").first
    box.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Space")          # ticked again: nothing changed
    page.keyboard.press("Escape")
    expect(page.locator("dialog#dialog")).not_to_be_visible()
    expect(page.locator("#flashes")).not_to_contain_text("Your selections were saved.")
    # The focus is back on the link that opened it.
    expect(page.locator("#run-panel a[href$='/prepared']").first).to_be_focused()
    assert _active(app, "R0")


def test_without_javascript_close_saves_an_untick(app, live_server, browser, prepared_run):
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        base = live_server.url
        sign_in(page, base, "staff")
        page.goto(f"{base}/runs/{prepared_run}/prepared")
        box = page.locator("input[name=active]").first
        box.focus()
        page.keyboard.press("Space")
        page.keyboard.press("Escape")         # no dialog: nothing happens, the page stays
        expect(box).not_to_be_checked()
        page.get_by_role("button", name="Close").click()
        expect(page.locator("#flashes")).to_contain_text("Your selections were saved.")
        assert not _active(app, "R0")
    finally:
        context.close()
