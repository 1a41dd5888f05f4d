"""Issue 9 in a real browser, in every language (en, nl, sv, da), against the sandbox over real HTTP and a
real worker: the stopped sync's system message (home page, profile, Export management, the overview) with
the record, the time and Visma.net's message verbatim; Resume (nothing sent twice) and Skip with a reason
(consultants only; CSRF); the run's documents section (summary, JSON, Visma.net's number, outcome, one
download); the refused production start, named and linked, in the dialog and on the plain page (no
JavaScript). Every page checked with axe-core. The expected words come from the catalogues (force_locale),
so one test per case covers all four languages."""
import json
import re
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import expect

from portal.exporting.messages import status_label
from portal.exporting.providers import visma_net
from portal.extensions import db
from portal.i18n import babel_locale, datetime_filter
from portal.models import VismaDocument
from portal.models.audit import AuditEntry
from portal.models.exporting import ExportProfile, Run

from tests import factories
from tests.browser.checks import BLOCKING_IMPACTS, BLOCKING_RULES, PageWatch, axe_violations
from tests.exporting.test_worker import _start_worker, _stop
from tests.exporting.visma_net.conftest import (
    WINDOW, Setup, companies, configure, documents, faults, payments, received, records, run_now,
)

pytestmark = pytest.mark.browser
LANGUAGES = ["en", "nl", "sv", "da"]
# Visma.net's message as it came, with characters a page must not take for markup.
MESSAGE = "Payment method 'CASH' is not active for branch MAIN. <Activate> it under Payment methods & retry."


def words(app, language, text, **params):
    """``text`` in ``language``, as the portal's catalogues have it."""
    with app.test_request_context(), force_locale(babel_locale(language)):
        return _(text, **params)


def accessible(page):
    problems = [f"axe {rule} ({impact}): {text} at {targets}" for rule, impact, text, targets
                in axe_violations(page, impacts=None) if impact in BLOCKING_IMPACTS or rule in BLOCKING_RULES]
    assert problems == [], problems


def sign_in(page, base, who, language):
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", f"{who}@example.com")
    page.fill("input[name=password]", "demo")
    page.click("main button[type=submit]")
    expect(page.locator(".user-name")).to_be_visible()
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert page.request.post(f"{base}/language", form={"locale": language, "csrf_token": token, "next": "/"}).ok
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", {"en": "en-GB"}.get(language, language))


def sign_out(page, base):
    page.context.clear_cookies()


def sandbox_env(base):
    """The worker's settings: the sandbox of the live server is its Visma.net."""
    sandbox = base + "/sandbox"
    return dict(PORTAL_BASE_URL=base, VISMA_NET_AUTHORIZE_URL=sandbox + "/connect/authorize",
                VISMA_NET_TOKEN_URL=sandbox + "/connect/token", VISMA_NET_REVOKE_URL=sandbox + "/connect/revocation",
                VISMA_NET_API_URL=sandbox + "/api", VISMA_NET_BACKOFF_SECONDS="0.05", VISMA_NET_HTTP_TIMEOUT="10")


@pytest.fixture
def stopped(app, live_server, users):
    """Four payments to Visma.net; Visma.net rejects the third (R000002) with MESSAGE: the sync stops."""
    configure(app, live_server.url)
    with app.app_context():
        zorg, _thuis, _test = companies()
        setup = Setup(app, live_server.url)
        setup.authorise()
        setup.map(zorg)
        payments(zorg, 4)
        db.session.commit()
        profile = setup.profile("payments", name="Kassa naar Visma.net")
        third = documents(run_now(profile, "test", **WINDOW))[2]
        faults(reject_reference=third.reference, reject_message=MESSAGE)
        run = run_now(profile, **WINDOW)
        assert run.status == "partially_processed", run.error_reason
        stop = visma_net.stop_state(profile)
        assert stop.record_key == "R000002" and stop.message == MESSAGE
        found = SimpleNamespace(profile_id=profile.id, run_id=run.id, stopped_at=stop.stopped_at,
                                base=live_server.url)
        db.session.remove()
    return found


