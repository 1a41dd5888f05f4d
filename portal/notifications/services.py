"""Notifications: subscriptions, the events found by the worker, and the e-mail outbox.

The worker finds events in the database (failed runs, finished production runs, stopped syncs, skipped
scheduled starts) rather than being told by the engine: an event is a row that exists, whoever wrote
it, so nothing is lost when a worker dies between the event and the mail. Each event becomes one
``Notification`` per subscriber (unique per user and event) and one ``OutboxMail`` (unique per
notification): never twice for one event. The sender claims a mail with a compare-and-set, sends it
through SMTP (Flask-Mailman) and retries with back-off while the server is down.
"""
import logging
import smtplib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from flask import current_app
from flask_babel import force_locale
from flask_mailman import EmailMessage, Mail
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..exporting.messages import stored_text
from ..extensions import db
from ..i18n import babel_locale, org_timezone
from ..models import Permission, User, utcnow
from ..models.exporting import ExportProfile, Run, RunStatus
from ..models.visma_delivery import SyncStop
from ..schedules.models import Schedule, ScheduleStart
from ..schedules.services import start_of_run
from .models import EVENTS, Notification, OutboxMail, Subscription

log = logging.getLogger(__name__)

mail = Mail()

# The events that only some profiles can have: the providers whose profiles can (a sync stops only where
# the portal delivers record by record to a provider that can refuse one: Visma.net).
EVENT_PROVIDERS = {"sync_stopped": ("visma_net",)}


def events_of(profile):
    """The events ``profile`` can have, to offer on the settings page (None: every profile, all events)."""
    if profile is None:
        return list(EVENTS)
    return [e for e in EVENTS if e not in EVENT_PROVIDERS or profile.provider in EVENT_PROVIDERS[e]]


# Events are looked for this far back (a worker that was down for a day still mails what happened).
LOOKBACK = timedelta(days=2)
RETRY_MINUTES = (1, 2, 5, 10, 30, 60)     # after the 1st, 2nd, … failed attempt; then every hour
MAX_ATTEMPTS = 24
SENDING_STALE = timedelta(minutes=10)     # a claim older than this (its worker died) is tried again


# --- subscriptions ------------------------------------------------------------------------------------

def subscriptions_of(user_id):
    return db.session.execute(select(Subscription).where(Subscription.user_id == user_id)).scalars().all()


def may_subscribe_all(user):
    """Managers (and consultants) may subscribe to every profile at once."""
    return user.can(Permission.VIEW_EXPORTS, Permission.MANAGE_EXPORTS)


def set_subscriptions(user, profile_id, events):
    """The user's events for one profile (``profile_id`` None: every profile) become ``events``."""
    save_subscriptions(user, {profile_id: events})


def save_subscriptions(user, chosen):
    """The settings page's one Save: ``chosen`` maps each profile shown (None: every profile) to its
    ticked events; all of them are saved together, so that no tick on the page is lost. What changed goes
    in the audit log (``notifications.update``), with each profile's name as it is now.

    An event is one subscription however often it is named. The unique indexes (``subscriptions_0001``)
    refuse a second one that another save of the same user made at the same moment: then this save is
    made again over what that one left, once."""
    for attempt in (1, 2):
        changes = []
        for profile_id, events in chosen.items():
            changes += _set_subscriptions(user, profile_id, events)
        if changes:
            audit.record(user, "notifications.update", _user(user), subscriptions=changes)
        try:
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise


def _user(user):
    return user if isinstance(user, User) else db.session.get(User, getattr(user, "id", user))


def _set_subscriptions(user, profile_id, events):
    """Returns what changed: [[profile name or None (every profile), event, True (on) or False (off)]]."""
    events = [e for e in dict.fromkeys(events) if e in EVENTS]     # a repeated tick subscribes once
    existing = db.session.execute(select(Subscription).where(
        Subscription.user_id == user.id,
        Subscription.profile_id.is_(None) if profile_id is None else Subscription.profile_id == profile_id)
    ).scalars().all()
    name = db.session.get(ExportProfile, profile_id).name if profile_id is not None else None
    changes = []
    for subscription in existing:
        if subscription.event not in events:
            db.session.delete(subscription)
            changes.append([name, subscription.event, False])
    have = {s.event for s in existing}
    for event in events:
        if event not in have:
            db.session.add(Subscription(user_id=user.id, profile_id=profile_id, event=event))
            changes.append([name, event, True])
            have.add(event)
    return changes


def subscribed_events(user_id, profile_id):
    return {s.event for s in db.session.execute(select(Subscription).where(
        Subscription.user_id == user_id,
        Subscription.profile_id.is_(None) if profile_id is None else Subscription.profile_id == profile_id))
        .scalars()}


# --- the user's notifications ----------------------------------------------------------------------------

