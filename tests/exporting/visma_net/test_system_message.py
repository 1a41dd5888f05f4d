"""Issue 9, point 5 (seed 004): a stopped sync is a system message on the home page, the profile, Export
management and the overview — the record, the time and Visma.net's message verbatim; Resume for Import
and export, Skip with a reason for consultants, both recorded in the run's history (its report)."""
import html
import re

from portal.extensions import db
from portal.exporting.providers.visma_net import stop_state
from portal.exporting.report import report
from portal.models.audit import AuditEntry

from tests.notifications.conftest import smtp  # noqa: F401  (fixture)

from .conftest import WINDOW, companies, documents, execute, faults, payments, records, rows, run_now

MESSAGE = "Payment method 'CASH' is not active for branch MAIN. <Activate> it under Payment methods."


class _Outside:
    """A test client whose requests run outside the test's app context (else Flask reuses that context,
    and its ``g`` — where Flask-WTF keeps the CSRF token — would span requests)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            from flask.globals import _cv_app
            context = _cv_app.get(None)
            if context is not None:
                context.pop()
            try:
                return method(*args, **kwargs)
            finally:
                if context is not None:
                    context.push()
        return call


def _login(app, who):
    from portal.demo.seed import seed_users
    from tests.factories import AuthActions
    seed_users()
    db.session.commit()
    client = _Outside(app.test_client())
    auth = AuthActions(client)
    auth.login(who)
    return client, auth


def _stopped(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    payments(zorg, 4)
    db.session.commit()
    profile = sctx.profile("payments")
    third = documents(run_now(profile, "test", **WINDOW))[2]
    faults(reject_reference=third.reference, reject_message=MESSAGE)
    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed"
    return profile.id, run.id


def test_the_stop_is_a_system_message_on_every_page_and_staff_resume_it(sctx):
    pid, rid = _stopped(sctx)
    client, auth = _login(sctx.app, "staff")
    stopped_at = stop_state(pid).stopped_at
    manager, _auth = _login(sctx.app, "manager")
    for who, path in ((client, "/"), (client, f"/profiles/{pid}"), (client, "/profiles/"),
                      (manager, "/overview/")):
        page = who.get(path, follow_redirects=True).get_data(as_text=True)
        assert "System message" in page, path
        assert "The sync has stopped until the problem is solved." in page, path
        assert MESSAGE in html.unescape(page), path
        assert "R000002" in page and stopped_at.strftime("%Y") in page, path
        assert ("Resume" in page) == (who is client) and "Skip this record" not in page, path  # staff: no skip
    # Resume (CSRF checked): the sync goes on from the rejected record; nothing is sent twice.
    assert client.post(f"/profiles/{pid}/sync/resume", data={}).status_code == 400
    answer = client.post(f"/profiles/{pid}/sync/resume",
                         data={"csrf_token": auth.csrf_token(f"/profiles/{pid}")})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/runs/{rid}")
    run = execute(rid)
    rid = run.id
    assert run.status == "exported"
    assert len(records("customerPayment")) == 4
    assert stop_state(pid) is None
    assert "System message" not in client.get("/").get_data(as_text=True)
    page = html.unescape(client.get(f"/runs/{rid}").get_data(as_text=True))
    assert "Resumed the sync from this record." in page[page.index('id="sync-history"'):]
    assert [i["message"] for i in report(rid, locale="en")["items"] if i["code"] == "sync_resumed"] == [
        "Anna de Vries resumed the sync at record R000002."] or \
        any(i["code"] == "sync_resumed" for i in report(rid, locale="en")["items"])


def test_a_consultant_skips_the_record_with_a_reason(sctx):
    pid, rid = _stopped(sctx)
    client, auth = _login(sctx.app, "consultant")
    page = client.get(f"/profiles/{pid}").get_data(as_text=True)
    assert "Skip this record" in page and "Reason for skipping record R000002" in page
    csrf = auth.csrf_token(f"/profiles/{pid}")
    answer = client.post(f"/profiles/{pid}/sync/skip", data={"csrf_token": csrf, "reason": "  "},
                         follow_redirects=True)
    assert "Give a reason for skipping the record." in answer.get_data(as_text=True)
    assert stop_state(pid) is not None
    answer = client.post(f"/profiles/{pid}/sync/skip",
                         data={"csrf_token": csrf, "reason": "Paid twice at the till; refunded in cash."})
    assert answer.status_code == 302
    run = execute(rid)
    rid = run.id
    assert run.status == "exported"                     # the skipped record is an error, not "left"
    state = {r.record_key: (r.processed, r.invalid) for r in rows(run)}
    assert state["R000002"] == (False, True) and state["R000003"] == (True, False)
    assert len(records("customerPayment")) == 3
    [item] = [i for i in report(rid, locale="en")["items"] if i["code"] == "sync_skipped"]
    assert item["message"].endswith("skipped record R000002: Paid twice at the till; refunded in cash.")
    assert stop_state(pid) is None
    # Recorded in the run's history: on the run page (when, who, the record, the reason), in the audit log.
    [entry] = db.session.execute(db.select(AuditEntry).filter_by(action="run.skip")).scalars().all()
    assert (entry.target_type, entry.target_id) == ("run", rid)
    assert entry.details == {"record": "R000002", "reason": "Paid twice at the till; refunded in cash."}
    assert entry.actor_email == "consultant@example.com"
    page = html.unescape(client.get(f"/runs/{rid}").get_data(as_text=True))
    history = page[page.index('id="sync-history"'):]
    history = history[:history.index("</table>")]
    assert MESSAGE in history and "Skipped the record: Paid twice at the till; refunded in cash." in history
    assert "R000002" in history
    audit_page = html.unescape(_login(sctx.app, "admin")[0].get("/admin/audit").get_data(as_text=True))
    assert "Skipped record R000002 of #" in audit_page and "Paid twice at the till" in audit_page
    # Staff may not skip.
    staff, staff_auth = _login(sctx.app, "staff")
    assert staff.post(f"/profiles/{pid}/sync/skip",
                      data={"csrf_token": staff_auth.csrf_token("/"), "reason": "x"}).status_code == 403


def test_a_resume_that_cannot_go_on_changes_nothing(sctx):
    """The stop is lifted, recorded and its run queued in one transaction: when the run cannot go on (the
    account must be authorised again), the stop, its system message and the run stay as they were."""
    from portal.exporting import services
    from portal.exporting.errors import ExportError
    from portal.models import IntegrationAccount, Run
    pid, rid = _stopped(sctx)
    account = db.session.execute(db.select(IntegrationAccount)).scalar_one()
    account.needs_reauthorisation = True
    db.session.commit()
    items_before = len(report(rid, locale="en")["items"])
    for attempt in (lambda: services.resume_sync(pid), lambda: services.skip_sync_record(pid, "refunded")):
        try:
            attempt()
        except ExportError as error:
            assert error.code == "account_problem"
        else:
            raise AssertionError("the resume went on without an authorised account")
        db.session.expire_all()
        assert stop_state(pid) is not None and stop_state(pid).resumed_at is None
        assert db.session.get(Run, rid).status == "partially_processed"
        assert len(report(rid, locale="en")["items"]) == items_before
        assert db.session.execute(db.select(AuditEntry).where(
            AuditEntry.action.in_(["run.resume", "run.skip"]))).first() is None
    # A reason longer than the form allows is refused in words, not cut: nothing changes.
    account.needs_reauthorisation = False
    db.session.commit()
    try:
        services.skip_sync_record(pid, "x" * 501)
    except ExportError as error:
        assert error.code == "skip_reason_too_long" and "500" in str(error)
    else:
        raise AssertionError("a 501-character reason was taken")
    assert stop_state(pid) is not None
    # Once lifted, a second lift (a second click) finds no stop: one history line, one queued export.
    assert services.resume_sync(pid).id == rid
    try:
        services.resume_sync(pid)
    except ExportError as error:
        assert error.code == "not_stopped"
    else:
        raise AssertionError("the stop was lifted twice")
    assert db.session.execute(db.select(db.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "run.resume")).scalar() == 1


def _cancel(client, auth, rid):
    return client.post(f"/runs/{rid}/cancel", follow_redirects=True,
                       data={"csrf_token": auth.csrf_token(f"/runs/{rid}"), "confirmed": "yes"})


def test_cancelling_the_stopped_export_ends_the_stop(vctx):
    """A stopped export cancelled: nothing is left to resume, so the system message (with Resume) goes,
    the run's history says who ended the stop by cancelling, and production runs are no longer refused."""
    from portal.exporting import services
    pid, rid = _stopped(vctx)
    client, auth = _login(vctx.app, "staff")
    assert "System message" in client.get("/").get_data(as_text=True)
    page = _cancel(client, auth, rid).get_data(as_text=True)
    assert "The export was cancelled." in page
    db.session.expire_all()
    assert stop_state(pid) is None
    for path in ("/", f"/profiles/{pid}", "/profiles/"):
        assert "System message" not in client.get(path).get_data(as_text=True), path
    page = html.unescape(client.get(f"/runs/{rid}").get_data(as_text=True))
    history = page[page.index('id="sync-history"'):]
    history = history[:history.index("</table>")]
    assert MESSAGE in history and "Cancelled the export: the sync no longer waits for Resume." in history
    assert "Resumed the sync" not in history
    assert any(i["message"].endswith("cancelled the export: the sync stopped at record R000002 no longer waits "
                                     "for Resume.") for i in report(rid, locale="en")["items"])
    # The next production export is not refused: it prepares the source again.
    run = services.start_run(pid, mode="production", **WINDOW)
    assert run.status in ("queued", "preparing")
    # Resume now says the sync has not stopped, rather than that it goes on.
    answer = client.post(f"/profiles/{pid}/sync/resume", follow_redirects=True,
                         data={"csrf_token": auth.csrf_token(f"/profiles/{pid}")})
    text = answer.get_data(as_text=True)
    assert "The sync of this export profile has not stopped." in text and "goes on" not in text


