"""A refused admin or integration form comes back with its error summary above it, the keyboard on it,
each error a link to its field — as the profile, schedule and Start export forms do — and passes axe."""
import pytest
from playwright.sync_api import expect

from tests.browser.checks import axe_violations, watched_page
from tests.browser.test_every_page import sign_in

pytestmark = pytest.mark.browser


def _focused_id(page):
    return page.evaluate("() => document.activeElement && document.activeElement.id")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_new_user_saved_empty_says_so_above_the_form_with_the_keyboard_there(app, live_server, browser, users,
                                                                               javascript):
    base = live_server.url
    with watched_page(browser, javascript, viewport={"width": 1280, "height": 900}) as page:
        sign_in(page, base, "admin")
        page.goto(f"{base}/admin/users/new")
        with page.expect_navigation() as navigation:
            page.locator("main button[type=submit]").click()
        assert navigation.value.status == 400
        summary = page.locator("#error-summary")
        expect(summary).to_contain_text("The form was not saved: please check the following.")
        expect(summary).to_contain_text("Enter an e-mail address.")
        expect(summary).to_contain_text("Enter a password for the new user.")
        expect(summary).to_be_focused()
        if javascript:                      # axe-core runs in the page: only with JavaScript
            assert axe_violations(page, impacts=None) == []
        # The link takes the keyboard to the field.
        summary.get_by_role("link", name="E-mail address").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#email")).to_be_focused()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_integration_account_without_a_name_says_so_above_the_form(app, live_server, browser, users, javascript):
    base = live_server.url
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "consultant")
        page.goto(f"{base}/integrations/new")
        with page.expect_navigation() as navigation:
            page.locator("main button[type=submit]").click()
        assert navigation.value.status == 400
        summary = page.locator("#error-summary")
        expect(summary).to_contain_text("Enter a name for the integration account.")
        expect(summary).to_be_focused()
        if javascript:
            assert axe_violations(page, impacts=None) == []
        summary.get_by_role("link", name="Name").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#name")).to_be_focused()
