"""Screenshots of every main page in the four languages (test-artifacts/screens/<page>-<language>.png),
each also checked by axe-core and for a clean console: the language rotation of the accessibility check
(test_every_page.py checks every page, dialogs too, once)."""
import pytest
from playwright.sync_api import expect

from portal.config import ROOT

from tests.browser.checks import BLOCKING_IMPACTS, BLOCKING_RULES, axe_violations, own_assets_load
from tests.browser.test_every_page import LANGUAGES, open_dialog, portal_data, set_language, sign_in  # noqa: F401

pytestmark = pytest.mark.browser
SCREENS = ROOT / "test-artifacts" / "screens"

MAIN_PAGES = {  # who sees it: [(name, path, dialog)]
    "consultant": [
        ("home", "/", None),
        ("export-management", "/profiles/", None),
        ("start-export", None, ("/profiles/", "start-first")),
        ("profile", "/profiles/{payments}", None),
        ("show-exports", "/profiles/{payments}/runs", None),
        ("run", "/runs/{run}", None),
        ("run-with-errors", "/runs/{bad}", None),
        ("prepared-data", None, ("/runs/{run}", "prepared")),
        ("scenarios", "/scenarios?operation=roll_back", None),
        ("overview", "/overview/", None),
        ("profile-form", "/profiles/{payments}/edit", None),
        ("integration-account", "/integrations/{account}", None),
    ],
    "admin": [
        ("users", "/admin/users", None),
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_in_every_language(live_server, page, portal_data, language):
    base = live_server.url
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.goto(base + "/auth/login")
    set_language(page, base, language)
    page.screenshot(path=str(SCREENS / f"sign-in-{language}.png"), full_page=True)
    problems = []
    for role, pages in MAIN_PAGES.items():
        page.context.clear_cookies()
        sign_in(page, base, role)
        set_language(page, base, language)
        for name, path, how in pages:
            if how:
                open_dialog(page, base, how, portal_data)
            else:
                page.goto(base + path.format(**portal_data))
            expect(page.locator("html")).to_have_attribute("lang", {"en": "en-GB"}.get(language, language))
            page.screenshot(path=str(SCREENS / f"{name}-{language}.png"), full_page=True)
            problems += [f"{name}/{language}: axe {rule} ({impact}) at {targets}"
                         for rule, impact, _help, targets in axe_violations(page, impacts=None)
                         if impact in BLOCKING_IMPACTS or rule in BLOCKING_RULES]
            problems += [f"{name}/{language}: {p}" for p in own_assets_load(page) + page.watch.take()]
    assert not problems, "\n".join(problems)