def test_rolling_back_the_stopped_export_ends_the_stop(sctx):
    from portal.exporting import services
    pid, rid = _stopped(sctx)
    services.roll_back(rid)
    db.session.expire_all()
    assert stop_state(pid) is None
    client, _auth = _login(sctx.app, "staff")
    assert "System message" not in client.get("/").get_data(as_text=True)
    page = html.unescape(client.get(f"/runs/{rid}").get_data(as_text=True))
    assert "Rolled back the export: the sync no longer waits for Resume." in page


def test_resume_with_no_export_left_says_nothing_was_sent(sctx):
    """A stop whose export cannot go on (stopped before this change: its export cancelled, the stop left
    standing): Resume lifts it and says truthfully that nothing was sent — not that the sync goes on."""
    from portal.models import Run
    pid, rid = _stopped(sctx)
    run = db.session.get(Run, rid)
    run.status = "cancelled"          # as a cancel before this change left it: the stop stays
    db.session.commit()
    client, auth = _login(sctx.app, "staff")
    answer = client.post(f"/profiles/{pid}/sync/resume", follow_redirects=True,
                         data={"csrf_token": auth.csrf_token(f"/profiles/{pid}")})
    text = html.unescape(answer.get_data(as_text=True))
    assert "goes on from the rejected record" not in text
    assert "is no longer stopped, but its stopped export cannot go on: nothing was sent." in text
    assert "System message" not in client.get("/").get_data(as_text=True)


