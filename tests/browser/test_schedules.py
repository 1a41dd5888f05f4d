"""Issue 12's whole flow in Debian's Chromium: a staff member creates a monthly production schedule in
Swedish and subscribes to finished production exports; the test moves the injectable clock (the tick's
``now``, not sleeps) past the start; a real worker runs the export and sends the e-mail through a real
SMTP server on this machine; the mail arrived in Swedish (/sandbox/mail), and Show exports, the overview
and the home page say a schedule started it."""
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Payment, User
from portal.models.exporting import Run
from portal.schedules import services as schedules
from portal.schedules.models import Schedule

from tests.exporting.test_worker import _start_worker, _stop
from tests.notifications.conftest import Smtp, use_smtp
from tests import factories

from .test_flows import shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp(tmp_path):
    server = Smtp(tmp_path / "maildir")
    server.start()
    yield server
    server.stop()


def _wait(predicate, what, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen in time")


def test_monthly_schedule_in_swedish_runs_and_mails_in_swedish(app, live_server, page, users, smtp):
    base = live_server.url
    use_smtp(app, smtp)
    app.config["PORTAL_BASE_URL"] = base
    today = date.today()
    with app.app_context():
        company = factories.company()
        # Payments in this month: the window of a start on the 3rd of next month ("previous month").
        for i in range(12):
            db.session.add(Payment(company_id=company.id, receipt_number=f"R{i:05d}", customer_number=f"C{i % 3}",
                                   customer_name=f"Kund {i % 3}", payment_type="CARD", amount=Decimal("10.00") + i,
                                   paid_at=datetime(today.year, today.month, 1 + i % 20, 10, 0)))
        db.session.commit()
        profile_id = factories.profile("Kassabetalningar", export_type="payments", fmt="csv").id
    worker = _start_worker(app, TEST_SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), MAIL_FROM="portal@example.com",
                           PORTAL_BASE_URL=base, PORTAL_NOTIFICATIONS_TICK_SECONDS="0.5")
    try:
        sign_in(page, base, "staff", "sv")
        page.goto(f"{base}/profiles/{profile_id}")
        page.click("text=Scheman")
        expect(page.locator("h1")).to_have_text("Scheman för Kassabetalningar")
        page.click("text=Nytt schema")
        page.check("input[name=frequency][value=monthly]")
        page.select_option("#day", "3")
        page.fill("#time", "06:00")
        page.select_option("#window", "previous_month")
        page.check("input[name=mode][value=production]")
        expect(page.locator("main")).to_contain_text("Sommartid")
        shot(page, "schedule-form-sv")
        page.click("text=Spara schema")
        expect(page.locator(".flash")).to_contain_text("Schemat är sparat. Nästa start:")
        expect(page.locator("table")).to_contain_text("Varje månad den 3 kl. 06:00")
        shot(page, "schedules-sv")

        page.goto(f"{base}/notifications")
        subscription = page.locator("fieldset.subscription", has_text="Kassabetalningar")
        subscription.get_by_label("En produktionsexport är klar").check()
        page.locator("form.subscriptions").get_by_role("button", name="Spara").click()
        expect(page.locator(".flash")).to_contain_text("Dina aviseringar är sparade.")

        # Move the clock past the start: the tick, as the worker calls it, with an injected now.
        with app.app_context():
            schedule = db.session.query(Schedule).one()
            due = schedule.next_start_at
            assert due.date().day in (2, 3)                       # 06:00 on the 3rd in Amsterdam, in UTC
            assert schedules.run_due_schedules(now=due - timedelta(minutes=1)) == []
            made = schedules.run_due_schedules(now=due + timedelta(minutes=1))
            assert [s.state for s in made] == ["started"]
            run_id = made[0].run_id

        def exported():
            with app.app_context():
                run = db.session.get(Run, run_id)
                return run if run.status == "exported" else None
        run = _wait(exported, "the scheduled run")
        assert run.mode == "production" and run.window_start == today.replace(day=1)
        mails = _wait(smtp.received, "the e-mail")
        assert len(mails) == 1

        page.goto(f"{base}/sandbox/mail")
        mail = page.locator("article.mail")
        expect(mail.locator("h2")).to_have_text("Produktionsexport klar: Kassabetalningar")
        expect(mail).to_contain_text(f"Produktionsexport {run_id} av Kassabetalningar är klar.")
        expect(mail).to_contain_text("Startad av: schema Varje månad den 3 kl. 06:00")
        expect(mail).to_contain_text(f"{base}/runs/{run_id}")
        shot(page, "sandbox-mail-sv")

        page.goto(f"{base}/profiles/{profile_id}/runs")
        expect(page.locator("table.runs")).to_contain_text("schema Varje månad den 3 kl. 06:00")
        shot(page, "show-exports-scheduled-sv")

        page.goto(f"{base}/")
        expect(page.locator("#unread-heading")).to_have_text("Olästa aviseringar")
        page.click(f"a[href='/runs/{run_id}']")
        expect(page.locator("main")).to_contain_text("schema Varje månad den 3 kl. 06:00")
        page.goto(f"{base}/")
        expect(page.locator("#unread-heading")).to_have_count(0)
    finally:
        _stop(worker)
    with app.app_context():
        assert db.session.query(Run).count() == 1
    # The worker's next passes sent nothing more.
    assert len(smtp.received()) == 1


def test_the_overview_filter_in_the_browser(app, live_server, page, users):
    base = live_server.url
    with app.app_context():
        profile = factories.profile("Kassa", export_type="payments", fmt="csv")
        factories.run(profile, status="exported")
        schedules.save_schedule(profile.id, now=datetime(2026, 11, 26, 12), frequency="weekly", weekday=0, hour=7,
                                window="previous_week")
        made = schedules.run_due_schedules(now=datetime(2026, 11, 30, 6, 1))
        assert made[0].state == "started"
        db.session.query(User).filter_by(email="manager@example.com").one().locale = "da"
        db.session.commit()
    sign_in(page, base, "manager")
    page.goto(f"{base}/overview/")
    page.select_option("#f-starter", "schedule")
    page.click(".filter-actions button[type=submit]")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    expect(page.locator("table.runs")).to_contain_text("tidsplan Ugentligt om mandagen kl. 07.00")
