"""Runs: roll back, partially processed and re-export, Active rows, idempotency, one production run per
profile, legal transitions, report in the starter's locale and as CSV."""
import threading

import pytest

from portal.exporting import queries, services, states, sync
from portal.exporting.errors import ExportError, IllegalTransition
from portal.exporting.report import report, report_csv
from portal.extensions import db
from portal.models import LedgerEntry, MappingHistoryEntry, PreparedRow, Run, User

from tests import factories
from tests.factories import execute, files_of, read_csv, read_jsonl, rows_of, start_and_run


def _payments_profile(count=4, sync_type="incremental_all"):
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, count)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type=sync_type)
    return profile, made, zorg


def test_roll_back_restores_the_ledger_exactly_and_refuses_older_runs(ctx):
    profile, made, _ = _payments_profile()
    first = start_and_run(profile, "production")
    after_first = sync.current_ledger(profile.id)
    entries_after_first = db.session.query(LedgerEntry).count()
    made[0].amount = 1234
    db.session.delete(made[1])
    db.session.commit()
    second = start_and_run(profile, "production")
    assert sync.current_ledger(profile.id) != after_first
    assert len(queries.mapping_history(profile.id)) == 2

    with pytest.raises(ExportError) as refused:
        services.roll_back(first.id)
    assert refused.value.code == "not_latest_production"
    assert f"Roll back export {second.id} first." in str(refused.value)
    assert db.session.get(Run, first.id).status == "exported"

    services.roll_back(second.id)
    assert sync.current_ledger(profile.id) == after_first
    history = queries.mapping_history(profile.id)
    assert [h.run_id for h in history] == [first.id]
    assert db.session.query(PreparedRow).filter_by(run_id=second.id).count() == 0
    # Append-only: the entries are still there, they no longer count.
    assert db.session.query(LedgerEntry).count() > entries_after_first
    # The next production run delivers the same mutations again.
    again = start_and_run(profile, "production")
    assert sorted(r["mutation"] for r in rows_of(again)) == ["changed", "removed"]
    # Now the first run can be rolled back only after the others.
    services.roll_back(again.id)
    services.roll_back(first.id)
    assert sync.current_ledger(profile.id) == {}


def test_test_runs_roll_back_without_touching_the_ledger(ctx):
    profile, _, _ = _payments_profile()
    start_and_run(profile, "production")
    before = sync.current_ledger(profile.id)
    test_run = start_and_run(profile, "test")
    services.roll_back(test_run.id)
    assert sync.current_ledger(profile.id) == before


