"""The current-ledger table (``ledger_current``): after a production run, after a roll back and after a
run that dies before its commit, it equals what the append-only history says counts now — exactly."""
from datetime import datetime
from decimal import Decimal

import pytest

from portal.exporting import services, sync
from portal.extensions import db
from portal.models import LedgerCurrent, Payment

from tests import factories
from tests.factories import execute, rows_of, start_and_run


def _profile(count=5, sync_type="incremental_all"):
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, count)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type=sync_type)
    return profile, made, zorg


def _change(made, zorg):
    """One changed, one removed, one new record."""
    made[0].amount = Decimal("99.99")
    removed = made[1].receipt_number
    db.session.delete(made[1])
    db.session.add(Payment(company_id=zorg.id, receipt_number="R999999", customer_number="C9",
                           customer_name="New customer", payment_type="CASH", amount=Decimal("5.00"),
                           paid_at=datetime(2026, 11, 20, 10, 0)))
    db.session.commit()
    return removed


@pytest.mark.parametrize("sync_type", ["full", "incremental_all", "incremental_new"])
def test_after_production_the_table_equals_the_history(ctx, sync_type):
    profile, made, zorg = _profile(sync_type=sync_type)
    start_and_run(profile, "test")
    assert sync.current_table(profile.id) == {}               # a test run records nothing

    first = start_and_run(profile, "production")
    table = sync.current_table(profile.id)
    assert set(table) == {p.receipt_number for p in made}
    assert table == sync.current_from_history(profile.id)
    assert {row.run_id for row in db.session.query(LedgerCurrent).filter_by(profile_id=profile.id)} == {first.id}

    removed = _change(made, zorg)
    second = start_and_run(profile, "production")
    table = sync.current_table(profile.id)
    assert table == sync.current_from_history(profile.id)
    assert "R999999" in table
    assert (removed not in table) == (sync_type == "incremental_all")   # only incremental_all removes
    changed = {row.record_key: row.run_id for row in db.session.query(LedgerCurrent)
               .filter_by(profile_id=profile.id)}
    if sync_type == "incremental_new":
        assert changed["R000000"] == first.id                 # a change is not delivered, not recorded
    else:
        assert changed["R000000"] == second.id
    assert changed["R000002"] == first.id                     # unchanged records keep their entry


def test_roll_back_restores_the_table_exactly(ctx):
    profile, made, zorg = _profile()
    start_and_run(profile, "production")
    before = sync.current_table(profile.id)
    removed = _change(made, zorg)
    second = start_and_run(profile, "production")
    assert sync.current_table(profile.id) != before
    assert removed not in sync.current_table(profile.id)

    services.roll_back(second.id)
    assert sync.current_table(profile.id) == before           # the same entries, ids included
    assert sync.current_table(profile.id) == sync.current_from_history(profile.id)
    # And the next production run delivers the same mutations again.
    again = start_and_run(profile, "production")
    assert sorted(r["mutation"] for r in rows_of(again)) == ["changed", "new", "removed"]
    assert sync.current_table(profile.id) == sync.current_from_history(profile.id)


def test_a_run_that_dies_before_its_commit_leaves_the_table_as_it_was(ctx, monkeypatch):
    profile, made, zorg = _profile()
    start_and_run(profile, "production")
    before = sync.current_table(profile.id)
    _change(made, zorg)

    real = sync.append_ledger

    def dies_after_recording(*args, **kwargs):
        real(*args, **kwargs)           # history and current ledger written, not yet committed …
        raise RuntimeError("the worker died")   # … and the transaction never commits

    monkeypatch.setattr(sync, "append_ledger", dies_after_recording)
    died = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    with pytest.raises(RuntimeError):
        execute(died)                   # the job fails (as the worker's would)
    died = db.session.get(type(died), died.id)
    assert died.status == "failed"
    assert sync.current_table(profile.id) == before
    assert sync.current_table(profile.id) == sync.current_from_history(profile.id)

    monkeypatch.setattr(sync, "append_ledger", real)
    again = start_and_run(profile, "production")
    assert again.status == "exported", again.error_reason
    assert sorted(r["mutation"] for r in rows_of(again)) == ["changed", "new", "removed"]
    assert sync.current_table(profile.id) == sync.current_from_history(profile.id)


def test_restore_current_rebuilds_a_profile_from_the_history(ctx):
    profile, made, zorg = _profile()
    start_and_run(profile, "production")
    _change(made, zorg)
    start_and_run(profile, "production")
    expected = sync.current_table(profile.id)
    db.session.query(LedgerCurrent).filter_by(profile_id=profile.id).delete()
    sync.restore_current(profile.id)
    db.session.commit()
    assert sync.current_table(profile.id) == expected
