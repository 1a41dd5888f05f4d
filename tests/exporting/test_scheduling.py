"""Run at (DESIGN §5): the organisation's time zone, stored in UTC, daylight-saving rules, RQ's own
scheduler, cancelling, and the reconciler re-scheduling a job that Redis lost."""
from datetime import datetime, timezone

import pytest
from rq.registry import ScheduledJobRegistry

from portal.exporting import queries, services
from portal.exporting.errors import ExportError
from portal.exporting.jobs import job_status
from portal.exporting.reconciler import reconcile
from portal.exporting.scheduling import ambiguity_notice, resolve_local
from portal.extensions import db
from portal.i18n import org_timezone
from portal.models import Run
from portal.queue import queue, redis_connection

from tests import factories


def _profile():
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 2)
    db.session.commit()
    return services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"})


def _scheduled_at(job_id):
    registry = ScheduledJobRegistry(queue=queue("exports"))
    return registry.get_scheduled_time(job_id) if job_id in registry.get_job_ids() else None


def test_run_at_is_org_time_stored_in_utc_and_scheduled_with_rq(ctx):
    profile = _profile()
    run = services.start_run(profile.id, mode="production", run_at_local=datetime(2026, 12, 1, 9, 0))
    assert run.status == "scheduled"
    assert run.run_at == datetime(2026, 12, 1, 8, 0)          # Amsterdam is UTC+1 in December
    assert run.params["run_at_offset"] == "+01:00"
    assert _scheduled_at(run.job_id) == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def test_skipped_hour_is_refused(ctx):
    profile = _profile()
    with pytest.raises(ExportError) as refused:
        services.start_run(profile.id, run_at_local=datetime(2027, 3, 28, 2, 30))
    assert refused.value.code == "run_at_nonexistent"
    assert "28/03/2027, 02:30" in str(refused.value) and "Europe/Amsterdam" in str(refused.value)
    assert db.session.query(Run).count() == 0


@pytest.mark.parametrize("locale, text", [
    ("nl", "28-03-2027, 02:30 bestaat niet in de tijdzone Europe/Amsterdam: de klok slaat dat uur over voor de "
           "zomertijd. Kies een ander tijdstip."),
    ("sv", "2027-03-28 02:30 finns inte i tidszonen Europe/Amsterdam: klockan hoppar över den timmen vid "
           "övergången till sommartid. Välj en annan tid."),
])
def test_the_skipped_hour_refusal_is_worded_where_it_is_shown(ctx, locale, text):
    """Refused outside a request (as in a worker, or an API): the refusal carries its code and parameters
    (the time as entered, the zone) and is worded — the time too — in the language where it is shown."""
    from flask_babel import force_locale
    profile = _profile()
    with pytest.raises(ExportError) as refused:
        services.start_run(profile.id, run_at_local=datetime(2027, 3, 28, 2, 30))
    error = refused.value
    assert error.code == "run_at_nonexistent"
    assert error.params == {"time": "2027-03-28T02:30", "zone": "Europe/Amsterdam"}
    with force_locale(locale):
        assert str(error) == text
    assert str(error).startswith("28/03/2027, 02:30 does not exist")     # and in English again


def test_ambiguous_hour_takes_the_first_offset_and_says_so(ctx):
    profile = _profile()
    run = services.start_run(profile.id, run_at_local=datetime(2027, 10, 31, 2, 30))
    assert run.params["run_at_ambiguous"] is True
    assert run.params["run_at_offset"] == "+02:00"
    assert run.run_at == datetime(2027, 10, 31, 0, 30)
    notice = ambiguity_notice(run.params["run_at_local"], run.params["run_at_offset"], "Europe/Amsterdam")
    assert "UTC+02:00" in notice and "31/10/2027, 02:30" in notice
    plain = resolve_local(datetime(2027, 10, 31, 4, 0), org_timezone())
    assert not plain.ambiguous and plain.offset == "+01:00"


def test_a_time_in_the_past_is_refused(ctx):
    profile = _profile()
    with pytest.raises(ExportError) as refused:
        services.start_run(profile.id, run_at_local=datetime(2020, 1, 1, 9, 0))
    assert refused.value.code == "run_at_past"


def test_a_scheduled_run_can_be_cancelled(ctx):
    profile = _profile()
    run = services.start_run(profile.id, mode="production", run_at_local=datetime(2026, 12, 1, 9, 0))
    job_id = run.job_id
    services.cancel_run(run.id)
    assert db.session.get(Run, run.id).status == "cancelled"
    assert _scheduled_at(job_id) is None
    assert job_status(job_id) == "canceled"
    # A cancelled production run no longer holds the profile.
    services.start_run(profile.id, mode="production")


def test_reconciler_reschedules_a_job_that_redis_lost(ctx):
    profile = _profile()
    run = services.start_run(profile.id, mode="production", run_at_local=datetime(2026, 12, 1, 9, 0))
    queued = services.start_run(profile.id, mode="test")
    redis_connection().flushdb()                         # Redis restarted empty
    assert job_status(run.job_id) is None
    result = reconcile()
    assert sorted(result["enqueued"]) == sorted([run.id, queued.id])
    run, queued = db.session.get(Run, run.id), db.session.get(Run, queued.id)
    assert run.status == "scheduled"
    assert _scheduled_at(run.job_id) == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert job_status(queued.job_id) == "queued"
    assert queued.job_id in queue("exports").job_ids
    # A second round finds nothing to do.
    assert reconcile() == {"enqueued": [], "retried": [], "failed": []}


def test_reconciler_enqueues_a_due_run_that_rqs_scheduler_does_not_move(ctx):
    """RQ's scheduler lock can be held by a worker that died (for minutes): a due job then waits in the
    scheduled registry. The reconciler enqueues it itself, once."""
    from datetime import timedelta
    profile = _profile()
    run = services.start_run(profile.id, mode="production", run_at_local=datetime(2026, 12, 1, 9, 0))
    old_job = run.job_id
    assert reconcile(now=run.run_at + timedelta(seconds=1))["enqueued"] == []      # not yet late
    result = reconcile(now=run.run_at + timedelta(minutes=1))
    assert result["enqueued"] == [run.id]
    run = db.session.get(Run, run.id)
    assert run.status == "scheduled" and run.job_id != old_job
    assert run.job_id in queue("exports").job_ids               # now, not at its time again
    assert job_status(old_job) == "canceled" and _scheduled_at(old_job) is None
    assert reconcile(now=run.run_at + timedelta(minutes=1))["enqueued"] == []


def test_scheduled_runs_are_listed_soonest_first(ctx):
    profile = _profile()
    later = services.start_run(profile.id, mode="test", run_at_local=datetime(2026, 12, 2, 9, 0))
    sooner = services.start_run(profile.id, mode="test", run_at_local=datetime(2026, 12, 1, 9, 0))
    services.start_run(profile.id, mode="test")
    assert [r.id for r in queries.scheduled_runs()] == [sooner.id, later.id]
    assert len(queries.list_runs(profile_id=profile.id)) == 3
    assert [r.id for r in queries.list_runs(statuses=["scheduled"])] == [sooner.id, later.id]
