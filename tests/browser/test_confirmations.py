"""An irreversible action asks first, in a real browser: with JavaScript the confirmation opens in the
page's dialog (focus moves to its heading, Escape and Cancel close it and give the focus back to the
button, nothing changes until its Yes), without JavaScript it is a page of its own (Cancel goes back).
Walked with a schedule's Delete; the other confirmations share its macro and view pattern."""
import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.schedules import services
from portal.schedules.models import Schedule

from tests import factories
from tests.browser.checks import axe_violations, watched_page
from tests.browser.test_every_page import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def schedule(app, users):
    with app.app_context():
        profile = factories.profile("Kassa", export_type="payments", fmt="jsonl")
        made = services.save_schedule(profile.id, frequency="weekly", weekday=0, hour=7, minute=15,
                                      window="previous_week", mode="test")
        return profile.id, made.id


def _schedules(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Schedule.id))).scalar()


def test_delete_a_schedule_in_the_dialog_with_the_keyboard(app, live_server, browser, schedule):
    profile_id, _schedule_id = schedule
    base = live_server.url
    with watched_page(browser) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/profiles/{profile_id}/schedules")
        delete = page.locator("table a:has-text('Delete')")
        dialog = page.locator("dialog#dialog")

        delete.focus()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        expect(dialog.locator("h2#dialog-title")).to_have_text("Delete this schedule of Kassa for good?")
        expect(page.locator("#dialog-title")).to_be_focused()
        expect(dialog).to_contain_text("Weekly on Monday at 07:15")
        expect(dialog).to_contain_text("deleted for good")
        assert axe_violations(page, impacts=None) == []
        page.keyboard.press("Escape")
        expect(dialog).not_to_be_visible()
        expect(delete).to_be_focused()            # back where the person was
        assert _schedules(app) == 1

        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        dialog.locator("a:has-text('Cancel')").click()
        expect(dialog).not_to_be_visible()
        expect(delete).to_be_focused()
        assert page.url == f"{base}/profiles/{profile_id}/schedules"
        assert _schedules(app) == 1

        delete.click()
        with page.expect_navigation():
            dialog.locator("button:has-text('Delete for good')").click()
        expect(page.locator("main")).to_contain_text("The schedule is deleted. The exports it started stay.")
        expect(page.locator("main")).to_contain_text("No schedules yet.")
        assert _schedules(app) == 0


def test_delete_a_schedule_without_javascript(app, live_server, browser, schedule):
    profile_id, schedule_id = schedule
    base = live_server.url
    with watched_page(browser, javascript=False) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/profiles/{profile_id}/schedules")
        page.click("table a:has-text('Delete')")
        page.wait_for_url(re.compile(rf"/schedules/{schedule_id}/delete$"))
        expect(page.locator("h1")).to_have_text("Delete this schedule of Kassa for good?")
        expect(page.locator("main")).to_contain_text("Weekly on Monday at 07:15")
        page.click("main a:has-text('Cancel')")
        page.wait_for_url(re.compile(rf"/profiles/{profile_id}/schedules$"))
        assert _schedules(app) == 1

        page.click("table a:has-text('Delete')")
        page.click("main button:has-text('Delete for good')")
        page.wait_for_url(re.compile(rf"/profiles/{profile_id}/schedules$"))
        expect(page.locator("main")).to_contain_text("The schedule is deleted.")
        assert _schedules(app) == 0
