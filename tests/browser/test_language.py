"""A real browser: staff sign in, switch language with the switcher, and see the portal in it."""
import pytest

from portal.config import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"

NAVIGATION = {  # what the top bar says in each language
    "nl": {"sign_out": "Uitloggen", "welcome": "Welkom, Sam Staff", "skip": "Naar de inhoud"},
    "sv": {"sign_out": "Logga ut", "welcome": "Välkommen, Sam Staff", "skip": "Hoppa till innehållet"},
    "da": {"sign_out": "Log ud", "welcome": "Velkommen, Sam Staff", "skip": "Gå til indholdet"},
}


def _sign_in(page, base, who="staff"):
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail address").fill(f"{who}@example.com")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")


def test_staff_switches_to_dutch_swedish_and_danish(page, live_server, users):
    base = live_server.url
    _sign_in(page, base)
    assert page.locator("html").get_attribute("lang") == "en-GB"  # British English by default
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Sam Staff"

    for code, words in NAVIGATION.items():
        with page.expect_navigation():
            page.get_by_label({"en-GB": "Language", "nl": "Taal", "sv": "Språk", "da": "Sprog"}[
                page.locator("html").get_attribute("lang")]).select_option(code)
        assert page.locator("html").get_attribute("lang") == code
        assert page.get_by_role("heading", level=1).inner_text() == words["welcome"]
        assert page.get_by_role("button", name=words["sign_out"]).is_visible()
        assert page.locator(".skip-link").inner_text() == words["skip"]
        # The navigation shows only what staff may use: never the administrator's pages.
        nav_text = page.locator("header").inner_text()
        assert "Gebruikers" not in nav_text and "Användare" not in nav_text and "Brugere" not in nav_text
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"home-staff-{code}.png"), full_page=True)

    # The choice is the user's setting: it stays after signing out and in again.
    page.get_by_role("button", name=NAVIGATION["da"]["sign_out"]).click()
    assert page.locator("html").get_attribute("lang") == "da"
    page.get_by_label("E-mailadresse").fill("staff@example.com")
    page.get_by_label("Adgangskode").fill("demo")
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(base + "/")
    assert page.locator("html").get_attribute("lang") == "da"


def test_switcher_works_before_sign_in_and_with_the_keyboard(page, live_server, users):
    base = live_server.url
    page.goto(base + "/auth/login")
    page.keyboard.press("Tab")  # the skip link comes first and is visible when focused
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0
    with page.expect_navigation():
        page.get_by_label("Language").select_option("sv")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "Logga in"
    page.get_by_role("button", name="Logga in").click()
    # Errors in Swedish, tied to their fields.
    email = page.get_by_label("E-postadress")
    assert email.get_attribute("aria-invalid") == "true"
    described = email.get_attribute("aria-describedby")
    assert page.locator(f"#{described}").inner_text().strip() == "Ange din e-postadress."
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sign-in-sv-errors.png"), full_page=True)


def test_admin_home_and_users_page_look(page, live_server, users):
    base = live_server.url
    _sign_in(page, base, "admin")
    assert page.get_by_role("link", name="Users").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home-admin-en.png"), full_page=True)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Users").click()
    page.wait_for_url(base + "/admin/users")
    page.screenshot(path=str(ARTIFACTS / "admin-users-en.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "admin-users-phone.png"), full_page=True)


def test_new_user_form_shows_errors_by_their_fields_in_danish(page, live_server, users):
    base = live_server.url
    _sign_in(page, base, "admin")
    with page.expect_navigation():
        page.get_by_label("Language").select_option("da")
    page.goto(base + "/admin/users/new")
    page.get_by_label("E-mailadresse").fill("ikke-en-adresse")
    page.get_by_role("button", name="Gem").click()
    email = page.get_by_label("E-mailadresse")
    assert email.get_attribute("aria-invalid") == "true"
    assert "Angiv en gyldig e-mailadresse." in page.locator("#" + email.get_attribute("aria-describedby")).inner_text()
    password = page.get_by_label("Adgangskode")
    assert "Angiv en adgangskode til den nye bruger." in page.locator(
        "#" + password.get_attribute("aria-describedby")).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-new-user-da-errors.png"), full_page=True)


def test_demo_sign_in_page_lists_the_demo_accounts(app, page, live_server, users):
    app.config["ENV_NAME"] = "demo"
    page.goto(live_server.url + "/auth/login")
    hint = page.get_by_role("complementary", name="Demo sign-ins")
    assert "staff@example.com" in hint.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sign-in-demo-en.png"), full_page=True)


def test_keyboard_users_can_go_past_a_language_to_dansk(page, live_server, users):
    """An arrow key on the switcher does not switch at once (it did, so Dansk could not be reached):
    Enter switches to the language reached."""
    base = live_server.url
    _sign_in(page, base)
    page.wait_for_function("() => document.documentElement.classList.contains('js')")
    select = page.locator("#locale-select")
    select.focus()
    for _ in range(3):  # English → Nederlands → Svenska → Dansk
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(200)
        assert page.locator("html").get_attribute("lang") == "en-GB"  # nothing switched, no reload
    assert select.input_value() == "da"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "da"


def test_the_switcher_works_without_javascript(browser, live_server, users):
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in(page, live_server.url)
        page.select_option("#locale-select", "sv")
        assert page.locator("html").get_attribute("lang") == "en-GB"
        with page.expect_navigation():
            page.locator(".language-switcher button[type=submit]").click()
        assert page.locator("html").get_attribute("lang") == "sv"
    finally:
        context.close()