def test_a_stopped_pass_sends_one_mail_that_says_it_stopped(vctx, smtp):
    """A real stop (Visma.net rejects a payment): the pass's last phase begins after the stop, yet the
    pass is told once — "Sync stopped" — also to those who only asked for finished production exports;
    the pass that Resume then finishes says it finished."""
    from portal.exporting import services
    from portal.notifications import services as notifications
    from tests.notifications.conftest import use_smtp
    from tests.notifications.test_outbox import _user
    notifications.set_subscriptions(_user("both@example.com", "en"), None, ["production_finished", "sync_stopped"])
    notifications.set_subscriptions(_user("finished@example.com", "en"), None, ["production_finished"])
    # Authorised at the live server's address, which is the callback registered at the sandbox; the mails'
    # links then name the portal's public address (PORTAL_BASE_URL, set by use_smtp).
    pid, rid = _stopped(vctx)
    use_smtp(vctx.app, smtp)
    notifications.tick()
    assert sorted((m["to"], m["subject"]) for m in smtp.received()) == [
        ("both@example.com", "Sync stopped: payments"), ("finished@example.com", "Sync stopped: payments")]
    services.resume_sync(pid)
    assert execute(rid).status == "exported"
    notifications.tick()
    finished = sorted((m["to"], m["subject"]) for m in smtp.received() if "finished" in m["subject"])
    assert finished == [("both@example.com", "Production export finished: payments"),
                        ("finished@example.com", "Production export finished: payments")]


