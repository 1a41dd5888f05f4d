"""Screen reader and keyboard on pages that htmx updates: the run page announces a change of status or
phase only (not every progress tick), and sorting the overview from the keyboard keeps focus on the
heading's link. Both pages pass axe."""
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.base import utcnow
from portal.models.exporting import Run

from tests import factories
from tests.browser.checks import axe_violations, watched_page
from tests.browser.test_every_page import sign_in

pytestmark = pytest.mark.browser


def _update(app, run_id, **values):
    with app.app_context():
        run = db.session.get(Run, run_id)
        for key, value in values.items():
            setattr(run, key, value)
        db.session.commit()


def test_the_run_page_announces_only_a_change_of_status(app, live_server, browser, users):
    with app.app_context():
        now = utcnow()
        run_id = factories.run(factories.profile(), status="exporting", phase="exporting", done=100, total=1000,
                               counts={}, phase_started_at=now - timedelta(seconds=10), progress_at=now).id
    base = live_server.url
    with watched_page(browser) as page:
        sign_in(page, base, "staff")
        page.goto(f"{base}/runs/{run_id}")
        live = page.locator("#run-live")
        assert live.get_attribute("role") == "status"
        # The panel is outside every live region: its swaps are not read out.
        assert page.locator("#run-panel").evaluate("p => p.closest('[aria-live], [role=status], [role=log]')") is None
        assert axe_violations(page, impacts=None) == []
        # A progress tick swaps the panel and announces nothing.
        _update(app, run_id, done=400, progress_at=utcnow())
        expect(page.locator("#run-panel")).to_contain_text("400 of 1,000 records", timeout=10000)
        expect(live).to_have_text("")
        # The run ends: the status is announced, once.
        _update(app, run_id, done=1000, status="exported", finished_at=utcnow())
        expect(live).to_have_text("Status: Exported", timeout=10000)
        expect(page.locator("#run-panel")).not_to_have_attribute("hx-trigger", "load delay:1s")
        assert axe_violations(page, impacts=None) == []


def test_sorting_the_overview_keeps_focus_on_the_headings_link(app, live_server, browser, users):
    with app.app_context():
        for i, name in enumerate(("Bravo", "Alfa", "Charlie")):
            factories.run(factories.profile(name), status="exported", started_at=datetime(2026, 11, 1) + timedelta(days=i))
    base = live_server.url
    with watched_page(browser) as page:
        sign_in(page, base, "manager")
        page.goto(f"{base}/overview/")
        link = page.locator("#results th a", has_text="Export profile")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#results th[aria-sort]")).to_contain_text("Export profile")
        # (the link with the same id gets focus back when the swap has settled)
        page.wait_for_function("document.activeElement && document.activeElement.id === 'sort-profile'")
        page.keyboard.press("Enter")    # again: the other direction, focus still there
        expect(page.locator("#results th[aria-sort='descending']")).to_contain_text("Export profile")
        # (the link with the same id gets focus back when the swap has settled)
        page.wait_for_function("document.activeElement && document.activeElement.id === 'sort-profile'")
        assert axe_violations(page, impacts=None) == []