def unread(user_id, limit=20):
    return db.session.execute(select(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
        .order_by(Notification.id.desc()).limit(limit)).scalars().all()


def mark_run_read(user_id, run_id, now=None):
    changed = db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.run_id == run_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())).rowcount
    if changed:
        db.session.commit()
    return changed


def mark_profile_read(user_id, profile_id, now=None):
    """Notifications without a run (a skipped start) are read when the user opens the schedules."""
    changed = db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.profile_id == profile_id, Notification.run_id.is_(None),
        Notification.read_at.is_(None)).values(read_at=now or utcnow())).rowcount
    if changed:
        db.session.commit()
    return changed


# --- events → notifications → outbox -------------------------------------------------------------------

def _events(since):
    """(event, key, profile id, run id, when, params) for everything that happened since ``since``."""
    found = []
    for run in db.session.execute(select(Run).where(
            Run.status == RunStatus.FAILED.value, Run.finished_at >= since)).scalars():
        found.append(("run_failed", f"run_failed:{run.id}", run.profile_id, run.id, run.finished_at,
                      _reason_params(run.error_reason, run.error_message)))
    # A pass that ended because the sync stopped is told once, by the stop's mail ("Sync stopped"), not
    # also as a finished production export. Whether the latest pass stopped is what the engine wrote when
    # it ended it (``counts["stopped_on_error"]``): a time comparison with the pass's phase start is not —
    # the last phase ("finishing") starts after the stop.
    for run in db.session.execute(select(Run).where(
            Run.mode == "production", Run.finished_at >= since,
            Run.status.in_([RunStatus.EXPORTED.value, RunStatus.PARTIALLY_PROCESSED.value]))).scalars():
        if (run.counts or {}).get("stopped_on_error"):
            continue
        found.append(("production_finished", f"production_finished:{run.id}:{run.export_passes}", run.profile_id,
                      run.id, run.finished_at, {}))
    for stop in db.session.execute(select(SyncStop).where(SyncStop.stopped_at >= since)).scalars():
        found.append(("sync_stopped", f"sync_stopped:{stop.id}", stop.profile_id, stop.run_id, stop.stopped_at,
                      {"message": stop.message[:1000], "record": stop.record_key or ""}))
    for start, schedule in db.session.execute(select(ScheduleStart, Schedule).join(Schedule).where(
            ScheduleStart.state == "skipped", ScheduleStart.created_at >= since)).all():
        found.append(("schedule_skipped", f"schedule_skipped:{start.id}", schedule.profile_id, None,
                      start.created_at, {"schedule_id": schedule.id, "due_at": start.due_at.isoformat(),
                                         "code": start.code or "",
                                         **_reason_params(start.reason, start.reason_message)}))
    return found


def _reason_params(text, message):
    """An event's reason: the stored message, which each mail renders in its recipient's language, and
    the text as written then (all an event from before messages were stored has)."""
    params = {"reason": text or ""}
    if message:
        params["reason_message"] = message
    return params


# Who hears of an event: its own subscribers, and for a stopped sync of a run also those who asked to hear
# when a production export finishes (that run did not finish: it stopped, and this is the one mail).
ALSO_TOLD = {"sync_stopped": ("production_finished",)}


def _subscribers(event, profile_id, when, run_id=None):
    events = [event, *ALSO_TOLD.get(event, ())] if run_id is not None else [event]
    rows = db.session.execute(select(User).join(Subscription, Subscription.user_id == User.id).where(
        Subscription.event.in_(events), User.active.is_(True), Subscription.created_at <= when,
        or_(Subscription.profile_id.is_(None), Subscription.profile_id == profile_id))).scalars().unique().all()
    return [u for u in rows if u.can(Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS)]


def notify_events(now=None):
    """Find new events and write their notifications and e-mails (once each). Returns how many."""
    now = now or utcnow()
    # Events carry the real time they happened; the injected clock may be ahead of it (tests, demo).
    since = min(now, utcnow()) - LOOKBACK
    made = 0
    for event, key, profile_id, run_id, when, params in _events(since):
        for user in _subscribers(event, profile_id, when, run_id):
            exists = db.session.execute(select(Notification.id).where(
                Notification.user_id == user.id, Notification.event_key == key)).scalar()
            if exists is not None:
                continue
            notification = Notification(user_id=user.id, event=event, event_key=key, profile_id=profile_id,
                                        run_id=run_id, params=params, created_at=now)
            db.session.add(notification)
            try:
                db.session.flush()
                if mail_configured() and user.email:
                    subject, body = render_mail(notification, user)
                    db.session.add(OutboxMail(notification_id=notification.id, to_address=user.email,
                                              subject=subject, body=body, next_attempt_at=now, created_at=now))
                db.session.commit()
            except IntegrityError:
                db.session.rollback()     # another worker wrote it first
                continue
            made += 1
    return made


def mail_configured():
    return bool(current_app.config.get("SMTP_HOST") and current_app.config.get("MAIL_FROM"))