@pytest.fixture
def visma_worker(app, stopped):
    process = _start_worker(app, **sandbox_env(stopped.base))
    yield process
    _stop(process)


def system_message(page, app, language, stopped):
    """The system message on the page now: the profile, the record, the time in the reader's language and
    the organisation's time zone, and Visma.net's message exactly as it came."""
    message = page.locator("section.system-message")
    expect(message).to_have_count(1)
    expect(message).to_contain_text(words(app, language, "System message"))
    expect(message).to_contain_text(words(app, language, "The sync has stopped until the problem is solved."))
    expect(message).to_contain_text("Kassa naar Visma.net")
    expect(message).to_contain_text("R000002")
    with app.test_request_context(), force_locale(babel_locale(language)):
        when = datetime_filter(stopped.stopped_at, "short")
    expect(message).to_contain_text(when)
    assert message.locator("code.provider-message").inner_text() == MESSAGE
    return message


def payments_posted(app):
    """The payments the sandbox created, and how many times each reference was POSTed successfully."""
    with app.app_context():
        created = [n for _k, n, _b in records("customerPayment")]
        posted = [s for _m, _p, s in received("POST", "/v1/customerPayment")]
        return created, posted


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_stopped_sync_is_a_system_message_everywhere_and_resume_sends_nothing_twice(
        app, page, stopped, visma_worker, language):
    base = stopped.base
    # A manager (reads exports) sees it on the home page and the overview, without Resume or Skip.
    sign_in(page, base, "manager", language)
    for path in ("/", "/overview/"):
        page.goto(base + path)
        message = system_message(page, app, language, stopped)
        expect(message.locator("button")).to_have_count(0)
        accessible(page)
    sign_out(page, base)

    # Staff (Import and export): home page, Export management and the profile; Resume, no Skip.
    sign_in(page, base, "staff", language)
    for path in ("/", "/profiles/", f"/profiles/{stopped.profile_id}"):
        page.goto(base + path)
        message = system_message(page, app, language, stopped)
        expect(message.locator("form.skip-record")).to_have_count(0)
        expect(message.get_by_role("button", name=words(app, language, "Resume"))).to_be_visible()
        accessible(page)
    # The link in the message opens the stopped run.
    message.get_by_role("link", name=words(app, language, "Open export %(run)s", run=stopped.run_id)).click()
    page.wait_for_url(re.compile(rf"/runs/{stopped.run_id}$"))
    history = page.locator("table.sync-history")
    expect(history.locator("tr.sync-stopped")).to_contain_text("R000002")
    assert history.locator("tr.sync-stopped code.provider-message").inner_text() == MESSAGE
    accessible(page)

    # Resume: the run is exported again from the rejected record; nothing is sent twice.
    page.goto(f"{base}/profiles/{stopped.profile_id}")
    page.locator("section.system-message").get_by_role("button", name=words(app, language, "Resume")).click()
    page.wait_for_url(re.compile(rf"/runs/{stopped.run_id}$"))
    expect(page.locator("#run-panel")).to_contain_text(words(app, language, "Exported"), timeout=60000)
    expect(page.locator("section.system-message")).to_have_count(0)
    expect(page.locator("table.sync-history tr.sync-resumed")).to_contain_text(
        words(app, language, "Resumed the sync from this record."))
    expect(page.locator("table.sync-history tr.sync-resumed")).to_contain_text("Sam Staff")
    accessible(page)
    created, posted = payments_posted(app)
    assert len(created) == len(set(created)) == 4          # every payment once at Visma.net
    assert posted.count(201) == 4 and len(posted) == 5      # R000000-R000003 accepted once; R000002 refused once
    page.goto(base + "/")
    expect(page.locator("section.system-message")).to_have_count(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_consultant_skips_the_record_with_a_reason_recorded_in_the_runs_history(
        app, page, stopped, visma_worker, language):
    base = stopped.base
    # Staff do not see Skip, and the server refuses it from them.
    sign_in(page, base, "staff", language)
    page.goto(f"{base}/profiles/{stopped.profile_id}")
    expect(page.locator("form.skip-record")).to_have_count(0)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    refused = page.request.post(f"{base}/profiles/{stopped.profile_id}/sync/skip",
                                form={"csrf_token": token, "reason": "no"}, max_redirects=0)
    assert refused.status == 403
    sign_out(page, base)

    sign_in(page, base, "consultant", language)
    page.goto(f"{base}/overview/")
    system_message(page, app, language, stopped)
    page.goto(f"{base}/profiles/{stopped.profile_id}")
    message = system_message(page, app, language, stopped)
    form = message.locator("form.skip-record")
    label = words(app, language, "Reason for skipping record %(record)s", record="R000002")
    reason = form.get_by_label(label)
    expect(reason).to_be_visible()
    accessible(page)
    # Without the CSRF token the skip is refused and nothing changes.
    assert page.request.post(f"{base}/profiles/{stopped.profile_id}/sync/skip",
                             form={"reason": "no token"}, max_redirects=0).status == 400
    with app.app_context():
        assert visma_net.stop_state(stopped.profile_id) is not None
    # No reason: the browser asks for one (required), nothing is sent.
    form.get_by_role("button", name=words(app, language, "Skip this record")).click()
    assert reason.evaluate("field => field.validity.valueMissing")
    assert page.url.endswith(f"/profiles/{stopped.profile_id}")
    reason.fill("Betaald in contanten; <terugbetaald> & geboekt.")
    form.get_by_role("button", name=words(app, language, "Skip this record")).click()
    page.wait_for_url(re.compile(rf"/runs/{stopped.run_id}$"))
    expect(page.locator("#run-panel")).to_contain_text(words(app, language, "Exported"), timeout=60000)
    skipped = page.locator("table.sync-history tr.sync-skipped")
    expect(skipped).to_contain_text(words(app, language, "Skipped the record: %(reason)s",
                                          reason="Betaald in contanten; <terugbetaald> & geboekt."))
    expect(skipped).to_contain_text("Connie Consultant")
    expect(skipped).to_contain_text("R000002")
    accessible(page)
    created, _posted = payments_posted(app)
    assert sorted(created) and len(created) == 3            # the skipped record was not sent
    with app.app_context():
        [entry] = db.session.execute(db.select(AuditEntry).filter_by(action="run.skip")).scalars().all()
        assert entry.details["reason"] == "Betaald in contanten; <terugbetaald> & geboekt."
        assert (entry.target_type, entry.target_id) == ("run", stopped.run_id)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_runs_documents_section_shows_and_downloads_what_was_sent(app, page, stopped, language):
    base = stopped.base
    sign_in(page, base, "staff", language)
    page.goto(f"{base}/runs/{stopped.run_id}")
    expect(page.locator("#visma-documents")).to_have_text(words(app, language, "Documents sent to Visma.net"))
    rows = page.locator("table.documents tbody tr")
    expect(rows).to_have_count(3)                          # two sent, then the rejected one: the sync stopped
    with app.app_context():
        sent = documents(db.session.get(Run, stopped.run_id))
        with app.test_request_context(), force_locale(babel_locale(language)):
            summaries = [visma_net.document_summary(d) for d in sent]
            outcomes = [str(visma_net.STATE_LABELS[d.state]) for d in sent]
            kind = str(visma_net.KIND_LABELS["customerPayment"])
    for index, document in enumerate(sent):
        cells = rows.nth(index).locator("td")
        expect(cells.nth(0)).to_contain_text(kind)
        expect(cells.nth(1)).to_have_text(document.record_keys[0])
        expect(cells.nth(2)).to_contain_text(summaries[index])
        expect(cells.nth(3)).to_have_text(document.visma_number or "–")
        expect(cells.nth(4)).to_contain_text(outcomes[index])
    assert [d.state for d in sent] == ["sent", "sent", "rejected"] and all(d.visma_number for d in sent[:2])
    assert rows.nth(2).locator("code.provider-message").inner_text() == MESSAGE
    # The amounts in the reader's language (12.50 in English, 12,50 in the others).
    expect(rows.nth(0).locator("td").nth(2)).to_contain_text("12.50" if language == "en" else "12,50")
    # The JSON of a document opens in place.
    details = rows.nth(0).locator("details")
    details.locator("summary").click()
    shown = json.loads(details.locator("pre.json").inner_text())
    assert shown == sent[0].body
    accessible(page)
    # All documents as one file.
    with page.expect_download() as download:
        page.get_by_role("link", name=words(app, language, "Download all documents (JSON)")).click()
    saved = json.load(open(download.value.path(), encoding="utf-8"))
    assert saved["run"] == stopped.run_id and saved["mode"] == "production"
    assert [(d["records"], d["state"], d["visma_number"], d["body"]) for d in saved["documents"]] == [
        (d.record_keys, d.state, d.visma_number, d.body) for d in sent]
    assert saved["documents"][2]["message"] == MESSAGE


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_test_runs_documents_say_they_would_be_sent(app, page, stopped, language):
    base = stopped.base
    with app.app_context():
        test_run = db.session.execute(db.select(Run).filter_by(profile_id=stopped.profile_id, mode="test")).scalar()
        count = db.session.execute(db.select(db.func.count()).where(VismaDocument.run_id == test_run.id)).scalar()
    sign_in(page, base, "manager", language)
    page.goto(f"{base}/runs/{test_run.id}")
    expect(page.locator("#visma-documents")).to_have_text(words(app, language, "Documents that would be sent to Visma.net"))
    expect(page.locator("table.documents tbody tr")).to_have_count(count)
    expect(page.locator("table.documents tbody tr").first).to_contain_text(
        words(app, language, "Would be sent (test export)"))
    expect(page.locator("main")).not_to_contain_text(words(app, language, "No files yet."))
    accessible(page)


@pytest.fixture
def active_production_run(app, live_server, users):
    with app.app_context():
        factories.company()
        profile = factories.profile("Kassabetalingen", export_type="payments", fmt="csv")
        active = factories.run(db.session.get(ExportProfile, profile.id), status="partially_processed",
                               mode="production")
        return SimpleNamespace(profile_id=profile.id, run_id=active.id, base=live_server.url)


def refusal(app, language, active):
    with app.test_request_context(), force_locale(babel_locale(language)):
        return _("A production export of %(name)s cannot start: production export %(run)s of this profile is still "
                 "%(status)s. Finish it first — export what is left, or cancel or roll it back.",
                 name="Kassabetalingen", run=active.run_id, status=status_label("partially_processed"))


@pytest.mark.parametrize("javascript", [True, False], ids=["dialog", "plain-page"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_production_start_names_and_links_the_active_run(app, browser, active_production_run, language,
                                                                    javascript):
    active, base = active_production_run, active_production_run.base
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900},
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(20000)
    watch = PageWatch(page)
    try:
        sign_in(page, base, "staff", language)
        if javascript:
            page.goto(f"{base}/profiles/")
            page.locator(f"a[href$='/profiles/{active.profile_id}/start']").first.click()
            scope = page.locator("dialog#dialog")
            expect(scope).to_be_visible()
        else:
            page.goto(f"{base}/profiles/{active.profile_id}/start")
            scope = page.locator("main")
        scope.locator("input[name=mode][value=production]").check()
        scope.locator("button[name=action][value=start]").click()
        notice = scope.locator("#production-run-active")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(refusal(app, language, active))
        expect(scope.locator("button[name=action][value=start]")).to_have_count(0)   # nothing to confirm
        if javascript:
            expect(page.locator("dialog#dialog")).to_be_visible()
        else:
            assert f"/profiles/{active.profile_id}/start" in page.url
        if javascript:
            accessible(page)
        else:       # axe-core runs as JavaScript: it checks the same markup in a page that has it
            checker = browser.new_page()
            try:
                checker.goto(f"{base}/auth/login")
                checker.set_content(page.content())
                accessible(checker)
            finally:
                checker.close()
        notice.get_by_role("link", name=words(app, language, "Open export %(run)s", run=active.run_id)).click()
        page.wait_for_url(re.compile(rf"/runs/{active.run_id}$"))
        with app.app_context():
            assert db.session.execute(db.select(db.func.count()).select_from(Run)).scalar() == 1   # nothing started
    finally:
        context.close()
    assert watch.take() == []
