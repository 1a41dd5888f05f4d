"""Rows the portal refuses itself (a company not mapped to a Visma.net branch) are row errors by rule, like a
blocked debtor: they never stop the sync (only a record Visma.net rejects does), are never "left" (they do
not keep a run Partially processed nor block the next production run), and each counts once. Against the
sandbox over real HTTP, on SQLite and PostgreSQL."""
import pytest

from portal.exporting import services, sync
from portal.exporting.providers.visma_net import VismaNetProvider, stop_state
from portal.exporting.report import report
from portal.extensions import db

from .conftest import WINDOW, assert_valid, companies, invoices, payments, received, records, rows, run_now


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 5 instead of 100: the refused rows fill the first batch, the rest come after."""
    monkeypatch.setattr(VismaNetProvider, "batch_size", 5)


@pytest.mark.parametrize("mode", ["test", "production"])
def test_payments_of_an_unmapped_company_are_row_errors_and_the_rest_is_sent(vctx, openapi, small_batches, mode):
    zorg, _thuis, test = companies()
    vctx.authorise()
    vctx.map(zorg)                                     # TEST left unmapped (the wizard allows it)
    payments(test, 3, dept="TST")
    payments(zorg, 12, first=100)
    db.session.commit()
    profile = vctx.profile("payments")

    run = run_now(profile, mode, **WINDOW)
    assert run.status == "exported", run.error_reason           # not "Partially processed": nothing left
    state = [(r.company_id == test.id, r.processed, r.invalid, bool(r.error)) for r in rows(run)]
    assert sorted(state) == [(False, True, False, False)] * 12 + [(True, False, True, True)] * 3
    assert run.counts["processed"] == 12 and run.counts["left"] == 0 and run.counts["errors"] == 3
    assert run.counts["stopped_on_error"] is False
    assert stop_state(profile) is None                          # no system message: Visma.net rejected nothing
    assert [i["code"] for i in report(run.id)["items"] if i["severity"] == "error"] == ["visma_not_mapped"] * 3
    assert_valid(openapi, run)
    if mode == "production":
        assert len(records("customerPayment")) == 12
        assert len(received("POST", "/v1/customerPayment")) == 12
        assert len(sync.current_ledger(profile.id)) == 12
        # The next production run may start (nothing left, no stop): the refused rows are tried again.
        again = run_now(profile, **WINDOW)
        assert again.status == "exported" and again.counts["errors"] == 3, again.error_reason
    else:
        assert received("POST", "/v1/customerPayment") == []


def test_invoices_of_an_unmapped_company_do_not_keep_the_run_partially_processed(vctx, openapi):
    zorg, _thuis, test = companies()
    vctx.authorise()
    vctx.map(zorg)
    invoices(zorg, 3)
    from tests import factories
    factories.invoice_lines(test, factories.debtors(test), 4, start=100)
    db.session.commit()
    profile = vctx.profile("invoices", sync_type="incremental_all")
    window = dict(WINDOW, booking_date="2026-11-30", description="November")
    run = run_now(profile, **window)
    assert run.status == "exported", run.error_reason
    refused = [r for r in rows(run) if r.invalid]
    assert len(refused) == 4 and all("not mapped" in r.error for r in refused)
    assert run.counts["errors"] == 4 and run.counts["left"] == 0
    assert_valid(openapi, run)
    # The next production run is not blocked by the refused rows: it starts and finishes.
    again = services.start_run(profile.id, mode="production", **window)
    from tests.factories import execute
    execute(again)
    assert db.session.get(type(again), again.id).status == "exported"
