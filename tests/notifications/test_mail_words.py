"""The mails' words and formats (issue 10, fixc): English in the portal's English (day/month/year, 24-hour
time, as the pages), the footer naming the Notifications page with its link, and one mail for a stop."""
import re
from datetime import datetime

from portal.exporting import services as engine
from portal.extensions import db
from portal.models import utcnow
from portal.models.visma_delivery import SyncStop
from portal.notifications import services
from portal.schedules import services as schedules

from .conftest import execute, use_smtp
from .test_outbox import _failed_run, _profile, _user


def test_english_mails_use_the_portals_english_formats(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    eve = _user("eve@example.com", "en")
    services.set_subscriptions(eve, profile.id, ["run_failed", "schedule_skipped"])
    _failed_run(profile)
    schedules.save_schedule(profile.id, now=datetime(2026, 11, 26, 12), frequency="daily", hour=23, minute=4,
                            window="previous_day", mode="production", locale="en")
    engine.start_run(profile.id, mode="production", window_start="2026-10-01", window_end="2026-10-31")
    assert [s.state for s in schedules.run_due_schedules(now=datetime(2026, 11, 26, 22, 5))] == ["skipped"]
    assert services.tick()["sent"] == 2
    bodies = "\n".join(m["body"] for m in smtp.received())
    assert "Time window: 01/11/2026 – 30/11/2026" in bodies
    assert "Start time: 26/11/2026, 23:04" in bodies
    assert not re.search(r"\d+/\d+/\d\d\b|[AP]M", bodies)


def test_the_footer_names_the_notifications_page_and_links_it(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    for email, locale, words in [("eve@example.com", "en", "change them on the Notifications page"),
                                 ("dirk@example.com", "nl", "wijzig dat op de pagina Meldingen"),
                                 ("sven@example.com", "sv", "ändra det på sidan Aviseringar"),
                                 ("anna@example.com", "da", "skift det på siden Notifikationer")]:
        services.set_subscriptions(_user(email, locale), profile.id, ["run_failed"])
    _failed_run(profile)
    services.tick()
    mails = smtp.received()
    assert len(mails) == 4
    for mail in mails:
        assert "https://portal.example.com/notifications" in mail["body"]
        assert "export profile's page" not in mail["body"] and "exportprofiel" not in mail["body"]
    bodies = "\n".join(m["body"] for m in mails)
    for words in ("change them on the Notifications page", "wijzig dat op de pagina Meldingen",
                  "ändra det på sidan Aviseringar", "skift det på siden Notifikationer"):
        assert words in bodies


def test_a_stopped_sync_sends_one_mail_that_says_it_stopped(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    both = _user("both@example.com", "en")
    finished_only = _user("finished@example.com", "en")
    services.set_subscriptions(both, profile.id, ["production_finished", "sync_stopped"])
    services.set_subscriptions(finished_only, None, ["production_finished"])
    run = engine.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    execute(run)
    # The pass stopped, as the engine records it: the stop, and the pass's counts (a real stop through
    # Visma.net: tests/exporting/visma_net/test_system_message.py).
    run = db.session.get(type(run), run.id)
    run.counts = {**run.counts, "stopped_on_error": True}
    db.session.add(SyncStop(profile_id=profile.id, run_id=run.id, record_key="PAY-7", stopped_at=utcnow(),
                            message="Error: Customer 10042 is on hold."))
    db.session.commit()
    services.tick()
    subjects = sorted((m["to"], m["subject"]) for m in smtp.received())
    assert subjects == [("both@example.com", "Sync stopped: Kassabetalningar"),
                        ("finished@example.com", "Sync stopped: Kassabetalningar")]
    assert services.tick()["sent"] == 0


def test_a_production_run_without_a_stop_still_says_it_finished(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    both = _user("both@example.com", "en")
    services.set_subscriptions(both, profile.id, ["production_finished", "sync_stopped"])
    run = engine.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    execute(run)
    services.tick()
    assert [m["subject"] for m in smtp.received()] == ["Production export finished: Kassabetalningar"]
