"""The whole wizard in a real browser against the sandbox: create → authorise (Connect's sign-in page,
choose the company, allow) → verify (refresh) → administrations (new mapping) → dimensions → done;
then the account page's health and disconnect. Once in English, once in Swedish."""
import re

import pytest

from portal.config import ROOT
from portal.extensions import db
from portal.models import AdministrationMapping, DimensionMapping, IntegrationAccount

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"


def _sign_in(page, base):
    page.goto(base + "/auth/login")
    page.fill("input[name=email]", "consultant@example.com")
    page.fill("input[name=password]", "demo")
    page.click("main button[type=submit]")
    # Signed in only once the portal has answered: a click on the next page before that races the sign-in.
    page.wait_for_url(lambda url: "/auth/login" not in url)


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_whole_wizard(app, visma, users, companies, page):
    base = visma.url
    _sign_in(page, base)
    page.click("nav.mainnav >> text=Integration accounts")
    page.click("text=New integration account")
    page.fill("input[name=name]", "Zorggroep at Visma.net")
    page.click("button:has-text('Create')")
    assert "/setup/authorise" in page.url
    _shot(page, "wizard-1-authorise")

    page.click("button:has-text('Authorise at Visma.net')")
    # The sandbox's Visma Connect page: choose the company, allow.
    page.wait_for_selector("text=Choose the company")
    page.check("input[name=company][value='1000001']")
    page.click("button:has-text('Allow')")
    page.wait_for_url(re.compile(r".*/setup/verify$"))
    assert page.is_visible("text=1000001")
    assert page.is_visible("text=vismanet_erp_interactive_api:read")
    page.click("button:has-text('Refresh')")
    page.wait_for_selector("text=The tokens were refreshed.")
    _shot(page, "wizard-2-verify")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "wizard-2-verify-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Resumable: leave and come back through the list.
    page.goto(base + "/integrations/")
    page.click("text=Continue setup")
    assert "/setup/verify" in page.url
    page.click("button:has-text('Next: administrations')")
    page.wait_for_url(re.compile(r".*/setup/administrations$"))
    page.select_option("select[name=company]", label="Zorggroep Rivierenland B.V. (ZORG)")
    page.select_option("select[name=branch]", value="NORTH")
    page.click("button:has-text('Add mapping')")
    page.wait_for_selector("text=is mapped to branch NORTH")
    # A company already mapped is no longer offered (a form that sends it anyway is refused: test_wizard.py).
    offered = page.locator("select[name=company] option").all_inner_texts()
    assert "Zorggroep Rivierenland B.V. (ZORG)" not in offered and len(offered) > 1
    _shot(page, "wizard-3-administrations")
    page.click("button:has-text('Next: dimensions')")
    page.wait_for_url(re.compile(r".*/setup/dimensions$"))

    # A description that Visma.net does not know: the error names the ones that exist.
    page.check("input[name=cost_centre_enabled]")
    page.fill("input[name=cost_centre_description]", "Kostenplaats")
    page.click("button:has-text('Save dimensions')")
    error = page.locator("#cost_centre_description-errors")
    error.wait_for()
    assert "Kostenplaats" in error.inner_text() and "Cost centre" in error.inner_text() \
        and "Cost unit" in error.inner_text()
    _shot(page, "wizard-4-dimensions-error")
    page.fill("input[name=cost_centre_description]", "cost centre")
    page.check("input[name=cost_unit_enabled]")
    page.fill("input[name=cost_unit_description]", "Cost unit")
    page.click("button:has-text('Save dimensions')")
    page.wait_for_selector("text=The dimensions were saved.")
    page.click("button:has-text('Finish')")
    page.wait_for_selector("text=is set up")
    _shot(page, "integration-account")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "integration-account-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The account page: health, then disconnect.
    assert page.is_visible("text=Connected")
    assert page.is_visible("text=Last refresh")
    with app.app_context():
        account = db.session.execute(db.select(IntegrationAccount)).scalar_one()
        assert account.wizard_step == "done" and account.company_id == "1000001"
        mapping = db.session.execute(db.select(AdministrationMapping)).scalar_one()
        assert (mapping.branch_number, mapping.visma_company_id) == ("NORTH", "1000001")
        dims = {d.kind: d for d in db.session.execute(db.select(DimensionMapping)).scalars()}
        assert dims["cost_centre"].enabled and dims["cost_centre"].segment_id == 1
        assert dims["cost_centre"].description == "Cost centre"          # Visma.net's spelling
        assert dims["cost_unit"].segment_id == 2
        assert account.access_token not in page.content()
    page.click("a:has-text('Disconnect')")          # asks first, in the page's dialog
    page.wait_for_selector("#dialog[open] >> text=Its tokens are revoked at Visma Connect")
    page.click("#dialog button:has-text('Disconnect')")
    page.wait_for_selector("text=is disconnected")
    assert page.is_visible("text=not authorised at Visma.net")


def test_the_wizard_in_swedish(app, visma, users, companies, page):
    base = visma.url
    _sign_in(page, base)
    with page.expect_navigation():  # the switcher submits itself; wait for that page, not a race with goto
        page.select_option("#locale-select", "sv")
    page.goto(base + "/integrations/new")
    assert page.is_visible("h1:has-text('Nytt integrationskonto')")
    page.fill("input[name=name]", "Konto")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/setup/authorise$"))
    page.click("button:has-text('Auktorisera')")
    page.wait_for_selector("input[name=company]")
    page.check("input[name=company][value='1000002']")
    page.click("button[value=allow]")
    page.wait_for_url(re.compile(r".*/setup/verify$"))
    assert page.is_visible("text=Uppdatera")
    page.click("button:has-text('Nästa: administrationer')")
    page.wait_for_url(re.compile(r".*/setup/administrations$"))
    assert page.is_visible("h3:has-text('Ny mappning')")
    _shot(page, "wizard-3-administrations-sv")
