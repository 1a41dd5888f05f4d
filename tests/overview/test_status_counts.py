"""The overview's totals per status come from ``run_status_counts``, which the database's triggers on
``runs`` keep in step with every change of a run's status, mode or profile: inserts, the engine's status
changes, bulk UPDATEs, deletes, roll backs of the transaction — and, on PostgreSQL, concurrent
transactions that change the same counters (they wait for each other and neither deadlocks nor loses
a change)."""
import threading
from datetime import date

import pytest
from sqlalchemy import delete, func, select, text, update

from portal.extensions import db
from portal.models.exporting import Run
from portal.models.overview import RunStatusCount

from tests import factories
from tests.overview.test_overview import seed_runs


def counted():
    """{(profile, mode, status): runs} counted from ``runs`` itself: what the counters must say."""
    return {(p, m, s): n for p, m, s, n in db.session.execute(
        select(Run.profile_id, Run.mode, Run.status, func.count()).group_by(Run.profile_id, Run.mode, Run.status))}


def kept():
    """The counters, without the ones at zero."""
    return {(c.profile_id, c.mode, c.status): c.run_count
            for c in db.session.execute(select(RunStatusCount)).scalars() if c.run_count}


def assert_exact():
    db.session.expire_all()
    assert kept() == counted()
    from portal.exporting import queries
    for filters in (queries.OverviewFilters(), queries.OverviewFilters(mode="production"),
                    queries.OverviewFilters(mode="test", export_type="invoices")):
        assert queries.overview_totals(filters) == queries._counted_totals(filters), filters


def test_counts_follow_inserts_changes_deletes_and_rollbacks(any_app):
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        journals, invoices = factories.profile("Journaal"), factories.profile("Facturen", export_type="invoices")
        seed_runs([journals.id, invoices.id], 300, [factories.user_id("staff")])      # bulk INSERT
        assert_exact()
        run = factories.run(journals, status="queued")                                  # ORM INSERT
        assert_exact()
        from portal.exporting.states import RunStatus, transition
        transition(run, RunStatus.PREPARING)                                             # the state machine
        db.session.commit()
        assert_exact()
        run.progress_at = run.started_at                                                 # not a status change
        run.mode = "production"                                                          # the mode moves it too
        db.session.commit()
        assert_exact()
        db.session.execute(update(Run).where(Run.status == "failed", Run.profile_id == invoices.id)
                           .values(status="rolled_back"))                                # a bulk UPDATE
        db.session.commit()
        assert_exact()
        before = kept()
        db.session.execute(update(Run).where(Run.status == "exported").values(status="rolled_back"))
        db.session.add(Run(profile_id=invoices.id, mode="test", operation="prepare", params={},
                           window_start=date(2026, 11, 1), window_end=date(2026, 11, 30), status="queued"))
        db.session.flush()
        db.session.rollback()                                                            # undone with the runs
        assert kept() == before
        assert_exact()
        db.session.execute(delete(Run).where(Run.profile_id == journals.id, Run.status == "cancelled"))
        db.session.delete(db.session.get(Run, run.id))                                  # deletes
        db.session.commit()
        assert_exact()
        db.session.execute(update(Run).where(Run.profile_id == journals.id).values(profile_id=invoices.id))
        db.session.commit()                                                              # moved to another profile
        assert_exact()
        assert kept().get((journals.id, "test", "exported")) is None


def test_counts_follow_a_real_run_and_its_roll_back(any_app):
    """Through the jobs' compare-and-set claim, the engine's last transaction and a roll back."""
    with any_app.app_context():
        from portal.demo.seed import seed_users
        from portal.exporting import queries, services
        seed_users()
        factories.payments(factories.company(), 5)
        profile = factories.profile("Betalingen", export_type="payments")
        run = factories.start_and_run(profile, mode="production")
        assert run.status == "exported"
        assert queries.overview_totals(queries.OverviewFilters()) == {"exported": 1}
        assert_exact()
        services.roll_back(run.id)
        assert queries.overview_totals(queries.OverviewFilters()) == {"rolled_back": 1}
        assert_exact()


def _in_thread(app, work):
    """Run ``work(connection)`` in a transaction of its own connection, in a thread; returns the thread and
    a list that receives the exception, if any."""
    errors = []

    def target():
        try:
            with app.app_context():
                with db.engine.connect() as connection:
                    work(connection)
        except Exception as exc:  # reported to the test
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors


