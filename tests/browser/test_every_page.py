"""Every page of every role, dialogs opened too, in a real browser: axe-core finds no serious or critical
violation, the console stays clean, and every asset of the page's own loads (favicon included).

Runtime on two cores: each role's pages are checked once, in a language that rotates from page to page
(so every page meets every language across the roles and runs), and test_screens.py shows the main pages
in all four languages. A summary of every violation found (all impacts) goes to
test-artifacts/axe-summary.json.
"""
import json
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.config import ROOT
from portal.exporting import windows
from portal.extensions import db
from portal.models import IntegrationAccount, Payment
from portal.models.exporting import ReportItem

from tests.browser.checks import BLOCKING_IMPACTS, BLOCKING_RULES, axe_violations, own_assets_load
from tests import factories

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
LANGUAGES = ("en", "nl", "sv", "da")


def _previous_month_day(day):
    start, _end = windows.window("previous_month")
    return datetime(start.year, start.month, day, 11, 0)


@pytest.fixture
def portal_data(app, users):
    """Profiles of three kinds, an executed run (files, prepared rows), a run with report errors, a
    scheduled run, an integration account: enough for every page to show what it is for."""
    from portal.exporting.services import start_run
    with app.app_context():
        company = factories.company()
        factories.company("TEST", "Testbedrijf B.V.", is_test=True)
        factories.debtors(company, 3, blocked=(1,))
        for i in range(30):
            db.session.add(Payment(company_id=company.id, receipt_number=f"R{i:05d}", customer_number=f"C{i % 4}",
                                   customer_name=f"Klant {i % 4}", payment_type="CARD",
                                   amount=Decimal("1250.50") + i, paid_at=_previous_month_day(1 + i % 25)))
        db.session.commit()
        payments = factories.profile("Kassabetalingen", export_type="payments", sync_type="incremental_all")
        journals = factories.profile("Lönejournal")
        invoices = factories.profile("Facturen", export_type="invoices")
        window = windows.window("previous_month")
        run = start_run(payments.id, user=db.session.get(factories.User, users["staff"]), mode="production",
                        window_start=window[0], window_end=window[1], locale="en")
        run = factories.run_job(run.id)
        assert run.status == "exported", run.error_reason
        bad = factories.run(journals, status="partially_processed", counts={"records": 3, "processed": 2, "errors": 1})
        db.session.add(ReportItem(run_id=bad.id, record_key="ZORG-PAY-2026-10/7", severity="error",
                                  code="journal_unbalanced", params={"company": "ZORG", "period": "2026-10",
                                                                     "debit": "137401.06", "credit": "137400.06"}))
        scheduled = factories.run(invoices, status="scheduled", mode="production",
                                run_at=datetime.now() + timedelta(days=1))
        # A monthly schedule that has made a run (the clock moved past its start), and staff subscribed to
        # failed exports with one unread notification (issue 12's pages).
        from portal.notifications import services as notifications
        from portal.schedules import services as schedules
        schedule = schedules.save_schedule(payments.id, now=datetime(2026, 11, 26, 12), frequency="monthly", day=3,
                                           hour=6, window="previous_month", locale="en")
        schedules.run_due_schedules(now=datetime(2026, 12, 3, 5, 1))
        notifications.set_subscriptions(db.session.get(factories.User, users["staff"]), journals.id, ["run_failed"])
        factories.run(journals, status="failed", finished_at=datetime.now())
        notifications.notify_events()
        account = IntegrationAccount(name="Visma.net Zorggroep", provider="visma_net", wizard_step="authorise")
        db.session.add(account)
        db.session.commit()
        return {"payments": payments.id, "journals": journals.id, "invoices": invoices.id, "run": run.id,
                "bad": bad.id, "scheduled": scheduled.id, "account": account.id, "user": users["staff"],
                "schedule": schedule.id}


