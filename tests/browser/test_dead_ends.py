"""Dead ends a person met in a real browser: each is walked through here as they would."""
import csv
import io
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.exporting import ExportProfile

from tests.browser.test_every_page import sign_in
from tests.runs import support

pytestmark = pytest.mark.browser


def _csv_rows(download):
    return list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))


def test_the_overview_csv_is_what_the_table_shows_after_filtering_without_reload(app, live_server, page, users):
    with app.app_context():
        journals = support.profile("Lönejournal")
        for i in range(5):
            support.run(journals, status="exported", started_at=datetime(2026, 11, 1) + timedelta(days=i))
        support.run(journals, status="failed", started_at=datetime(2026, 11, 10))
    base = live_server.url
    sign_in(page, base, "manager")
    page.goto(f"{base}/overview/")
    expect(page.locator("#results")).to_contain_text("6 exports match")
    page.select_option("#f-status", "failed")  # htmx swaps the results; the page is not reloaded
    expect(page.locator("#results")).to_contain_text("1 export matches")  # ngettext: the singular
    with page.expect_download() as info:
        page.locator("#results a:has-text('Download as CSV')").click()
    rows = _csv_rows(info.value)
    assert len(rows) == 2 and rows[1][4] == "Failed"  # the header and the one failed export


def test_unix_line_endings_can_be_chosen_in_the_profile_form(app, live_server, page, users):
    base = live_server.url
    sign_in(page, base, "consultant")
    page.goto(f"{base}/profiles/new")
    page.fill("input[name=name]", "Betalingen LF")
    page.select_option("select[name=export_type]", "payments")
    page.select_option("select[name=line_terminator]", label="Unix (LF)")
    page.locator("main button[name=action][value=save]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    with app.app_context():
        profile = db.session.execute(db.select(ExportProfile).filter_by(name="Betalingen LF")).scalar_one()
        from portal.exporting.formats.base import FormatOptions
        assert FormatOptions.from_mapping(profile.options).line_terminator == "\n"
    page.goto(f"{base}/profiles/{profile.id}/edit")  # and it shows as chosen when the profile is opened again
    expect(page.locator("select[name=line_terminator]")).to_have_value("lf")
