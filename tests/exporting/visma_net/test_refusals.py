"""Rows the portal refuses itself (a company not mapped to a Visma.net branch) are row errors by rule, like a
blocked debtor: they never stop the sync (only a record Visma.net rejects does), are never "left" (they do
not keep a run Partially processed nor block the next production run), and each counts once. They are found
at prepare (the provider's row checks), and refused again at delivery when a mapping went in between. Against
the sandbox over real HTTP, on SQLite and PostgreSQL."""
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


# ---- found at prepare ------------------------------------------------------------------------------

@pytest.fixture(params=["set_based", "row_by_row"])
def engine_path(request, monkeypatch):
    """Both of the engine's ways to prepare: one statement (``sql_source``) and row by row (a type without
    it); the provider's row checks agree on both."""
    if request.param == "row_by_row":
        from portal.exporting.types import get_type
        monkeypatch.setattr(type(get_type("payments")), "sql_source", lambda self, ctx, dialect: None)
    return request.param


def _not_mapped(company, record):
    return (f"{company.name} is not mapped to a Visma.net branch in the integration account: record {record} is "
            "not sent.")


def _errors_only_page(app, run):
    from portal.demo.seed import seed_users
    from tests.factories import AuthActions
    seed_users()
    db.session.commit()
    client = app.test_client()
    AuthActions(client).login("manager")
    answer = client.get(f"/runs/{run.id}/prepared?errors=1")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_prepare_finds_the_rows_of_an_unmapped_company_and_export_sends_only_the_rest(vctx, engine_path):
    """Prepare only: the rows of a company without an administration mapping are invalid at once, with
    the message and a report item (not only when the export refuses them); the export sends the rest and
    the run ends Exported; once the company is mapped, the next run sends its rows."""
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)                                     # Thuiszorg Noord left unmapped
    payments(thuis, 3, first=0)
    payments(zorg, 4, first=100)
    db.session.commit()
    profile = vctx.profile("payments")

    run = run_now(profile, operation="prepare", **WINDOW)
    assert run.status == "prepared", run.error_reason
    assert received("POST", "/v1/customerPayment") == []      # prepare sends nothing
    state = sorted((r.record_key, r.invalid, r.error) for r in rows(run))
    assert state == [(f"R{i:06d}", True, _not_mapped(thuis, f"R{i:06d}")) for i in range(3)] + \
        [(f"R{i:06d}", False, None) for i in range(100, 104)]
    items = [i for i in report(run.id)["items"] if i["severity"] == "error"]
    assert [(i["code"], i["record_key"]) for i in items] == [("visma_not_mapped", f"R{i:06d}") for i in range(3)]
    assert [i["message"] for i in items] == [_not_mapped(thuis, f"R{i:06d}") for i in range(3)]
    assert run.counts["invalid"] == 3 and run.counts["errors"] == 3
    page = _errors_only_page(vctx.app, run)
    assert all(_not_mapped(thuis, f"R{i:06d}") in page for i in range(3))
    assert "R000100" not in page

    services.request_export(run.id)
    from tests.factories import execute
    execute(run.id)
    db.session.rollback()
    run = db.session.get(type(run), run.id)
    assert run.status == "exported", run.error_reason          # the invalid rows are not "left"
    assert run.counts["processed"] == 4 and run.counts["left"] == 0 and run.counts["errors"] == 3
    assert len(received("POST", "/v1/customerPayment")) == 4
    assert [i["code"] for i in report(run.id)["items"] if i["severity"] == "error"] == ["visma_not_mapped"] * 3
    assert stop_state(profile) is None

    vctx.map(thuis, dimensions=False)
    again = run_now(profile, **WINDOW)
    assert again.status == "exported", again.error_reason
    assert sorted(r.record_key for r in rows(again) if r.processed) == [f"R{i:06d}" for i in range(3)]
    assert not any(r.invalid for r in rows(again)) and again.counts["errors"] == 0
    assert len(received("POST", "/v1/customerPayment")) == 7


def test_a_mapping_removed_between_prepare_and_export_is_still_refused_at_delivery(vctx):
    """The provider's own refusal stays as a safety net: prepare found every company mapped, the mapping
    was deleted before the export; those rows are refused (row errors, not left), the rest is sent."""
    from portal.integrations import services as integrations
    from portal.models import AdministrationMapping
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis)
    payments(thuis, 2, first=0)
    payments(zorg, 3, first=100)
    db.session.commit()
    profile = vctx.profile("payments")
    run = run_now(profile, operation="prepare", **WINDOW)
    assert run.status == "prepared" and not any(r.invalid for r in rows(run))

    mapping = db.session.execute(db.select(AdministrationMapping).filter_by(
        account_id=vctx.account.id, company_id=thuis.id)).scalar_one()
    integrations.delete_mapping(vctx.account, mapping.id)
    services.request_export(run.id)
    from tests.factories import execute
    execute(run.id)
    db.session.rollback()
    run = db.session.get(type(run), run.id)
    assert run.status == "exported", run.error_reason
    refused = [r for r in rows(run) if r.invalid]
    assert sorted(r.record_key for r in refused) == ["R000000", "R000001"]
    assert all(r.error == _not_mapped(thuis, r.record_key) for r in refused)
    assert run.counts["processed"] == 3 and run.counts["left"] == 0 and run.counts["errors"] == 2
    assert len(received("POST", "/v1/customerPayment")) == 3
