"""The profile form in a real browser: only what the provider and format need, columns chosen with
checkboxes and ordered with Up and Down — with JavaScript (htmx, moves in place) and without."""
import pytest
from playwright.sync_api import expect

from portal.config import ROOT
from portal.extensions import db
from portal.models.exporting import ExportProfile

from tests.browser.checks import watched_page
from tests.browser.test_every_page import sign_in

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"


def _choose(page, javascript, name, value):
    """Choose in a select; the options of what was chosen come (htmx with JavaScript, else the form's own
    Show button)."""
    if javascript:
        with page.expect_response(lambda response: "/profiles/columns" in response.url):
            page.select_option(f"select[name={name}]", value)
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    else:
        page.select_option(f"select[name={name}]", value)
        with page.expect_navigation():
            page.locator("main button[name=action][value=refresh]:visible").first.click()


def _saved(app, name):
    with app.app_context():
        return db.session.execute(db.select(ExportProfile).filter_by(name=name)).scalar_one()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_profile_form_follows_provider_and_format_and_orders_columns(app, live_server, browser, users, javascript):
    base = live_server.url

    with watched_page(browser, javascript, viewport={"width": 1280, "height": 900}) as page:
        sign_in(page, base, "consultant")
        page.goto(f"{base}/profiles/new")
        page.fill("input[name=name]", f"Kassa {javascript}")
        _choose(page, javascript, "export_type", "payments")
        options = page.locator("#profile-options")
        _choose(page, javascript, "provider", "visma_net")
        expect(options.locator("select[name=account_id]")).to_be_visible()
        expect(options.locator("select[name=delimiter]")).to_have_count(0)
        _choose(page, javascript, "provider", "file")
        _choose(page, javascript, "format", "xlsx")
        expect(options.locator("input[name=skip_headers]")).to_be_visible()
        expect(options.locator("select[name=delimiter]")).to_have_count(0)
        _choose(page, javascript, "format", "csv")
        expect(options.locator("select[name=delimiter]")).to_be_visible()
        expect(page.locator("input[name=name]")).to_have_value(f"Kassa {javascript}")  # what was filled in stays

        # Amount up until it comes before the receipt number, Paid at left out.
        while True:
            order = page.locator("input[name=order]").evaluate_all("inputs => inputs.map(i => i.value)")
            if order.index("amount") < order.index("receipt_number"):
                break
            if javascript:
                page.get_by_role("button", name="Move Amount up").click()
            else:
                with page.expect_navigation():
                    page.get_by_role("button", name="Move Amount up").click()
        page.uncheck("#col_paid_at")
        order = page.locator("input[name=order]").evaluate_all("inputs => inputs.map(i => i.value)")
        assert order.index("amount") < order.index("receipt_number")
        # Labels are whole: none is cut off.
        cut = page.evaluate("""() => [...document.querySelectorAll('main label')]
            .filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.textContent.trim())""")
        assert not cut, cut
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"profile-form-{'js' if javascript else 'no-js'}.png"), full_page=True)
        page.locator("main button[name=action][value=save]").click()
        expect(page.locator(".flash-success")).to_be_visible()
        saved = _saved(app, f"Kassa {javascript}")
        columns = saved.options["columns"]
        assert "paid_at" not in columns and columns.index("amount") < columns.index("receipt_number")
        assert "account_id" not in saved.options and saved.options["format"] == "csv"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_every_kind_of_profile_can_be_created_and_edited(app, live_server, browser, users, javascript):
    """Visma.net, JSON Lines, Excel and SIE 4: fields the page does not show are not asked for."""
    from portal.models import IntegrationAccount
    with app.app_context():
        account = IntegrationAccount(name="Zorggroep Visma")
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    base = live_server.url

    kinds = [("Journals to Visma.net", "journal_entries", "visma_net", None),
             ("Payments JSON Lines", "payments", "file", "jsonl"),
             ("Products Excel", "products", "file", "xlsx"),
             ("Journals SIE 4", "journal_entries", "file", "sie4")]
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "consultant")
        for name, export_type, provider, fmt in kinds:
            page.goto(f"{base}/profiles/new")
            page.fill("input[name=name]", name)
            _choose(page, javascript, "export_type", export_type)
            _choose(page, javascript, "provider", provider)
            if provider == "visma_net":
                page.select_option("select[name=account_id]", str(account_id))
            else:
                _choose(page, javascript, "format", fmt)
            with page.expect_navigation():
                page.locator("main button[name=action][value=save]").click()
            expect(page.locator(".flash-success")).to_be_visible()
            saved = _saved(app, name)
            assert saved.provider == provider and saved.options.get("format") == fmt
            # Edit: only the name changes.
            page.goto(f"{base}/profiles/{saved.id}/edit")
            page.fill("input[name=name]", f"{name} (renamed)")
            with page.expect_navigation():
                page.locator("main button[name=action][value=save]").click()
            expect(page.locator(".flash-success")).to_be_visible()
            assert _saved(app, f"{name} (renamed)").id == saved.id
        # A refused form says why, above the form.
        page.goto(f"{base}/profiles/new")
        with page.expect_navigation():
            page.locator("main button[name=action][value=save]").click()
        expect(page.locator("#error-summary")).to_contain_text("Give the export profile a name.")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_profile_with_production_exports_shows_its_type_and_provider_fixed(app, live_server, browser, users,
                                                                              javascript):
    """After a production export, the export type and the provider are text with the reason; the other
    settings (here the file format, whose options come by htmx or the Show button) still change and save."""
    from portal.exporting import services
    from tests import factories
    from tests.browser.checks import axe_violations
    with app.app_context():
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 3)
        db.session.commit()
        profile = services.create_profile(name="Kassabetalingen", export_type="payments", options={"format": "csv"})
        assert factories.start_and_run(profile, mode="production").status == "exported"
        profile_id = profile.id
    base = live_server.url
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "consultant")
        page.goto(f"{base}/profiles/{profile_id}/edit")
        expect(page.locator("#fixed-settings-hint")).to_contain_text("cannot be changed")
        expect(page.locator("#export_type-fixed")).to_contain_text("Payments")
        expect(page.locator("#provider-fixed")).to_contain_text("File")
        expect(page.locator("select[name=export_type], select[name=provider]")).to_have_count(0)
        if javascript:                      # axe-core runs in the page: only with JavaScript
            assert axe_violations(page, impacts=None) == []
        _choose(page, javascript, "format", "xlsx")
        expect(page.locator("#profile-options input[name=skip_headers]")).to_be_visible()
        expect(page.locator("#export_type-fixed")).to_contain_text("Payments")
        page.fill("input[name=name]", "Kassabetalingen (Excel)")
        with page.expect_navigation():
            page.locator("main button[name=action][value=save]").click()
        expect(page.locator(".flash-success")).to_be_visible()
        saved = _saved(app, "Kassabetalingen (Excel)")
        assert (saved.export_type, saved.provider, saved.options["format"]) == ("payments", "file", "xlsx")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_enter_in_the_name_saves_the_profile(app, live_server, browser, users, javascript):
    """Enter in a text field saves the profile, as Save does: the form's default button is not "Show the
    options…" (which refreshed the form, saved nothing and said nothing)."""
    base = live_server.url
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "consultant")
        page.goto(f"{base}/profiles/new")
        page.fill("input[name=name]", f"Enter {javascript}")
        with page.expect_navigation(url="**/profiles/"):
            page.locator("input[name=name]").press("Enter")
        expect(page.locator(".flash-success")).to_contain_text(f"Enter {javascript}")
        saved = _saved(app, f"Enter {javascript}")
        # Editing: Enter in the name saves the change too (the columns' Up and Down come before Save).
        page.goto(f"{base}/profiles/{saved.id}/edit")
        page.fill("input[name=name]", f"Enter {javascript} (renamed)")
        with page.expect_navigation(url="**/profiles/"):
            page.locator("input[name=name]").press("Enter")
        expect(page.locator(".flash-success")).to_be_visible()
        assert _saved(app, f"Enter {javascript} (renamed)").id == saved.id
