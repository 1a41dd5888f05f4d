"""Faults, through the provider against the sandbox over real HTTP: 429 with Retry-After, the X-RateLimit
window, 500s, an access token that expires mid-run, a reused rotated refresh token, a rejected record
(partially processed, then re-export of only what is left)."""
import json

import pytest

from portal.exporting.errors import ExportError

from portal.exporting import services, sync
from portal.exporting.report import report
from portal.extensions import db
from portal.models import IntegrationAccount

from .conftest import WINDOW, assert_valid, companies, execute, faults, invoices, payments, received, records, rows, \
    run_now


def execute_result(run_id):
    from portal.models import Run
    db.session.rollback()
    return db.session.get(Run, run_id)


def token_requests(grant_type):
    from portal.models.sandbox import SandboxRequest
    db.session.rollback()
    found = db.session.execute(db.select(SandboxRequest).where(
        SandboxRequest.path == "/sandbox/connect/token")).scalars().all()
    return [r for r in found if json.loads(r.request_body or "{}").get("grant_type") == grant_type]


def _payments_profile(setup, count):
    zorg, _thuis, _test = companies()
    setup.authorise()
    setup.map(zorg)
    payments(zorg, count)
    db.session.commit()
    return setup.profile("payments")


def test_429_with_retry_after_and_500s_are_retried_without_duplicates(sctx, openapi):
    profile = _payments_profile(sctx, 3)
    faults(rate_limit_count=2, retry_after=1, server_error_count=2)
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert_valid(openapi, run)
    statuses = [status for _method, _path, status in received()]
    assert statuses.count(429) == 2 and statuses.count(500) == 2
    # A 500 on a POST may hide a created document: the provider looked it up before posting again.
    assert len(received("GET", "/v1/customerPayment")) >= 1
    assert len(records("customerPayment")) == 3
    assert all(r.processed for r in rows(run))


def test_the_rate_limit_window_is_waited_for_instead_of_running_into_429s(sctx, openapi):
    profile = _payments_profile(sctx, 6)
    sctx.app.config.update(SANDBOX_RATE_LIMIT=4, SANDBOX_RATE_LIMIT_WINDOW_SECONDS=2)
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert len(records("customerPayment")) == 6
    # 6 POSTs through a limit of 4 per window: the client waits for the window (X-RateLimit-Remaining 0
    # with its Reset, or a 429's Retry-After — the sandbox rounds Reset down, so under load a wait can
    # end a moment early and meet a 429, which is then waited for too); each payment is created once.
    statuses = [status for _m, path, status in received("POST")]
    assert statuses.count(201) == 6 and set(statuses) <= {201, 429}


def test_an_access_token_that_expires_mid_run_is_refreshed_and_the_run_goes_on(sctx):
    profile = _payments_profile(sctx, 4)
    refreshes = len(token_requests("refresh_token"))
    faults(expire_tokens_after=2)
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert 401 in [status for _m, _p, status in received()]
    assert len(token_requests("refresh_token")) == refreshes + 1
    assert len(records("customerPayment")) == 4


def test_a_reused_rotated_refresh_token_fails_the_run_visibly(sctx):
    from portal.integrations.visma import tokens
    profile = _payments_profile(sctx, 2)
    account = sctx.account
    spent = account.refresh_token
    tokens.refresh(account.id, force=True)            # rotates: the old refresh token is spent
    db.session.expire_all()
    account = db.session.get(IntegrationAccount, account.id)
    account.refresh_token = spent                      # … and a stale copy comes back into use
    db.session.commit()
    faults(expire_tokens_now=True)
    run = services.start_run(profile.id, mode="production", **WINDOW)
    with pytest.raises(ExportError):           # the job fails the run, then raises (RQ marks the job failed)
        execute(run.id)
    run = execute_result(run.id)
    assert run.status == "failed"
    assert "Authorise the account again" in run.error_reason and account.name in run.error_reason
    assert "run_failed" in [i["code"] for i in report(run.id)["items"]]
    db.session.expire_all()
    assert db.session.get(IntegrationAccount, account.id).needs_reauthorisation
    assert records() == [] and sync.current_ledger(profile.id) == {}
    # The profile says so when the next run is asked for.
    with pytest.raises(ExportError) as refused:
        services.start_run(profile.id, mode="production", **WINDOW)
    assert refused.value.code == "account_problem"


