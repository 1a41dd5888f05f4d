"""The Start export dialog with JavaScript: debtor search without console errors (hx-include and
hx-disabled-elt that matched nothing were logged as errors), and a refused request (an expired form, a
text with a NUL) shows the server's message in the dialog instead of doing nothing; sent after signing out
in another tab, it leads to the sign-in page and back."""
import re

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
    # portal.js moves focus to the heading after the swap, once htmx has processed the new content (its
    # search field's triggers): typing before that sends no search.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'dialog-title'")
    return dialog


def _start_form(page, base, profile_id, javascript):
    """Start export in the dialog (JavaScript on) or as a page of its own (off): what holds the form."""
    if javascript:
        return _open_start(page, base)
    page.goto(f"{base}/profiles/{profile_id}/start")
    return page.locator("main")


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


@pytest.fixture
def same_number(app, users):
    """ZORG's debtor 10001 (Jansen) and THUIS's debtor 10001 (Pietersen), each with an invoice line."""
    with app.app_context():
        factories.same_debtor_number()
        return factories.profile("Facturen", export_type="invoices", fmt="jsonl").id


def test_two_companies_debtors_with_one_number_are_told_apart_in_the_dialog(live_server, page, same_number):
    """Each debtor is shown with its company; ticking ZORG's 10001 leaves THUIS's 10001 in the results (it
    is another debtor), and the export started with it names ZORG's debtor only."""
    base = live_server.url
    sign_in(page, base, "staff")
    dialog = _open_start(page, base)
    with page.expect_response(lambda r: "/debtors" in r.url):
        dialog.locator("#debtor_query").fill("1000")
    results = dialog.locator("#debtor-results")
    expect(results.locator("input[data-debtor]")).to_have_count(2)
    expect(results).to_contain_text("ZORG · Zorggroep Rivierenland B.V.")
    expect(results).to_contain_text("THUIS · Thuiszorg Noord B.V.")
    results.locator("li", has_text="Jansen").locator("input[data-debtor]").check()
    expect(dialog.locator("#debtor-selected")).to_contain_text("Jansen")
    with page.expect_response(lambda r: "/debtors" in r.url and "debtors=" in r.url):
        dialog.locator("#debtor_query").fill("10001")
    expect(results.locator("input[data-debtor]")).to_have_count(1)        # Pietersen: another debtor
    expect(results).to_contain_text("Pietersen")
    dialog.locator("input[name=preset][value=custom]").check()
    dialog.locator("#window_start").fill("2026-11-01")
    dialog.locator("#window_end").fill("2026-11-30")
    dialog.locator("button[name=action][value=start]").click()
    expect(page.locator("dl.run-facts")).to_contain_text("10001 · Jansen (ZORG)")
    expect(page.locator("dl.run-facts")).not_to_contain_text("Pietersen")


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


def test_start_after_signing_out_in_another_tab_leads_to_sign_in_and_back(live_server, page, invoices):
    """Not "the form has expired" in the dialog, under a header that still showed the user: the whole page
    goes to the sign-in page, which says they were signed out; signing in leads back to the page."""
    base = live_server.url
    sign_in(page, base, "staff")
    dialog = _open_start(page, base)
    came_from = page.url
    other = page.context.new_page()  # signs out in another tab
    other.goto(f"{base}/")
    other.locator("form[action$='/auth/logout'] button").click()
    other.wait_for_url("**/auth/login*")
    other.close()
    dialog.locator("button[name=action][value=start]").click()
    page.wait_for_url(re.compile(r"/auth/login\?next=/profiles/$"))
    expect(page.locator("#flashes")).to_contain_text("You were signed out")
    expect(page.locator("form[action$='/auth/logout']")).to_have_count(0)
    page.fill("input[name=email]", "staff@example.com")
    page.fill("input[name=password]", "demo")
    page.click("main button[type=submit]")
    page.wait_for_url(came_from)


