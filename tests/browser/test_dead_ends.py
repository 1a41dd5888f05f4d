"""Dead ends a person met in a real browser: each is walked through here as they would."""
import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.exporting import ExportProfile

from tests.browser.checks import watched_page
from tests.browser.test_every_page import sign_in
from tests import factories

pytestmark = pytest.mark.browser


def _csv_rows(download):
    return list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))


def test_the_overview_csv_is_what_the_table_shows_after_filtering_without_reload(app, live_server, page, users):
    with app.app_context():
        journals = factories.profile("Lönejournal")
        for i in range(5):
            factories.run(journals, status="exported", started_at=datetime(2026, 11, 1) + timedelta(days=i))
        factories.run(journals, status="failed", started_at=datetime(2026, 11, 10))
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
    with page.expect_response(lambda response: "/profiles/columns" in response.url):
        page.select_option("select[name=export_type]", "payments")  # htmx brings this type's options
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.select_option("select[name=line_terminator]", label="Unix (LF)")
    page.locator("main button[name=action][value=save]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    with app.app_context():
        profile = db.session.execute(db.select(ExportProfile).filter_by(name="Betalingen LF")).scalar_one()
        from portal.exporting.formats.base import FormatOptions
        assert FormatOptions.from_mapping(profile.options).line_terminator == "\n"
    page.goto(f"{base}/profiles/{profile.id}/edit")  # and it shows as chosen when the profile is opened again
    expect(page.locator("select[name=line_terminator]")).to_have_value("lf")


@pytest.fixture
def prepared_run(app, users):
    """A payments profile and a run of it that is prepared (its rows can still be ticked and unticked)."""
    from decimal import Decimal

    from portal.exporting.services import start_run
    from portal.models import Payment
    from portal.exporting import windows
    with app.app_context():
        window = windows.window("previous_month")
        company = factories.company()
        for i in range(12):
            db.session.add(Payment(company_id=company.id, receipt_number=f"R{i:05d}", customer_number="C1",
                                   customer_name="Klant", payment_type="CARD", amount=Decimal("10.00") + i,
                                   paid_at=datetime(window[0].year, window[0].month, 1 + i, 10)))
        db.session.commit()
        profile = factories.profile("Kassabetalingen", export_type="payments")
        run = start_run(profile.id, user=db.session.get(factories.User, users["staff"]), operation="prepare",
                        window_start=window[0], window_end=window[1], locale="en")
        run = factories.run_job(run.id)
        assert run.status == "prepared", run.error_reason
        return profile.id, run.id


def _runs(app):
    from portal.models.exporting import Run
    with app.app_context():
        return db.session.execute(db.select(Run).order_by(Run.id)).scalars().all()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_every_dialog_works_as_a_page_with_and_without_javascript(app, live_server, browser, prepared_run,
                                                                   javascript):
    """Opened directly (a new tab, a bookmark), Start export, the production confirmation and Prepared
    data are pages whose buttons work: they post as forms, never into a dialog the page lacks."""
    profile_id, run_id = prepared_run
    base = live_server.url
    with watched_page(browser, javascript) as page:
        sign_in(page, base, "staff")
        # Start export as a page: a test export starts and its page opens.
        page.goto(f"{base}/profiles/{profile_id}/start")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Start export")
        page.locator("main button[name=action][value=start]").click()
        page.wait_for_url(re.compile(r"/runs/\d+$"))
        assert _runs(app)[-1].mode == "test"

        # The production confirmation as a page: Yes starts the production export.
        page.goto(f"{base}/profiles/{profile_id}/start")
        page.locator("input[name=mode][value=production]").check()
        page.locator("main button[name=action][value=start]").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm production export")
        page.get_by_role("button", name="Yes, start the production export").click()
        page.wait_for_url(re.compile(r"/runs/\d+$"))
        assert _runs(app)[-1].mode == "production"

        # Prepared data as a page: the filter link and Close (which saves the ticks) work.
        page.goto(f"{base}/runs/{run_id}/prepared")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Prepared data")
        page.get_by_role("link", name="Show only rows with errors").click()
        expect(page.locator("main")).to_contain_text("No prepared rows.")
        page.get_by_role("link", name="Show all rows").click()
        page.locator("input[name=active]").first.uncheck()
        page.get_by_role("button", name="Close").click()
        page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
        from portal.models.exporting import PreparedRow
        with app.app_context():
            assert db.session.execute(db.select(db.func.count()).select_from(PreparedRow)
                                      .where(PreparedRow.active.is_(False))).scalar_one() == 1


def test_a_filter_chosen_after_sorting_the_overview_keeps_the_sort(app, live_server, page, users):
    with app.app_context():
        for name in ("Betalingen", "Facturen", "Artikelen"):
            profile = factories.profile(name)
            for i in range(2):
                factories.run(profile, status="failed" if i else "exported",
                              started_at=datetime(2026, 11, 1 + i, 9, len(name)))
    base = live_server.url
    sign_in(page, base, "manager")
    page.goto(f"{base}/overview/")
    page.locator("#results th a:has-text('Export profile')").click()    # names A to Z, first click
    expect(page.locator("#results th[aria-sort='ascending']")).to_contain_text("Export profile")
    page.select_option("#f-status", "failed")                         # htmx: only the results are swapped
    expect(page.locator("#results")).to_contain_text("3 exports match")
    expect(page.locator("#results th[aria-sort='ascending']")).to_contain_text("Export profile")
    names = page.locator("#results tbody tr td:nth-child(2)").all_inner_texts()
    assert [n.splitlines()[0] for n in names] == ["Artikelen", "Betalingen", "Facturen"]
    assert "sort=profile" in page.url and "status=failed" in page.url