def _run_link(run_id):
    return f"{current_app.config.get('PORTAL_BASE_URL', '').rstrip('/')}/runs/{run_id}"


def mail_language(user):
    """The language of a user's mails: their setting; on "Browser language", the one the portal last showed
    them in (``User.browser_locale``, noted at sign-in and on the Notifications page:
    ``auth.services.note_browser_locale``); else the portal's default."""
    languages = current_app.config["LANGUAGES"]
    if user.locale in languages:
        return user.locale
    if user.browser_locale in languages:
        return user.browser_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def render_mail(notification, user):
    """(subject, body) in the recipient's own language, with the run's facts and a link to it."""
    locale = mail_language(user)
    context = {"notification": notification, "user": user, "profile": notification.profile,
               "run": db.session.get(Run, notification.run_id) if notification.run_id else None,
               "params": notification.params or {}, "base_url": current_app.config.get("PORTAL_BASE_URL", ""),
               "due_at": None, "reason": None}
    if (notification.params or {}).get("due_at"):
        context["due_at"] = datetime.fromisoformat(notification.params["due_at"])
    if context["run"] is not None:
        context["run_link"] = _run_link(notification.run_id)
        context["schedule_start"] = start_of_run(notification.run_id)
    else:
        context["profile_link"] = (f"{context['base_url'].rstrip('/')}/profiles/{notification.profile_id}"
                                   f"/schedules")
    # English as the portal writes it (PORTAL_ENGLISH_LOCALE: day/month/year, 24-hour), as on the pages.
    with force_locale(babel_locale(locale)):
        params = notification.params or {}
        context["reason"] = stored_text(params["reason_message"]) if params.get("reason_message") else \
            params.get("reason")
        env = current_app.jinja_env
        subject = env.get_template("notifications/mail_subject.txt").render(**context).strip()
        body = env.get_template("notifications/mail_body.txt").render(**context)
    return subject[:300], body


def _due_condition(now):
    return or_(and_(OutboxMail.state == "pending", OutboxMail.next_attempt_at <= now),
               and_(OutboxMail.state == "sending", OutboxMail.claimed_at < now - SENDING_STALE))


def mail_date(moment=None):
    """The ``Date:`` header: the moment of sending in the organisation's time zone with its offset
    (``Tue, 10 Nov 2026 08:00:00 +0100``). Flask-Mailman's default writes UTC as ``-0000``, which RFC 5322
    reserves for "the local zone is unknown"."""
    moment = moment or datetime.now(timezone.utc)
    return format_datetime(moment.astimezone(org_timezone()))


def send_outbox(now=None, limit=50):
    """Send the due mails of the outbox. Returns (sent, failed attempts)."""
    now = now or utcnow()
    if not mail_configured():
        return 0, 0
    ids = db.session.execute(select(OutboxMail.id).where(_due_condition(now)).order_by(OutboxMail.id)
                             .limit(limit)).scalars().all()
    sent = failed = 0
    connection = None
    for mail_id in ids:
        claimed = db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id, _due_condition(now))
                                     .values(state="sending", claimed_at=now, attempts=OutboxMail.attempts + 1)
                                     ).rowcount
        db.session.commit()
        if claimed != 1:
            continue     # another worker has it
        item = db.session.get(OutboxMail, mail_id)
        db.session.refresh(item)
        try:
            connection = connection or _connection()
            EmailMessage(item.subject, item.body, current_app.config["MAIL_FROM"], [item.to_address],
                         connection=connection, headers={"Date": mail_date()}).send()
        except (OSError, smtplib.SMTPException) as exc:
            connection = None
            failed += 1
            unreachable = isinstance(exc, (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected))
            item.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
            if item.attempts >= MAX_ATTEMPTS:
                item.state = "failed"
            else:
                item.state = "pending"
                minutes = RETRY_MINUTES[min(item.attempts, len(RETRY_MINUTES)) - 1]
                item.next_attempt_at = now + timedelta(minutes=minutes)
            log.warning("mail %s: not sent (attempt %s): %s", item.id, item.attempts, type(exc).__name__)
            db.session.commit()
            if unreachable:
                break     # the server is down: the other mails wait for the next turn (the task stays short)
            continue
        item.state, item.sent_at, item.last_error = "sent", now, None
        sent += 1
        db.session.commit()
    if connection is not None:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            pass
    return sent, failed


def _connection():
    config = current_app.config
    return mail.get_connection(
        backend="smtp", host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 25),
        username=config.get("SMTP_USERNAME") or "", password=config.get("SMTP_PASSWORD") or "",
        use_tls=bool(config.get("SMTP_STARTTLS")), timeout=float(config.get("SMTP_TIMEOUT", 10)))


def tick(now=None):
    """The worker's periodic pass for notifications: new events, then the outbox."""
    made = notify_events(now)
    sent, failed = send_outbox(now)
    return {"notified": made, "sent": sent, "failed": failed}
