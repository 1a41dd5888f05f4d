"""Notifications by e-mail through a real SMTP server on this machine: one mail per event and
subscriber, in the recipient's language, with the run's facts and link; never twice; the SMTP server
down, then up: one mail. And the home page's unread notifications until the run is opened."""
from datetime import datetime, timedelta

from portal.exporting import jobs, services as engine
from portal.extensions import db
from portal.models import Permission, User, utcnow
from portal.models.exporting import RunStatus
from portal.notifications import services
from portal.notifications.models import Notification, OutboxMail
from portal.schedules import services as schedules

from tests import factories

from .conftest import Smtp, execute, use_smtp


def _user(email, locale, permissions=(Permission.IMPORT_EXPORT,)):
    user = User(email=email, name=email.split("@")[0].title(), locale=locale)
    user.permissions = permissions
    user.set_password("demo")
    db.session.add(user)
    db.session.commit()
    return user


def _profile():
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    return engine.create_profile(name="Kassabetalningar", export_type="payments", options={"format": "jsonl"})


def _failed_run(profile):
    run = engine.start_run(profile.id, mode="test", window_start="2026-11-01", window_end="2026-11-30")
    assert jobs.fail_run(run.id, "Disken är full", statuses=[RunStatus.QUEUED])
    return run


def test_a_failed_run_mails_each_subscriber_once_in_their_language(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    dirk = _user("dirk@example.com", "nl", permissions=(Permission.VIEW_EXPORTS,))
    _user("nobody@example.com", "da")                                 # not subscribed: no mail
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    services.set_subscriptions(dirk, None, ["run_failed"])             # a manager: every profile
    run = _failed_run(profile)

    assert services.tick() == {"notified": 2, "sent": 2, "failed": 0}
    assert services.tick() == {"notified": 0, "sent": 0, "failed": 0}   # never twice
    mails = {m["to"]: m for m in smtp.received()}
    assert sorted(mails) == ["dirk@example.com", "sven@example.com"]
    swedish = mails["sven@example.com"]
    assert swedish["subject"] == "Exporten misslyckades: Kassabetalningar"
    assert f"Export {run.id} av Kassabetalningar misslyckades." in swedish["body"]
    assert "Orsak: Disken är full" in swedish["body"]
    assert f"https://portal.example.com/runs/{run.id}" in swedish["body"]
    assert mails["dirk@example.com"]["subject"] == "Export mislukt: Kassabetalningen".replace("Kassabetalningen",
                                                                                            "Kassabetalningar")
    assert [n.run_id for n in services.unread(sven.id)] == [run.id]


def test_smtp_down_then_up_sends_one_mail(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    _failed_run(profile)
    smtp.stop()
    now = utcnow()
    assert services.tick(now) == {"notified": 1, "sent": 0, "failed": 1}
    item = db.session.query(OutboxMail).one()
    assert item.state == "pending" and item.attempts == 1 and item.next_attempt_at == now + timedelta(minutes=1)
    assert "ConnectionRefusedError" in item.last_error
    # Not due yet: nothing is tried.
    assert services.send_outbox(now + timedelta(seconds=30)) == (0, 0)
    smtp.start()
    assert services.send_outbox(now + timedelta(minutes=1)) == (1, 0)
    assert services.send_outbox(now + timedelta(minutes=5)) == (0, 0)
    assert len(smtp.received()) == 1
    db.session.refresh(item)
    assert item.state == "sent" and item.attempts == 2


def test_two_senders_racing_send_one_mail(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    _failed_run(profile)
    services.notify_events()
    now = utcnow()
    # The second sender's claim (compare-and-set) finds the mail no longer pending.
    assert services.send_outbox(now) == (1, 0)
    db.session.execute(db.update(OutboxMail).values(state="sending", claimed_at=now))
    db.session.commit()
    assert services.send_outbox(now + timedelta(minutes=1)) == (0, 0)    # claimed a minute ago: not stale
    assert len(smtp.received()) == 1


def test_production_finished_and_a_skipped_scheduled_start(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    anna = _user("anna@example.com", "da")
    services.set_subscriptions(anna, profile.id, ["production_finished", "schedule_skipped"])
    run = engine.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    execute(run)
    schedules.save_schedule(profile.id, now=datetime(2026, 11, 26, 12), frequency="daily", hour=6,
                            window="previous_day", mode="production", locale="da")
    # A production run is still active when the start comes: skipped, and said so.
    active = engine.start_run(profile.id, mode="production", window_start="2026-10-01", window_end="2026-10-31")
    assert [s.state for s in schedules.run_due_schedules(now=datetime(2026, 11, 27, 5, 0))] == ["skipped"]
    assert services.tick()["sent"] == 2
    subjects = sorted(m["subject"] for m in smtp.received())
    assert subjects == ["Planlagt start sprunget over: Kassabetalningar",
                        "Produktionseksport færdig: Kassabetalningar"]
    skipped = [m for m in smtp.received() if m["subject"].startswith("Planlagt")][0]
    assert f"{active.id}" in skipped["body"] and "/profiles/" in skipped["body"]


def test_no_mail_without_smtp_but_the_notification_is_shown(ctx):
    ctx.config.update(SMTP_HOST="")
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    run = _failed_run(profile)
    assert services.tick() == {"notified": 1, "sent": 0, "failed": 0}
    assert db.session.query(OutboxMail).count() == 0
    assert services.mark_run_read(sven.id, run.id) == 1
    assert services.unread(sven.id) == []
    assert db.session.query(Notification).one().read_at is not None


def test_a_stopped_sync_mails_the_providers_message_as_it_came(ctx, smtp):
    from portal.models.visma_delivery import SyncStop
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    services.set_subscriptions(sven, profile.id, ["sync_stopped"])
    run = _failed_run(profile)
    db.session.add(SyncStop(profile_id=profile.id, run_id=run.id, record_key="PAY-7",
                            message="Error: Customer 10042 is on hold."))
    db.session.commit()
    assert services.tick()["sent"] == 1
    (mail,) = smtp.received()
    assert mail["subject"] == "Synkronisering stoppad: Kassabetalningar"
    assert "Mottagarens meddelande: Error: Customer 10042 is on hold." in mail["body"]


def test_the_workers_maintenance_timer_runs_the_sender(ctx, smtp):
    from portal import maintenance
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    _failed_run(profile)
    assert maintenance.run_due(ctx, owner="w", only={"notifications"}) == {
        "notifications": {"notified": 1, "sent": 1, "failed": 0}}
    assert len(smtp.received()) == 1


def test_the_date_header_has_the_organisations_offset_not_an_unknown_zone(ctx, smtp):
    """RFC 5322: ``-0000`` says the sender's local zone is unknown. The mail is dated with the
    organisation's offset (Europe/Amsterdam: +0100 in winter, +0200 in summer), at the moment it is sent."""
    from datetime import timezone
    from email.utils import parsedate_to_datetime
    from zoneinfo import ZoneInfo
    amsterdam = ZoneInfo(ctx.config["PORTAL_TIMEZONE"])
    assert amsterdam.key == "Europe/Amsterdam"
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", "sv")
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    _failed_run(profile)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert services.tick()["sent"] == 1
    after = datetime.now(timezone.utc)
    [mail] = smtp.received()
    assert not mail["date"].endswith("-0000"), mail["date"]
    sent = parsedate_to_datetime(mail["date"])
    assert before <= sent <= after
    assert sent.utcoffset() == sent.astimezone(amsterdam).utcoffset()
    assert services.mail_date(datetime(2026, 1, 15, 7, 0, tzinfo=timezone.utc)).endswith("08:00:00 +0100")
    assert services.mail_date(datetime(2026, 7, 15, 6, 0, tzinfo=timezone.utc)).endswith("08:00:00 +0200")
