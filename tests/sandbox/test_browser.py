"""The sign-in page in a real browser: choose a company, allow or deny, back to the application."""
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import ARTIFACTS

from .conftest import CLIENT_ID, SCOPE, pkce_pair

pytestmark = pytest.mark.browser


def _authorize_url(base, state="s-123", **extra):
    _verifier, challenge = pkce_pair()
    params = {"client_id": CLIENT_ID, "redirect_uri": base + "/sandbox/requests", "response_type": "code",
              "scope": SCOPE, "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
              **extra}
    return base + "/sandbox/connect/authorize?" + urlencode(params)


@pytest.fixture(autouse=True)
def _requests_page_registered(app, live_server):
    """The sign-in page returns to the sandbox's own requests page: registered as a redirect URI."""
    app.config["SANDBOX_REDIRECT_URIS"] = live_server.url + "/sandbox/requests"


def test_choose_a_company_and_allow(page, live_server):
    page.goto(_authorize_url(live_server.url))
    assert page.get_by_role("heading", name="Sign in to Visma.net (sandbox)").is_visible()
    page.get_by_label("Thuiszorg Noord (Visma.net)").check()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox_sign_in.png"), full_page=True)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/sandbox/requests?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["s-123"] and query["code"][0]


def test_allow_without_a_company_then_deny(page, live_server):
    page.goto(_authorize_url(live_server.url, state="s-9"))
    page.get_by_role("button", name="Allow").click()
    assert page.get_by_role("alert").inner_text() == "Choose a company."
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url("**/sandbox/requests?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s-9"]


def test_the_tenant_asked_for_is_preselected_in_swedish(browser, live_server):
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    try:
        page.goto(_authorize_url(live_server.url, acr_values="tenant:1000003"))
        assert page.get_by_role("heading", name="Logga in på Visma.net (sandbox)").is_visible()
        assert page.get_by_label("Demo company").is_checked()
        page.get_by_role("button", name="Tillåt").click()
        page.wait_for_url("**/sandbox/requests?**")
        assert "code=" in page.url
    finally:
        context.close()