def test_blocked_debtor_is_a_row_error_and_partial_runs_re_export_only_what_is_left(ctx):
    zorg, _, _ = factories.companies()
    debtors = factories.debtors(zorg, 3, blocked={1})
    factories.invoice_lines(zorg, debtors, 6)
    db.session.commit()
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    run = services.start_run(profile.id, mode="production", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30", booking_date="2026-11-30", description="November")
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "prepared"
    rows = queries.prepared_rows(run.id, per_page=100).items
    blocked = [r for r in rows if r.invalid]
    assert len(blocked) == 2 and all("10002" in r.error for r in blocked)
    codes = [i["code"] for i in report(run.id)["items"]]
    assert codes.count("debtor_blocked") == 2

    # Untick one good row before export.
    good = [r for r in rows if not r.invalid]
    services.set_row_active(run.id, good[0].id, False)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "partially_processed"
    delivered = rows_of(run)
    assert len(delivered) == 3
    assert all(r["booking_date"] == "2026-11-30" and r["booking_description"] == "November" for r in delivered)
    assert "10002" not in {r["debtor_number"] for r in delivered}
    assert len(sync.current_ledger(profile.id)) == 3

    # Tick it again: export delivers only what is left (the blocked rows are errors, not "left").
    services.set_row_active(run.id, good[0].id, True)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "exported"
    second_file = files_of(run)[-1]
    assert [r["invoice_number"] for r in read_jsonl(second_file.path)] == [good[0].record_key.split("/")[0]]
    assert len(sync.current_ledger(profile.id)) == 4
    assert len(files_of(run)) == 2
    history = queries.mapping_history(profile.id)
    assert [h.status for h in history] == ["exported", "partially_processed", "prepared"]
    with pytest.raises(ExportError):
        services.set_row_active(run.id, good[0].id, False)


def test_idempotency_key_yields_one_run(ctx):
    profile, _, _ = _payments_profile()
    first = services.start_run(profile.id, mode="test", idempotency_key="form-token-1")
    second = services.start_run(profile.id, mode="test", idempotency_key="form-token-1")
    assert first.id == second.id
    assert db.session.query(Run).count() == 1


def test_two_production_starts_at_once_give_one_run(ctx):
    profile, _, _ = _payments_profile()
    app, profile_id = ctx, profile.id
    barrier = threading.Barrier(2)
    outcomes = []

    def start():
        with app.app_context():
            barrier.wait()
            try:
                run = services.start_run(profile_id, mode="production")
                outcomes.append(("run", run.id))
            except ExportError as error:
                outcomes.append(("refused", error.code))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(kind for kind, _ in outcomes) == ["refused", "run"], outcomes
    assert ("refused", "production_run_active") in outcomes
    assert db.session.query(Run).filter_by(mode="production").count() == 1
    # Test runs may run side by side with it.
    services.start_run(profile.id, mode="test")
    services.start_run(profile.id, mode="test")


def test_the_database_itself_refuses_a_second_active_production_run(ctx):
    from sqlalchemy.exc import IntegrityError
    profile, _, _ = _payments_profile()
    services.start_run(profile.id, mode="production")
    other = Run(profile_id=profile.id, mode="production", operation="prepare", params={},
                window_start=factories.NOVEMBER[0], window_end=factories.NOVEMBER[1], status="prepared", locale="en")
    db.session.add(other)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_only_legal_transitions(ctx):
    profile, _, _ = _payments_profile()
    run = start_and_run(profile, "test")
    assert run.status == "exported"
    with pytest.raises(ExportError) as error:
        services.cancel_run(run.id)
    assert error.value.code == "not_cancellable"
    with pytest.raises(ExportError) as error:
        services.request_export(run.id)
    assert error.value.code == "not_exportable"
    with pytest.raises(IllegalTransition):
        states.transition(run, "preparing")
    assert run.status == "exported"


def test_cancel_a_queued_run_and_its_job_does_nothing(ctx):
    profile, _, _ = _payments_profile()
    run = services.start_run(profile.id, mode="production")
    services.cancel_run(run.id)
    assert execute(run) == "skipped"
    assert db.session.get(Run, run.id).status == "cancelled"
    # Running the same job twice is harmless too.
    other = services.start_run(profile.id, mode="production")
    assert execute(other) == "exported"
    assert execute(other) == "skipped"
    assert db.session.query(MappingHistoryEntry).count() == 1


def test_parameters_are_validated(ctx):
    profile, _, _ = _payments_profile()
    with pytest.raises(ExportError) as error:
        services.start_run(profile.id, booking_date="2026-11-30")
    assert error.value.code == "parameter_not_accepted"
    with pytest.raises(ExportError) as error:
        services.start_run(profile.id, window_start="2026-11-30", window_end="2026-11-01")
    assert error.value.code == "window_reversed"
    with pytest.raises(ExportError) as error:
        services.start_run(profile.id, window_start="30-11-2026", window_end="2026-12-01")
    assert error.value.code == "bad_date"
    assert db.session.query(Run).count() == 0


def test_report_in_the_starters_locale_and_as_csv(ctx):
    zorg, _, _ = factories.companies()
    debtors = factories.debtors(zorg, 2, blocked={0})
    factories.invoice_lines(zorg, debtors, 2)
    user = User(email="sv@example.com", name="Sven", password_hash="x", permissions_text="import_export",
                locale="sv")
    db.session.add(user)
    db.session.commit()
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "csv"})
    run = start_and_run(profile, "test", user=user)
    assert run.locale == "sv"
    assert run.status == "exported"      # a blocked debtor is an error, not a row left
    items = report(run.id)["items"]
    assert items[0]["code"] == "debtor_blocked"
    english = report(run.id, locale="en")["items"][0]["message"]
    assert items[0]["message"] != english and "10001" in items[0]["message"]
    text = report_csv(run.id)
    assert items[0]["message"] in text
    parsed = read_csv_text(text)
    assert parsed[0][2] == items[0]["message"]
    # The prepared row's error is in the starter's language too.
    bad = [r for r in queries.prepared_rows(run.id).items if r.invalid][0]
    assert bad.error == items[0]["message"]
    # The file's translated headers are in the starter's language.
    header = read_csv(files_of(run)[0].path, encoding="utf-8")[0].keys()
    assert "Fakturanummer" in "".join(header) or "Faktura" in "".join(header)


def read_csv_text(text):
    import csv
    import io
    return list(csv.reader(io.StringIO(text)))[1:]


def test_unticked_rows_leave_the_run_partially_processed_and_rule_errors_do_not(ctx):
    """Issue 9, point 6 (seed 000): an export that leaves active-able rows unprocessed (unticked) ends
    Partially processed; ticking them later and exporting delivers just those, as a new file version
    with its own Mapping history line. Rows invalid by rule (a blocked debtor) are errors, not "left":
    they neither keep a run Partially processed nor block the next production run."""
    zorg, _, _ = factories.companies()
    debtors = factories.debtors(zorg, count=3, blocked=(1,))
    factories.invoice_lines(zorg, debtors, 6)
    db.session.commit()
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    window = dict(window_start="2026-11-01", window_end="2026-11-30")
    run = services.start_run(profile.id, mode="production", operation="prepare", **window)
    execute(run)
    from portal.exporting import queries
    rows = queries.prepared_rows(run.id, per_page=100).items
    good = [r for r in rows if not r.invalid]
    services.set_row_active(run.id, good[0].id, False)     # unticked, not a blocked debtor's
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "partially_processed" and run.counts["left"] == 1
    services.set_row_active(run.id, good[0].id, True)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "exported"                        # the blocked debtor's rows stay errors
    first_file, second_file = files_of(run)
    assert first_file.version != second_file.version or first_file.name != second_file.name
    assert len(rows_of_file(second_file)) == 1
    assert [h.status for h in queries.mapping_history(profile.id)] == ["exported", "partially_processed",
                                                                       "prepared"]
    # Only blocked rows left over from the start: Exported, and the next production run may start.
    factories.invoice_lines(zorg, debtors, 3, start=100)
    db.session.commit()
    again = services.start_run(profile.id, mode="production", **window)
    execute(again)
    assert db.session.get(Run, again.id).status == "exported"
    assert services.start_run(profile.id, mode="production", **window) is not None


def rows_of_file(run_file):
    return read_jsonl(run_file.path)
