"""Mapping history (seed 000) against what the run and the ledger hold: the "Prepared" line that Scenarios'
"Prepared on" reads, and a roll back that takes every line of the rolled-back run (each export pass has its
own) out of the history — on SQLite and PostgreSQL."""
from portal.exporting import queries, services, sync
from portal.extensions import db
from portal.models import Run

from tests import factories
from tests.factories import execute, start_and_run

WINDOW = {"window_start": "2026-11-01", "window_end": "2026-11-30"}


def _profile(count=5):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, count)
    db.session.commit()
    return services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                   sync_type="incremental_all")


def _history(profile):
    return [(h.run_id, h.status, h.record_count) for h in reversed(queries.mapping_history(profile.id))]


def test_prepare_writes_the_prepared_line_that_scenarios_shows_as_prepared_on(ctx):
    profile = _profile()
    run = services.start_run(profile.id, mode="production", operation="prepare", **WINDOW)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "prepared", run.error_reason
    assert _history(profile) == [(run.id, "prepared", 5)]
    row = {r.profile.id: r for r in queries.scenarios("export")}[profile.id]
    assert row.run.id == run.id and row.prepared_on is not None
    assert row.prepared_on == run.finished_at
    # A test run records nothing, not even a "Prepared" line.
    test_run = services.start_run(profile.id, mode="test", operation="prepare", **WINDOW)
    execute(test_run)
    assert db.session.get(Run, test_run.id).status == "prepared"
    assert _history(profile) == [(run.id, "prepared", 5)]


def test_roll_back_removes_every_history_line_of_the_run_its_export_passes_made(ctx):
    profile = _profile()
    run = services.start_run(profile.id, mode="production", operation="prepare", **WINDOW)
    execute(run)
    rows = queries.prepared_rows(run.id, per_page=100).items
    left_out = rows[:2]
    for row in left_out:
        services.set_row_active(run.id, row.id, False)
    services.request_export(run.id)
    execute(run)
    assert db.session.get(Run, run.id).status == "partially_processed"
    for row in left_out:
        services.set_row_active(run.id, row.id, True)
    services.request_export(run.id)
    execute(run)
    assert db.session.get(Run, run.id).status == "exported"
    assert _history(profile) == [(run.id, "prepared", 5), (run.id, "partially_processed", 3),
                                 (run.id, "exported", 2)]

    plan = queries.roll_back_plan(db.session.get(Run, run.id))
    assert [h.status for h in plan.history_lines] == ["exported", "partially_processed", "prepared"]
    services.roll_back(run.id)
    # The ledger is what it was before the run: so is the history.
    assert sync.current_ledger(profile.id) == {}
    assert _history(profile) == []

    # A later production run: the history says what the ledger holds.
    again = start_and_run(profile, "production", **WINDOW)
    assert again.status == "exported", again.error_reason
    assert len(sync.current_ledger(profile.id)) == 5
    assert _history(profile) == [(again.id, "exported", 5)]
