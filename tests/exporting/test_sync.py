"""Sync semantics (DESIGN §4): every sync type × test/production; new, changed and removed records."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.exporting import queries, services, sync
from portal.exporting.types import get_type
from portal.extensions import db
from portal.models import Payment

from tests import factories
from tests.factories import rows_of, start_and_run


def _by_key(rows):
    return {row["receipt_number"]: row for row in rows}


@pytest.mark.parametrize("sync_type", ["full", "incremental_all", "incremental_new"])
def test_sync_types_in_test_and_production(ctx, sync_type):
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 5)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type=sync_type)

    # A test run delivers what production would, and records nothing.
    test_run = start_and_run(profile, "test")
    assert test_run.status == "exported", test_run.error_reason
    assert sorted(r["mutation"] for r in rows_of(test_run)) == ["new"] * 5
    assert sync.current_ledger(profile.id) == {}
    assert queries.mapping_history(profile.id) == []

    first = start_and_run(profile, "production")
    assert first.status == "exported", first.error_reason
    first_rows = rows_of(first)
    assert [r["mutation"] for r in first_rows] == ["new"] * 5
    ledger_after_first = sync.current_ledger(profile.id)
    assert set(ledger_after_first) == {p.receipt_number for p in made}
    assert len(queries.mapping_history(profile.id)) == 1

    # One changed, one removed, one new.
    made[0].amount = Decimal("99.99")
    removed_number = made[1].receipt_number
    db.session.delete(made[1])
    db.session.add(Payment(company_id=zorg.id, receipt_number="R999999", customer_number="C9",
                           customer_name="New customer", payment_type="CASH", amount=Decimal("5.00"),
                           paid_at=datetime(2026, 11, 20, 10, 0)))
    db.session.commit()

    expected = {
        "full": {"R000000": "changed", "R999999": "new", "R000002": "unchanged", "R000003": "unchanged",
                 "R000004": "unchanged"},
        "incremental_all": {"R000000": "changed", "R999999": "new", removed_number: "removed"},
        "incremental_new": {"R999999": "new"},
    }[sync_type]

    second_test = start_and_run(profile, "test")
    test_rows = _by_key(rows_of(second_test))
    assert {k: r["mutation"] for k, r in test_rows.items()} == expected
    assert sync.current_ledger(profile.id) == ledger_after_first   # test runs leave the ledger untouched

    second = start_and_run(profile, "production")
    production_rows = _by_key(rows_of(second))
    assert production_rows == test_rows                              # same rows as the test run
    if sync_type == "incremental_all":
        # A removal is a cancellation line: the delivered amount, negated.
        assert Decimal(str(production_rows[removed_number]["amount"])) == -Decimal("13.50")
    if "R000000" in expected:
        assert Decimal(str(production_rows["R000000"]["amount"])) == Decimal("99.99")
    ledger = sync.current_ledger(profile.id)
    if sync_type == "incremental_all":
        assert removed_number not in ledger
    if sync_type != "incremental_new":
        assert ledger["R000000"] != ledger_after_first["R000000"]
    assert "R999999" in ledger

    # Nothing changed since: an incremental run delivers nothing; a full run delivers all, unchanged.
    third = start_and_run(profile, "production")
    third_rows = rows_of(third)
    if sync_type == "full":
        assert sorted(r["mutation"] for r in third_rows) == ["unchanged"] * 5
    else:
        assert third_rows == []
    assert third.status == "exported"
    # The counts add up for every sync type: what an incremental run leaves out is unchanged.
    counts = third.counts
    assert counts["records"] == 5 and counts["unchanged"] == 5, counts
    assert counts["new"] + counts["changed"] + counts["unchanged"] == counts["records"]


def test_window_limits_removals(ctx):
    """Ledger records outside the run's window are not removals."""
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="P", export_type="payments", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    start_and_run(profile, "production")
    december = start_and_run(profile, "production", window_start="2026-12-01", window_end="2026-12-31")
    assert rows_of(december) == []
    assert len(sync.current_ledger(profile.id)) == 3


@pytest.mark.parametrize("engine", ["one statement", "row by row"])
def test_a_product_changed_after_its_delivery_is_not_removed_by_the_next_window(ctx, monkeypatch, engine):
    """Products' window is over their change time (``updated_at``): an item edited after its delivery leaves
    the window it was delivered in. A daily 'last 7 days' run must not deliver it as removed (Visma.net
    would set the item Inactive) nor drop it from the ledger; an item deleted from the source is removed."""
    if engine == "row by row":
        monkeypatch.setattr(type(get_type("products")), "sql_source", lambda self, ctx, dialect: None)
    zorg, _, _ = factories.companies()
    made = factories.products(zorg, 4, at=datetime(2026, 11, 10, 8, 0))
    db.session.commit()
    profile = services.create_profile(name="Items", export_type="products", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    first = start_and_run(profile, "production", window_start="2026-11-04", window_end="2026-11-10")
    assert first.status == "exported" and len(rows_of(first)) == 4
    # 12 November: one item's price changes (its change time moves to 12 November), another is deleted.
    made[2].sales_price = Decimal("11.95")
    made[2].updated_at = datetime(2026, 11, 12, 6, 0)
    db.session.delete(made[3])
    db.session.commit()
    for mode in ("test", "production"):     # the same on both
        second = start_and_run(profile, mode, window_start="2026-11-05", window_end="2026-11-11")
        assert second.status == "exported", second.error_reason
        assert [(r["item_code"], r["mutation"]) for r in rows_of(second)] == [("ITEM0003", "removed")]
    ledger = sync.current_ledger(profile.id)
    assert "ZORG/ITEM0002" in ledger and "ZORG/ITEM0003" not in ledger
    # The run whose window holds its new change time delivers it as changed.
    third = start_and_run(profile, "production", window_start="2026-11-06", window_end="2026-11-12")
    assert [(r["item_code"], r["mutation"], r["sales_price"]) for r in rows_of(third)] == [
        ("ITEM0002", "changed", 11.95)]


def test_the_production_confirmation_counts_each_record_of_the_window_once_in_local_days(ctx):
    """Start export → production first says how many records of the window the ledger already holds
    (``queries.production_preview``): each record once however often it was delivered, as the ledger
    holds it now (a roll back takes its run's deliveries out), by the organisation's local days — as the
    engine's window (Europe/Amsterdam: 1 December 00:30 is December, 1 November 00:30 is November)."""
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 1, at=datetime(2026, 11, 12, 9, 0))
    for number, at in (("R-DEC", datetime(2026, 11, 30, 23, 30)),      # 1 December, 00:30 local
                       ("R-NOV", datetime(2026, 10, 31, 23, 30))):     # 1 November, 00:30 local
        db.session.add(Payment(company_id=zorg.id, receipt_number=number, customer_number="C", payment_type="CASH",
                               amount=Decimal("1.00"), paid_at=at))
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    start_and_run(profile, "production", window_start="2026-10-01", window_end="2026-12-31")
    made[0].amount = Decimal("99.00")
    db.session.commit()
    again = start_and_run(profile, "production")          # November: R000000 delivered a second time
    assert [r["receipt_number"] for r in rows_of(again)] == ["R000000"]

    def preview(start, end):
        found = queries.production_preview(profile, start, end)
        return found.recorded_records, found.recorded_runs

    november, december = (date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 12, 1), date(2026, 12, 31))
    assert preview(*november) == (2, 2)                   # R000000 (the second run), R-NOV (the first)
    assert preview(*december) == (1, 1)                   # R-DEC
    services.roll_back(again.id)
    assert preview(*november) == (2, 1)                   # both as the first run delivered them