def test_a_rejected_record_leaves_the_run_partially_processed_and_re_export_sends_only_what_is_left(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    invoices(zorg, 4)
    db.session.commit()
    profile = vctx.profile("invoices")
    message = "The customer 10002 has a credit hold; the document cannot be saved."
    faults(reject_reference="INV000002", reject_message=message)
    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed", run.error_reason
    rejected = [r for r in rows(run) if not r.processed]
    assert [(r.record_key, r.error) for r in rejected] == [("INV000002/1", message)]
    items = [i for i in report(run.id)["items"] if i["code"] == "provider_rejected"]
    assert [(i["record_key"], i["provider_message"]) for i in items] == [("INV000002/1", message)]
    assert len(records("customerinvoice")) == 3
    assert len(sync.current_ledger(profile.id)) == 3
    # Journals and invoices do not stop: the next runs are not refused, and exporting again sends the rest.
    run = services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "exported", run.error_reason
    assert_valid(openapi, run)
    held = records("customerinvoice")
    assert sorted(b["customerRefNumber"]["value"] for _k, _n, b in held) == [
        "INV000001", "INV000002", "INV000003", "INV000004"]
    assert len(received("POST", "/v2/customerinvoice")) == 5     # 4 + the one rejected, sent again once
    assert len(sync.current_ledger(profile.id)) == 4
    assert all(r.processed for r in rows(run))


@pytest.mark.parametrize("fault", ["timeout", "unreachable"])
def test_visma_net_that_does_not_answer_fails_the_run_in_words_once_the_attempts_ran_out(sctx, caplog, fault):
    """Visma.net too slow (the sandbox's slow answers beyond VISMA_NET_HTTP_TIMEOUT) or not there at all:
    the client's retries, then the run's attempts; then the run, its attempts and its report say what
    happened in the starter's (or the reader's) language and how often it was tried — the technical text
    (``ReadTimeout``, the path) goes to the log only."""
    import socket
    import time
    from portal.exporting.errors import TransientError
    from tests.factories import execute as run_job
    profile = _payments_profile(sctx, 1)
    sctx.app.config.update(VISMA_NET_MAX_ATTEMPTS=2)
    if fault == "timeout":
        sctx.app.config.update(VISMA_NET_HTTP_TIMEOUT=0.3)
        faults(delay_seconds=1)
    else:
        with socket.socket() as closed:       # a port nobody listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        sctx.app.config.update(VISMA_NET_API_URL=f"http://127.0.0.1:{port}/sandbox/api")
    said = {"timeout": ("Visma.net antwoordde niet op tijd.", "Visma.net svarade inte i tid."),
            "unreachable": ("Visma.net was niet bereikbaar.", "Visma.net kunde inte nås.")}[fault]
    run = services.start_run(profile.id, mode="production", locale="nl", **WINDOW)
    assert run_job(run.id) == "retrying"
    run = execute_result(run.id)
    assert run.status == "queued" and run.error_reason == said[0]
    assert [i["message"] for i in report(run.id, locale="sv")["items"]] == [f"{said[1]} Försök 2 av 3 följer."]
    assert run_job(run.id) == "retrying"
    with pytest.raises(TransientError):
        run_job(run.id)
    run = execute_result(run.id)
    assert run.status == "failed" and run.attempts == 3
    assert run.error_reason == (f"{said[0]} De export is 3 keer geprobeerd en is gestopt: start hem later "
                                "opnieuw. Meld het aan uw beheerder als het blijft mislukken.")
    technical = "ReadTimeout" if fault == "timeout" else "ConnectionError"
    assert f"after 2 attempts" in caplog.text and technical in caplog.text
    # The run page, read by a Dutch manager (over HTTP): the words, the attempts; nothing of the exception.
    import requests
    from portal.demo.seed import seed_users
    from portal.models import User
    from tests.factories import csrf_from
    seed_users()
    db.session.execute(db.update(User).where(User.email == "manager@example.com").values(locale="nl"))
    db.session.commit()
    http = requests.Session()
    form = http.get(sctx.url + "/auth/login", timeout=30).text
    http.post(sctx.url + "/auth/login", timeout=30, data={"email": "manager@example.com", "password": "demo",
                                                         "csrf_token": csrf_from(form)})
    page = http.get(f"{sctx.url}/runs/{run.id}", timeout=30).text
    assert '<html lang="nl"' in page
    assert run.error_reason in page and f"De export is mislukt: {run.error_reason}" in page
    for text in (technical, "TransientError", "VismaNet", "after 2 attempts"):
        assert text not in page, text
    if fault == "timeout":
        faults(delay_seconds=0)
        time.sleep(1.2)          # the sandbox's last slow answers finish before the server stops
