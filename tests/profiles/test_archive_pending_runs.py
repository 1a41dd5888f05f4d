"""Archiving a profile cancels its exports that have not started (scheduled with Run at, or queued): a
tester archived a profile two minutes before its production Run at, and the export still ran (records
recorded, file written, mail sent). The confirmation says how many it cancels; a job whose profile is
archived anyway (a run that slipped through) refuses to run, with that reason. Both databases."""
from datetime import datetime

import pytest
from rq.registry import ScheduledJobRegistry

from portal.exporting import queries, services
from portal.extensions import db
from portal.models.exporting import ExportProfile, LedgerEntry, ReportItem, Run
from portal.queue import queue

from tests import factories


@pytest.fixture
def site(any_app):
    """A payments profile with an exported run, a production run at a later time and a queued test run."""
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 3)
        db.session.commit()
        profile = services.create_profile(name="Kassabetalingen", export_type="payments",
                                          options={"format": "jsonl"})
        done = factories.start_and_run(profile)
        assert done.status == "exported", done.error_reason
        later = services.start_run(profile.id, mode="production", window_start="2026-11-01",
                                   window_end="2026-11-30", run_at_local=datetime(2099, 12, 1, 9, 0))
        queued = services.start_run(profile.id, window_start="2026-11-01", window_end="2026-11-30")
        ids = {"profile": profile.id, "done": done.id, "later": later.id, "queued": queued.id,
               "job": later.job_id}
    client = any_app.test_client()
    factories.AuthActions(client).login("consultant")
    return any_app, client, ids


def test_archiving_cancels_the_exports_that_have_not_started_and_says_so_first(site):
    app, client, ids = site
    url = f"/profiles/{ids['profile']}/archive"
    page = client.get(url).get_data(as_text=True)
    assert "Its 2 exports that are still waiting to start (scheduled or queued) are cancelled." in page
    dutch = client.get(url, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "De 2 exports die nog wachten om te beginnen (ingepland of in wachtrij) worden geannuleerd" in dutch
    token = factories.csrf_token(client, f"/profiles/{ids['profile']}/edit")
    done = client.post(url, data={"csrf_token": token, "confirmed": "yes"}, follow_redirects=True)
    assert "Its 2 exports that had not started were cancelled." in done.get_data(as_text=True)
    with app.app_context():
        status = {key: db.session.get(Run, ids[key]).status for key in ("done", "later", "queued")}
        assert status == {"done": "exported", "later": "cancelled", "queued": "cancelled"}
        assert ids["job"] not in ScheduledJobRegistry(queue=queue("exports")).get_job_ids()
        items = db.session.execute(db.select(ReportItem.code).where(ReportItem.run_id == ids["later"])).scalars()
        assert list(items) == ["cancelled_profile_archived"]
        # The job, had Redis kept it, does nothing: the run is no longer waiting.
        assert factories.execute(ids["later"]) == "skipped"
        assert db.session.execute(db.select(db.func.count()).select_from(LedgerEntry)).scalar() == 0
        assert queries.run_files(ids["later"]) == []
    run_page = client.get(f"/runs/{ids['later']}").get_data(as_text=True)
    assert "The export profile Kassabetalingen was archived before this export started" in run_page


def test_a_profile_without_pending_exports_says_nothing_about_cancelling(site):
    app, client, ids = site
    with app.app_context():
        for key in ("later", "queued"):
            services.cancel_run(ids[key])
    page = client.get(f"/profiles/{ids['profile']}/archive").get_data(as_text=True)
    assert "waiting to start" not in page


def test_the_job_of_an_archived_profile_refuses_to_run(site):
    """The safety net: a waiting run whose profile is archived (not by archive_profile, which cancels it)."""
    app, _client, ids = site
    with app.app_context():
        db.session.get(ExportProfile, ids["profile"]).archived = True
        db.session.commit()
        assert factories.execute(ids["queued"]) == "archived"
        run = db.session.get(Run, ids["queued"])
        assert run.status == "failed" and run.attempts == 0
        assert run.error_reason == ("The export profile Kassabetalingen is archived: this export was refused and "
                                    "nothing was exported.")
        assert queries.run_files(run.id) == []
        assert factories.execute(ids["queued"]) == "skipped"      # a second job changes nothing
        assert db.session.execute(db.select(db.func.count()).select_from(ReportItem)
                                  .where(ReportItem.run_id == run.id)).scalar() == 1