# (what, path or None for a dialog, how to open the dialog: (page path, link text)).
# Paths use the ids of ``portal_data``.
PAGES = {
    None: [
        ("sign-in", "/auth/login", None),
        ("not-found", "/no-such-page", None),
    ],
    "staff": [
        ("home", "/", None),
        ("export-management", "/profiles/", None),
        ("start-dialog", None, ("/profiles/", "start-first")),
        ("start-page", "/profiles/{payments}/start", None),
        ("start-invoices-page", "/profiles/{invoices}/start", None),
        ("profile", "/profiles/{payments}", None),
        ("show-exports", "/profiles/{payments}/runs", None),
        ("run", "/runs/{run}", None),
        ("run-with-errors", "/runs/{bad}", None),
        ("scheduled-run", "/runs/{scheduled}", None),
        ("prepared-page", "/runs/{run}/prepared", None),
        ("prepared-dialog", None, ("/runs/{run}", "prepared")),
        ("history-page", "/profiles/{payments}/history", None),
        ("history-dialog", None, ("/runs/{run}", "history")),
        ("roll-back-page", "/runs/{run}/roll-back", None),
        ("roll-back-dialog", None, ("/runs/{run}", "roll-back")),
        ("scenarios", "/scenarios", None),
        ("scenarios-roll-back", "/scenarios?operation=roll_back", None),
        ("schedules", "/profiles/{payments}/schedules", None),
        ("new-schedule", "/profiles/{invoices}/schedules/new", None),
        ("edit-schedule", "/profiles/{payments}/schedules/{schedule}/edit", None),
        ("delete-schedule-page", "/profiles/{payments}/schedules/{schedule}/delete", None),
        ("delete-schedule-dialog", None, ("/profiles/{payments}/schedules", "main a[href$='/delete']")),
        ("notifications", "/notifications", None),
    ],
    "manager": [
        ("home", "/", None),
        ("overview", "/overview/", None),
        ("overview-filtered", "/overview/?status=partially_processed", None),
        ("export-management", "/profiles/", None),
        ("run-with-errors", "/runs/{bad}", None),
        ("overview-by-schedule", "/overview/?started_by=schedule", None),
        ("notifications", "/notifications", None),
    ],
    "consultant": [
        ("home", "/", None),
        ("new-profile", "/profiles/new", None),
        ("edit-profile", "/profiles/{payments}/edit", None),
        ("archive-profile-page", "/profiles/{payments}/archive", None),
        ("archive-profile-dialog", None, ("/profiles/{payments}/edit", "main a[href$='/archive']")),
        ("integration-accounts", "/integrations/", None),
        ("new-integration-account", "/integrations/new", None),
        ("integration-account", "/integrations/{account}", None),
        ("disconnect-page", "/integrations/{account}/disconnect", None),
        ("wizard-authorise", "/integrations/{account}/setup/authorise", None),
        ("production-confirmation", None, ("/profiles/", "production")),
    ],
    "admin": [
        ("home", "/", None),
        ("users", "/admin/users", None),
        ("new-user", "/admin/users/new", None),
        ("edit-user", "/admin/users/{user}", None),
        ("audit-log", "/admin/audit", None),
        ("sandbox", "/sandbox/", None),
        ("sandbox-requests", "/sandbox/requests", None),
        ("sandbox-mail", "/sandbox/mail", None),
    ],
}


def sign_in(page, base, who):
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", f"{who}@example.com")
    page.fill("input[name=password]", "demo")
    page.click("main button[type=submit]")
    expect(page.locator(".user-name")).to_be_visible()


def set_language(page, base, code):
    """The language switcher's POST (with the page's CSRF token), through the browser's own cookies."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = page.request.post(f"{base}/language", form={"locale": code, "csrf_token": token, "next": "/"})
    assert response.ok


def open_dialog(page, base, how, ids):
    """Open one of the page's dialogs as a person does: click its link, wait until it shows."""
    path, which = how
    page.goto(base + path.format(**ids))
    dialog = page.locator("dialog#dialog")
    if which == "start-first":
        page.locator("a[href*='/start']").first.click()
    elif which == "production":
        page.locator("a[href*='/start']").first.click()
        expect(dialog).to_be_visible()
        dialog.locator("input[name=mode][value=production]").check()
        dialog.locator("button[name=action][value=start]").click()
        expect(dialog.locator("#production-preview")).to_be_visible()
    elif which.startswith("main "):       # a selector: a confirmation's button (Delete, Archive …)
        page.locator(which).first.click()
    else:
        page.locator(f"#run-panel a[href$='/{which}'], #run-panel a[href*='/{which}?']").first.click()
    expect(dialog).to_be_visible()
    expect(page.locator("#dialog-title")).to_be_visible()


def check_pages(page, base, role, ids, offset, found):
    for index, (name, path, how) in enumerate(PAGES[role]):
        language = LANGUAGES[(index + offset) % len(LANGUAGES)]
        if role is None:
            page.goto(base + "/auth/login")
        set_language(page, base, language)
        if how:
            open_dialog(page, base, how, ids)
        else:
            page.goto(base + path.format(**ids))
        assert page.locator("html").get_attribute("lang") == {"en": "en-GB"}.get(language, language)
        label = f"{role or 'anonymous'}/{name}/{language}"
        violations = axe_violations(page, impacts=None)
        found[label] = violations
        problems = [f"{label}: axe {rule} ({impact}): {text} at {targets}"
                    for rule, impact, text, targets in violations if impact in BLOCKING_IMPACTS or rule in BLOCKING_RULES]
        problems += [f"{label}: {p}" for p in own_assets_load(page)]
        problems += [f"{label}: {p}" for p in page.watch.take()]
        yield problems


def _write_summary(found):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "axe-summary.json"
    summary = json.loads(path.read_text()) if path.exists() else {}
    summary.update({label: [{"rule": r, "impact": i, "help": h, "targets": t} for r, i, h, t in v]
                    for label, v in found.items()})
    path.write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return Counter(item[1] for v in found.values() for item in v)


@pytest.mark.parametrize("role", [None, "staff", "manager", "consultant", "admin"])
def test_every_page_passes_axe_with_a_clean_console(app, live_server, page, portal_data, role):
    base = live_server.url
    app.config["ENV_NAME"] = "demo"  # the sign-in page as the demo shows it (with its hint)
    if role:
        sign_in(page, base, role)
    offset = [None, "staff", "manager", "consultant", "admin"].index(role)
    found = {}
    problems = [p for batch in check_pages(page, base, role, portal_data, offset, found) for p in batch]
    impacts = _write_summary(found)
    assert not problems, f"{len(problems)} problems ({dict(impacts)} violations of any impact):\n" + "\n".join(problems)