@pytest.mark.parametrize("javascript", [True, False], ids=["dialog", "plain-page"])
def test_a_refused_start_lists_its_errors_above_the_form_and_each_link_reaches_its_field(
        app, live_server, browser, invoices, javascript):
    """The error summary of Start export: in the dialog (JavaScript on) and on the page opened on its own
    (JavaScript off), every error listed and linked; following a link puts the keyboard on the field;
    axe-core finds nothing serious with the summary shown."""
    from tests.browser.checks import BLOCKING_IMPACTS, BLOCKING_RULES, axe_violations, watched_page
    base = live_server.url
    with watched_page(browser, javascript, viewport={"width": 1280, "height": 900}) as page:
        page.set_default_timeout(20000)
        # Counts the times something focuses the error summary.
        page.add_init_script("""window.summaryFocused = 0; const focus = HTMLElement.prototype.focus;
            HTMLElement.prototype.focus = function (options) {
              if (this.id === "error-summary") { window.summaryFocused += 1; }
              return focus.call(this, options); };""")
        sign_in(page, base, "staff")
        root = _start_form(page, base, invoices, javascript)
        root.locator("input[name=preset][value=custom]").check()
        root.locator("input[name=debtor_scope][value=selected]").check()
        if javascript:
            root.locator("button[name=action][value=start]").click()
        else:
            with page.expect_navigation():
                root.locator("button[name=action][value=start]").click()
        summary = root.locator("#error-summary")
        expect(summary).to_be_visible()
        # The refused form puts the keyboard on its summary (autofocus: the browser on the page, htmx once
        # the dialog's new content settles) — once, so that it does not take the focus back from a link the
        # person has moved to (portal.js focused it as well, at the swap: a focus 20 ms later took it back).
        expect(summary).to_be_focused()
        if javascript:
            page.wait_for_timeout(300)
            assert page.evaluate("window.summaryFocused") == 1
        expect(summary).to_contain_text("The export was not started: please check the following.")
        links = summary.locator("a")
        expect(links).to_have_count(2)
        expect(links.nth(0)).to_have_text("From")
        expect(links.nth(1)).to_have_text("To")
        expect(summary).to_contain_text("Enter the first day of the time window.")
        expect(summary).to_contain_text("Enter the last day of the time window.")
        # axe-core runs as JavaScript: without it, the same markup is checked in a page that has it.
        checker = page if javascript else browser.new_page()
        try:
            if not javascript:
                checker.goto(f"{base}/auth/login")
                checker.set_content(page.content())
            problems = [f"axe {rule} ({impact}): {text} at {targets}" for rule, impact, text, targets
                        in axe_violations(checker, impacts=None) if impact in BLOCKING_IMPACTS or rule in BLOCKING_RULES]
        finally:
            if not javascript:
                checker.close()
        assert problems == [], problems
        links.nth(1).focus()
        page.keyboard.press("Enter")
        expect(root.locator("#window_end")).to_be_focused()
        if javascript:
            expect(page.locator("dialog#dialog")).to_be_visible()   # the dialog stays open
        # Corrected, the export starts (the debtor check comes once the dates are right, and is listed).
        root.locator("#window_start").fill("2026-11-01")
        root.locator("#window_end").fill("2026-11-30")
        if javascript:
            root.locator("button[name=action][value=start]").click()
        else:
            with page.expect_navigation():
                root.locator("button[name=action][value=start]").click()
        expect(summary.locator("a")).to_have_count(1)
        expect(summary.locator("a")).to_have_text("Debtor selection")
        expect(summary).to_be_focused()
        if javascript:
            page.wait_for_timeout(300)
            assert page.evaluate("window.summaryFocused") == 2
        summary.locator("a").focus()
        page.keyboard.press("Enter")
        expect(root.locator("#debtor_scope-0")).to_be_focused()
        root.locator("#debtor_scope-0").check()
        if javascript:
            root.locator("button[name=action][value=start]").click()
            page.wait_for_url("**/runs/*")
        else:
            with page.expect_navigation():
                root.locator("button[name=action][value=start]").click()
            assert "/runs/" in page.url


@pytest.mark.parametrize("javascript, in_dialog", [(True, True), (True, False), (False, False)],
                         ids=["dialog", "page-with-javascript", "plain-page"])
