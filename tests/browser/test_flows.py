"""Whole flows as a person does them, in Debian's Chromium, with a real worker and real Redis.
Screenshots of the main pages go to test-artifacts/."""
import csv
import io
import re
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.config import ROOT
from portal.exporting import windows
from portal.extensions import db
from portal.models import Payment
from portal.models.exporting import PreparedRow, ReportItem, Run

from tests import factories

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base, who, language=None):
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", f"{who}@example.com")
    page.fill("input[name=password]", "demo")
    page.click("main button[type=submit]")
    expect(page.locator(".user-name")).to_be_visible()
    if language:
        # The switcher submits itself once portal.js has run (it marks <html> "js"); then wait for that page.
        expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
        with page.expect_navigation():
            page.select_option("#locale-select", language)
        expect(page.locator("html")).to_have_attribute("lang", language)


def wait_for_run(app, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            run = db.session.execute(db.select(Run).order_by(Run.id.desc())).scalars().first()
            if run is not None and predicate(run):
                return run
        time.sleep(0.2)
    raise AssertionError("the run did not get there in time")


def last_month_day(day=10, hour=11):
    start, _end = windows.window("previous_month")
    return datetime(start.year, start.month, day, hour, 0)


@pytest.fixture
def payments(app, users):
    with app.app_context():
        c = factories.company()
        for i in range(40):
            db.session.add(Payment(company_id=c.id, receipt_number=f"R{i:05d}", customer_number=f"C{i % 4}",
                                   customer_name=f"Klant {i % 4}", payment_type="CARD", amount=Decimal("12.50") + i,
                                   paid_at=last_month_day(1 + i % 25)))
        db.session.commit()
        return factories.profile("Kassabetalingen", export_type="payments", fmt="csv",
                               sync_type="incremental_all").id


def test_staff_start_a_test_export_in_dutch_and_download_file_and_report(app, live_server, page, worker, payments):
    base = live_server.url
    sign_in(page, base, "staff", "nl")
    page.click("text=Beheer Export")
    expect(page.locator("h1")).to_have_text("Beheer Export")
    shot(page, "profiles-nl")
    page.click("text=Start export >> nth=0")
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#dialog-title")).to_be_focused()
    expect(dialog.locator("text=Tijdvenster")).to_be_visible()
    expect(dialog.locator("input[name=mode][value=test]")).to_be_checked()
    dialog.locator("label:has-text('Vorige maand')").click()
    shot(page, "start-export-dialog-nl")
    dialog.locator("button:has-text('Start export')").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    expect(page.locator("#run-panel")).to_contain_text("Geëxporteerd", timeout=60000)
    expect(page.locator("main")).not_to_contain_text("De export is gestart.")  # the started banner is gone
    # The run's attempts, in Dutch: one, by the worker, completed.
    attempts = page.locator("table.attempts")
    expect(attempts.locator("th").first).to_have_text("Poging")
    expect(attempts.locator("tbody tr")).to_have_count(1)
    expect(attempts.locator("tbody tr td").last).to_have_text("Voltooid")
    shot(page, "run-finished-nl")
    with page.expect_download() as download_info:
        page.locator(".file-list a").first.click()
    content = open(download_info.value.path(), encoding="utf-8-sig").read()
    assert "R00000" in content and len(content.strip().splitlines()) == 41  # header + 40 payments
    with page.expect_download() as report_info:
        page.click("text=Rapport downloaden (CSV)")
    report = list(csv.reader(io.StringIO(open(report_info.value.path(), encoding="utf-8-sig").read())))
    assert report[0][0] == "Ernst"  # the report's headers in Dutch
    run = wait_for_run(app, lambda r: r.status == "exported")
    assert run.mode == "test"


def test_staff_schedule_a_production_run_for_tomorrow_and_cancel_it(app, live_server, page, worker, payments):
    base = live_server.url
    sign_in(page, base, "staff")
    page.goto(f"{base}/profiles/")
    page.click("text=Start export >> nth=0")
    dialog = page.locator("dialog#dialog")
    dialog.locator("label:has-text('Production export')").click()
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:30")
    dialog.locator("input[name=run_at]").fill(tomorrow)
    dialog.locator("button:has-text('Start export')").click()
    expect(dialog.locator("#production-preview")).to_contain_text("What will be recorded")
    shot(page, "production-confirmation")
    dialog.locator("button:has-text('Yes, start the production export')").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    expect(page.locator("#run-panel")).to_contain_text("Scheduled: starts at")
    expect(page.locator("#run-panel")).to_contain_text("Europe/Amsterdam, UTC+0")
    shot(page, "scheduled-run")
    page.click("text=Cancel scheduled export")
    dialog = page.locator("dialog#dialog")          # it asks first, saying what cancelling does
    expect(dialog.locator("#dialog-title")).to_be_focused()
    expect(dialog).to_contain_text("The export does not start: nothing is prepared or delivered.")
    with page.expect_navigation():
        dialog.locator("button:has-text('Yes, cancel the export')").click()
    expect(page.locator("#run-panel")).to_contain_text("Cancelled")
    run = wait_for_run(app, lambda r: True)
    assert run.mode == "production" and run.status == "cancelled" and run.run_at is not None


def test_manager_filters_the_overview_in_swedish_and_opens_a_report_with_errors(app, live_server, page, users):
    with app.app_context():
        journals = factories.profile("Lönejournal")
        invoices = factories.profile("Fakturor till Visma", export_type="invoices")
        for i in range(12):
            factories.run(journals, status="exported", started_at=datetime(2026, 11, 1) + timedelta(days=i))
        bad = factories.run(invoices, status="partially_processed", counts={"records": 3, "processed": 2, "errors": 1},
                          started_at=datetime(2026, 11, 15, 10))
        db.session.add(ReportItem(run_id=bad.id, record_key="INV000007", severity="error", code="debtor_blocked",
                                  params={"debtor": "10002", "record": "INV000007"}))
        db.session.commit()
    base = live_server.url
    sign_in(page, base, "manager", "sv")
    page.click("text=Översikt")
    expect(page.locator("h1")).to_have_text("Översikt över alla exporter")
    expect(page.locator("#results")).to_contain_text("13 exporter matchar")
    shot(page, "overview-sv")
    page.select_option("#f-status", "partially_processed")
    expect(page.locator("#results")).to_contain_text("1 export matchar")  # the singular in Swedish
    assert "status=partially_processed" in page.url  # the filter is in the address: a link to share
    expect(page.locator("#results .warning-triangle")).to_be_visible()
    page.locator("#results table a:has-text('Delvis bearbetad')").click()
    expect(page.locator("table.report")).to_contain_text("INV000007")
    expect(page.locator("table.report")).to_contain_text("10002")
    shot(page, "report-with-errors-sv")


def test_consultant_prepares_unticks_exports_sees_history_and_rolls_back_in_danish(app, live_server, page, worker,
                                                                                   payments):
    base = live_server.url
    sign_in(page, base, "consultant", "da")
    page.click("text=Scenarier")
    page.select_option("#operation", "prepare")
    expect(page.locator("#scenario-table")).to_contain_text("Kassabetalingen")
    page.check("#scenario-table input[name=profiles]")
    shot(page, "scenarios-da")
    with page.expect_navigation():  # Process posts the form; let that page load before going on
        page.click("button:has-text('Behandl') >> nth=0")
    run = wait_for_run(app, lambda r: r.status in ("prepared", "failed"))
    assert run.status == "prepared", run.error_reason

    # Prepared data: untick the first row, Close saves it.
    page.goto(f"{base}/scenarios?operation=export")
    page.click("text=Forberedte data")
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    first = dialog.locator("input[name=active]").first
    first.uncheck()
    shot(page, "prepared-data-da")
    with page.expect_navigation():      # Close saves, then the portal sends the whole page on (HX-Redirect)
        dialog.locator("button:has-text('Luk')").click()
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(PreparedRow)
                                  .where(PreparedRow.active.is_(False))).scalar_one() == 1

    page.goto(f"{base}/scenarios?operation=export")
    page.check("#scenario-table input[name=profiles]")
    page.click("button:has-text('Behandl') >> nth=0")
    dialog = page.locator("dialog#dialog")          # a production export asks first: which, over what, where
    expect(dialog.locator("#dialog-title")).to_have_text("Eksporter disse scenarier?")
    expect(dialog).to_contain_text("Kassabetalingen")
    with page.expect_navigation():
        dialog.locator("button:has-text('Ja, eksporter 1 scenarie')").click()
    run = wait_for_run(app, lambda r: r.status in ("exported", "failed", "partially_processed"))
    # The unticked row was not delivered and can still be ticked and exported: Partially processed
    # (seed 000, as Visma.net's Schedule export scenarios).
    assert run.status == "partially_processed", run.error_reason
    assert run.counts["processed"] == 39

    page.goto(f"{base}/scenarios?operation=roll_back")
    page.click("text=Historik")
    expect(page.locator("#history-table")).to_contain_text("Delvist behandlet")
    shot(page, "history-da")
    page.keyboard.press("Escape")
    expect(page.locator("dialog#dialog")).not_to_be_visible()

    page.check("#scenario-table input[name=profiles]")
    page.click("button:has-text('Behandl') >> nth=0")
    dialog = page.locator("dialog#dialog")
    expect(dialog.locator("#dialog-title")).to_have_text("Rul disse scenarier tilbage?")
    expect(dialog).to_contain_text("De 39 poster, som denne produktionseksport registrerede")
    shot(page, "roll-back-confirmation-da")
    dialog.locator("button:has-text('Rul tilbage')").click()
    run = wait_for_run(app, lambda r: r.status == "rolled_back", timeout=10)
    assert run.operation == "roll_back"
