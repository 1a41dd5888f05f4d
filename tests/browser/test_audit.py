"""A real browser: an administrator reads the audit log, filters it, reads it in Dutch, downloads it."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _sign_in(page, base, who, password="demo"):
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail address").fill(f"{who}@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_administrator_reads_filters_and_downloads_the_audit_log(page, live_server, users):
    base = live_server.url
    _sign_in(page, base, "manager", password="wrong")        # a failed sign-in
    _sign_in(page, base, "staff")
    page.wait_for_url(base + "/")
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, base, "admin")
    page.wait_for_url(base + "/")

    page.get_by_role("link", name="Audit log").first.click()
    page.wait_for_url(base + "/admin/audit")
    table = page.locator("#audit-entries")
    assert "Sign-in failed for manager@example.com" in table.inner_text()
    assert "Signed out" in table.inner_text()

    # Filtering (htmx swaps the results; the URL says what is shown).
    page.get_by_label("Action").select_option(label="Sign-out")
    rows = page.locator("#audit-entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("staff@example.com")
    assert "action=auth.sign_out" in page.url  # the filtered list has its own address

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    body = open(download.value.path(), encoding="utf-8-sig").read()
    assert "Signed out" in body and "Sign-in failed" not in body

    with page.expect_navigation():
        page.get_by_label("Language").select_option("nl")
    assert page.get_by_role("heading", level=1).inner_text() == "Auditlog"
    page.get_by_label("Actie").select_option(label="Mislukte aanmelding")
    expect(page.locator("#audit-entries tbody tr")).to_have_count(1)
    expect(page.locator("#audit-entries")).to_contain_text("Aanmelden mislukt voor manager@example.com")