@pytest.mark.postgres
@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
def test_concurrent_changes_of_the_same_counters_wait_and_stay_exact(pg_app, first_ends):
    """Run A goes queued → preparing while, at the same time, run B of the same profile goes preparing →
    queued (the same two counter rows, crosswise). The second transaction waits for the first's row
    lock (no deadlock: both lock the rows in one order) and neither change is lost; a first
    transaction that rolls back leaves the counters as the runs are."""
    with pg_app.app_context():
        profile = factories.profile("Gelijktijdig")
        a = factories.run(profile, status="queued", started_by=None).id
        b = factories.run(profile, status="preparing", started_by=None).id
        others = [factories.run(profile, status="queued", started_by=None).id for _ in range(3)]
        db.session.commit()
        with db.engine.connect() as first:
            first.execute(text("SET lock_timeout = '20s'"))
            first.execute(update(Run).where(Run.id == a).values(status="preparing"))
            started = threading.Event()

            def second(connection):
                connection.execute(text("SET lock_timeout = '20s'"))
                started.set()
                connection.execute(update(Run).where(Run.id == b).values(status="queued"))
                connection.execute(update(Run).where(Run.id.in_(others)).values(status="preparing"))
                connection.commit()

            thread, errors = _in_thread(pg_app, second)
            started.wait(5)
            thread.join(0.5)
            assert thread.is_alive(), "the second transaction should wait for the first's counter rows"
            getattr(first, first_ends)()
        thread.join(30)
        assert not thread.is_alive() and not errors, errors
        db.session.expire_all()
        assert_exact()
        expected_preparing = 3 + (1 if first_ends == "commit" else 0)
        assert kept()[(profile.id, "test", "preparing")] == expected_preparing


@pytest.mark.postgres
def test_many_concurrent_workers_keep_the_counts_exact(pg_app):
    """Four connections change the statuses of the same profile's runs at once, in both directions of
    each legal back-and-forth, many times, some transactions rolled back: the counters end exact."""
    with pg_app.app_context():
        profile = factories.profile("Druk")
        ids = [factories.run(profile, status="queued", started_by=None).id for _ in range(16)]
        cycle = ["queued", "preparing", "exporting", "queued"]

        def worker(index):
            def work(connection):
                connection.execute(text("SET lock_timeout = '30s'"))
                mine = ids[index::4]
                for step in range(30):
                    for run_id in mine:
                        current = connection.execute(select(Run.status).where(Run.id == run_id)).scalar_one()
                        target = cycle[cycle.index(current) + 1]
                        connection.execute(update(Run).where(Run.id == run_id).values(status=target))
                    if step % 5 == 4:
                        connection.rollback()
                    else:
                        connection.commit()
            return work

        threads = [_in_thread(pg_app, worker(i)) for i in range(4)]
        for thread, _errors in threads:
            thread.join(120)
        assert all(not errors for _thread, errors in threads), [e for _t, e in threads]
        assert_exact()
        assert sum(kept().values()) == 16


def test_totals_equal_a_count_of_the_runs_under_every_filter(any_app):
    """Whichever filters are set — those the counters serve (profile, export type, company, P/T) and those
    they do not (dates, starter, a feature's condition) — the totals are what counting the matching runs
    gives. A filter added to ``OverviewFilters`` that the counters cannot serve must make
    ``counts_per_status_suffice`` false: this test fails otherwise."""
    from dataclasses import fields
    from datetime import date as day
    from portal.exporting import queries
    from portal.exporting.services import create_profile
    from portal.schedules.services import started_by_a_schedule
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        company = factories.company()
        profiles = [factories.profile("Een").id, factories.profile("Twee", export_type="invoices").id,
                    create_profile(name="Drie", export_type="invoices", options={"format": "csv"},
                                   company_id=company.id).id]
        staff = factories.user_id("staff")
        seed_runs(profiles, 210, [staff, factories.user_id("consultant")])
        values = {"profile_id": profiles[1], "export_type": "invoices", "company_id": company.id, "mode": "test",
                  "status": "failed", "date_from": day(2026, 2, 1), "date_to": day(2026, 6, 30),
                  "started_by_id": staff, "extra": [started_by_a_schedule()]}
        settable = {f.name for f in fields(queries.OverviewFilters)} - {"sort", "direction", "errors"}
        assert settable == set(values), "a new filter: add it here (and to counts_per_status_suffice if needed)"
        for name, value in values.items():
            for others in ({}, {"mode": "production"}, {"export_type": "invoices"}):
                filters = queries.OverviewFilters(**{**others, name: value})
                assert queries.overview_totals(filters) == queries._counted_totals(filters), (name, others)
