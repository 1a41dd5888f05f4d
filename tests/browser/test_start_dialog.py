"""The Start export dialog with JavaScript: debtor search without console errors (hx-include and
hx-disabled-elt that matched nothing were logged as errors), and a refused request (an expired form, a
text with a NUL) shows the server's message in the dialog instead of doing nothing."""
import pytest
from playwright.sync_api import expect

from portal.extensions import db

from tests import factories
from tests.browser.test_flows import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def invoices(app, users):
    with app.app_context():
        company = factories.company()
        factories.debtors(company, count=5)
        db.session.commit()
        return factories.profile("Facturen", export_type="invoices").id


def _open_start(page, base):
    page.goto(f"{base}/profiles/")
    page.click("text=Start export >> nth=0")
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_debtor_search_in_the_dialog_logs_no_error(live_server, page, invoices):
    base = live_server.url
    sign_in(page, base, "staff")
    dialog = _open_start(page, base)
    with page.expect_response(lambda r: "/debtors" in r.url):
        dialog.locator("#debtor_query").fill("Debtor")  # nothing selected yet: the include matches no input
    expect(dialog.locator("#debtor-results input[data-debtor]")).to_have_count(5)
    dialog.locator("#debtor-results input[data-debtor]").first.check()
    expect(dialog.locator("#debtor-selected input[name=debtors]")).to_have_count(1)
    with page.expect_response(lambda r: "/debtors" in r.url and "debtors=" in r.url):
        dialog.locator("#debtor_query").fill("Debt")
    expect(dialog.locator("#debtor-results input[data-debtor]")).to_have_count(4)  # the selected one is left out
    problems = page.watch.take()
    assert not problems, problems  # the page fixture checks again at the end


def test_text_with_a_nul_is_answered_in_the_dialog(live_server, page, invoices):
    base = live_server.url
    sign_in(page, base, "staff")
    dialog = _open_start(page, base)
    dialog.locator("#description").evaluate("input => { input.value = 'a\\u0000b'; }")
    dialog.locator("button[name=action][value=start]").click()
    expect(dialog.locator("[data-error-message]")).to_contain_text("The text cannot be used")
    expect(dialog.locator("#start-form")).to_be_visible()  # what was filled in stays, to be corrected
    dialog.locator("#description").fill("November")
    dialog.locator("button[name=action][value=start]").click()
    page.wait_for_url("**/runs/*")


def test_an_expired_form_is_answered_in_the_dialog(live_server, page, invoices):
    base = live_server.url
    sign_in(page, base, "staff")
    dialog = _open_start(page, base)
    other = page.context.new_page()  # signs out in another tab
    other.goto(f"{base}/")
    other.locator("form[action$='/auth/logout'] button").click()
    other.wait_for_url("**/auth/login*")
    other.close()
    dialog.locator("button[name=action][value=start]").click()
    expect(dialog.locator("[data-error-message]")).to_contain_text("The form has expired")
