"""A real worker process killed with SIGKILL between sending a document to Visma.net and recording the
answer: the reconciler of the next worker retries the run (a second attempt), which looks the document
up before sending it again — the sandbox holds it once."""
import time

from portal.exporting import services, sync
from portal.extensions import db
from portal.models import Run, VismaDocument

from ..test_worker import _alive, _kill_all, _start_worker, _stop, _wait
from .conftest import WINDOW, companies, documents, faults, payments, received, records, rows


def _wait_for(predicate, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_between_sending_and_recording_posts_nothing_twice(vctx):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payments(zorg, 3)
    db.session.commit()
    profile = vctx.profile("payments")
    app = vctx.app
    env = {name: app.config[name] for name in ("VISMA_NET_API_URL", "VISMA_NET_TOKEN_URL", "VISMA_NET_AUTHORIZE_URL",
                                               "VISMA_NET_REVOKE_URL")}
    faults(delay_seconds=4)          # Visma.net answers slowly: the worker waits with the POST in flight
    worker = _start_worker(app, **env)
    try:
        run = services.start_run(profile.id, mode="production", **WINDOW)
        _wait_for(lambda: db.session.execute(db.select(VismaDocument).where(
            VismaDocument.run_id == run.id, VismaDocument.state == "sending")).scalar(), what="a document sent")
        time.sleep(0.5)
        victims = _kill_all(worker)
    finally:
        if worker.poll() is None:
            _stop(worker)
    _wait_for(lambda: not any(_alive(pid) for pid in victims), what="the worker to die")
    # Visma.net (the sandbox) finishes the request it got: the document exists, the portal never heard.
    _wait_for(lambda: len(records("customerPayment")) == 1, timeout=20, what="the sandbox's answer")
    faults(delay_seconds=0)
    run = db.session.get(Run, run.id)
    assert run.status == "exporting"
    assert not any(r.processed for r in rows(run))
    assert sync.current_ledger(profile.id) == {}

    worker = _start_worker(app, **env)
    try:
        # The new worker's reconciler finds the stopped heartbeat and retries the run from a clean state.
        again = _wait(run.id, lambda r: r.status in ("exported", "failed", "partially_processed"), timeout=90)
        assert again.status == "exported", again.error_reason
        assert [a.outcome for a in again.attempt_history] == ["worker_lost", "completed"]
    finally:
        _stop(worker)
    held = records("customerPayment")
    assert sorted(b["invoiceText"]["value"] for _k, _n, b in held) == ["R000000 SHOP", "R000001 SHOP", "R000002 SHOP"]
    assert len(received("POST", "/v1/customerPayment")) == 3             # the first one was not posted again
    assert len(received("GET", "/v1/customerPayment")) >= 1              # … it was looked up instead
    numbers = sorted(d.visma_number for d in documents(again))
    assert numbers == sorted(n for _k, n, _b in held)
    assert len(sync.current_ledger(profile.id)) == 3