def test_enter_in_the_description_starts_the_export_and_enter_in_the_search_searches(
        app, live_server, browser, invoices, javascript, in_dialog):
    """Enter in a field submits the form's default button: Start export, not the debtor search's Search
    (which came first in the form: Enter in the description searched, switched the selection to "only
    the debtors I choose" and the next start was refused). Enter in the search field still searches."""
    from tests.browser.checks import watched_page
    base = live_server.url
    with watched_page(browser, javascript, viewport={"width": 1280, "height": 900}) as page:
        sign_in(page, base, "staff")
        if in_dialog:
            root = _open_start(page, base)
        else:
            page.goto(f"{base}/profiles/{invoices}/start")
            root = page.locator("main")
        if javascript:
            with page.expect_response(lambda r: "/debtors" in r.url):
                root.locator("#debtor_query").press_sequentially("Debtor 2")
                root.locator("#debtor_query").press("Enter")
        else:
            root.locator("#debtor_query").fill("Debtor 2")
            with page.expect_navigation():
                root.locator("#debtor_query").press("Enter")
            root = page.locator("main")
        expect(root.locator("#debtor-results input[data-debtor]")).to_have_count(1)
        expect(root.locator("#debtor-results")).to_contain_text("Debtor 2")
        if not javascript:      # the search without JavaScript chose "only the debtors I choose": back to all
            root.locator("input[name=debtor_scope][value=all]").check()
        root.locator("#description").fill("November invoices")
        with page.expect_navigation(url="**/runs/*"):
            root.locator("#description").press("Enter")
        expect(page.locator("main")).to_contain_text("November invoices")


@pytest.mark.parametrize("javascript", [True, False], ids=["dialog", "plain-page"])
def test_a_refused_start_focuses_its_summary_and_each_group_of_choices_says_its_error(
        app, live_server, browser, invoices, javascript):
    """A refused Start export puts the keyboard on the error summary (in the dialog as on the page without
    JavaScript), and a refused group of choices — time window, test or production, debtor selection —
    says its error in its own fieldset, each of its buttons described by it (what a screen reader reads
    with the button)."""
    from tests.browser.checks import watched_page
    base = live_server.url
    with watched_page(browser, javascript, viewport={"width": 1280, "height": 900}) as page:
        page.set_default_timeout(20000)
        sign_in(page, base, "staff")
        root = _start_form(page, base, invoices, javascript)

        def submit():
            if javascript:
                with page.expect_response(lambda r: r.request.method == "POST"):
                    root.locator("button[name=action][value=start]").click()
            else:
                with page.expect_navigation():
                    root.locator("button[name=action][value=start]").click()

        # Choices a browser cannot send by itself (an old page, a tampered one): refused in their fieldsets.
        root.locator("input[name=preset][value=custom]").evaluate("radio => { radio.value = 'someday'; }")
        root.locator("input[name=mode][value=production]").evaluate("radio => { radio.value = 'both'; }")
        root.locator("input[name=preset][value=someday]").check()
        root.locator("input[name=mode][value=both]").check()
        submit()
        summary = root.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary.locator("a")).to_have_count(2)
        for name in ("preset", "mode"):
            message = root.locator(f"fieldset #{name}-errors")
            expect(message).to_be_visible()
            text = message.inner_text().strip()
            assert text
            for radio in root.locator(f"input[name={name}]").all():
                expect(radio).to_have_accessible_description(text)
                expect(radio).to_have_attribute("aria-invalid", "true")
        # The debtor selection: "only the debtors I select" with none selected.
        root.locator("input[name=preset][value=previous_month]").check()
        root.locator("input[name=mode][value=test]").check()
        root.locator("input[name=debtor_scope][value=selected]").check()
        submit()
        expect(summary).to_be_focused()
        expect(summary.locator("a")).to_have_text("Debtor selection")
        for radio in root.locator("input[name=debtor_scope]").all():
            expect(radio).to_have_accessible_description("Select at least one debtor, or choose all debtors.")
        for radio in root.locator("input[name=mode]").all():
            expect(radio).to_have_accessible_description("")
        if javascript:
            expect(page.locator("dialog#dialog")).to_be_visible()