def test_a_corrected_source_is_sent_by_cancelling_and_preparing_again(vctx):
    """Visma.net rejects payment type NOPE and the sync stops; the source is corrected to CARD. The system
    message says that Resume sends the prepared data (NOPE again) and how to send the corrected source:
    cancel the stopped export (its link) and prepare again — which sends CARD."""
    from portal.models import Payment
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    made = payments(zorg, 4, types=("CARD", "CARD", "NOPE", "CARD"))
    db.session.commit()
    profile = vctx.profile("payments")
    pid = profile.id
    stopped = run_now(profile, **WINDOW)
    rid = stopped.id
    assert stopped.status == "partially_processed" and stop_state(pid).record_key.endswith("R000002")
    db.session.get(Payment, made[2].id).payment_type = "CARD"       # the source corrected
    db.session.commit()
    client, auth = _login(vctx.app, "staff")
    page = html.unescape(client.get("/").get_data(as_text=True))
    assert (f"Resume sends the prepared data of export {rid} from the rejected record on, as it was prepared: "
            "a correction made in the source since then is not in it.") in page
    assert f"To send the corrected source, cancel export {rid}" in page
    assert f'href="/runs/{rid}/cancel?next=' in page and f"Cancel export {rid}" in page
    confirm = client.get(f"/runs/{rid}/cancel?next=/").get_data(as_text=True)
    assert "confirmed" in confirm
    answer = client.post(f"/runs/{rid}/cancel", follow_redirects=True,
                         data={"csrf_token": auth.csrf_token("/"), "confirmed": "yes", "next": "/"})
    assert "System message" not in answer.get_data(as_text=True)
    again = run_now(db.session.get(type(profile), pid), **WINDOW)
    assert again.status == "exported", again.error_reason
    sent = {body["paymentRef"]["value"].split("~")[0]: body for _k, _n, body in records("customerPayment")}
    assert len(sent) == 4
    assert [body["paymentMethod"]["value"] for ref, body in sent.items() if ref.endswith("R000002")] == ["CARD"]


def test_a_long_skip_reason_is_refused_not_cut(sctx):
    """The reason field wrote maxlength="500": a browser cut a 5,000-character reason to 500 without a word
    and the record was skipped with that. Now the field says its limit and a longer reason is refused."""
    pid, _rid = _stopped(sctx)
    client, auth = _login(sctx.app, "consultant")
    page = client.get(f"/profiles/{pid}").get_data(as_text=True)
    field = page[page.index('class="skip-record"'):]
    field = field[:field.index("</form>")]
    assert "maxlength" not in field and "At most 500 characters." in field
    hint = re.search(r'<p class="hint" id="([^"]+)">', field).group(1)
    assert f'name="reason" required aria-describedby="{hint}"' in field
    answer = client.post(f"/profiles/{pid}/sync/skip", follow_redirects=True,
                         data={"csrf_token": auth.csrf_token(f"/profiles/{pid}"), "reason": "x" * 5000})
    assert "Keep the reason to 500 characters or fewer." in answer.get_data(as_text=True)
    assert stop_state(pid) is not None and stop_state(pid).skip_reason is None
