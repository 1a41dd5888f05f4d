"""A field a form repeats acts once: ``profiles=3&profiles=3`` in Process rolled back the latest production
export of the profile *and* the one before it ("2 scenarios were processed"), as each pass looked up the
latest export again. Each id a form names is processed once, however often it is repeated (also written
differently: ``03``). Both databases."""
import pytest

from portal.exporting import services
from portal.extensions import db
from portal.models.exporting import Run
from portal.notifications.models import Subscription
from portal.validation import parse_ids

from tests import factories
from tests.test_validation import Browser


@pytest.fixture
def site(any_app):
    """A payments profile with two exported production runs (the scenarios' Roll back fits the latest)."""
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 3)
        db.session.commit()
        profile = services.create_profile(name="Kassabetalingen", export_type="payments",
                                          options={"format": "jsonl"})
        first = factories.start_and_run(profile, mode="production")
        second = factories.start_and_run(profile, mode="production")
        assert (first.status, second.status) == ("exported", "exported"), (first.error_reason, second.error_reason)
        return any_app, {"profile": profile.id, "first": first.id, "second": second.id}


def _statuses(app):
    with app.app_context():
        return dict(db.session.execute(db.select(Run.id, Run.status)).all())


def test_a_repeated_profile_is_rolled_back_once(site):
    app, ids = site
    staff = Browser(app, "staff")
    profile = str(ids["profile"])
    # The confirmation names the latest export once.
    page = staff.post("/scenarios/process", data={"operation": "roll_back", "profiles": [profile, profile]})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count(f'name="profiles" value="{profile}"') == 1
    done = staff.post("/scenarios/process", follow_redirects=True, data={
        "operation": "roll_back", "confirmed": "yes", "profiles": [profile, profile, "0" + profile]})
    text = done.get_data(as_text=True)
    assert "1 scenario was processed." in text and "2 scenarios were processed." not in text
    assert _statuses(app) == {ids["first"]: "exported", ids["second"]: "rolled_back"}


def test_a_repeated_profile_is_exported_once_without_a_refusal(site):
    """Export: the first pass queues the prepared export; a second pass found nothing left and said so."""
    app, ids = site
    with app.app_context():
        profile = db.session.get(factories.ExportProfile, ids["profile"])
        prepared = factories.run(profile, mode="production", status="prepared").id
    staff = Browser(app, "staff")
    text = staff.post("/scenarios/process", follow_redirects=True, data={
        "operation": "export", "confirmed": "yes", "profiles": [str(ids["profile"])] * 2}).get_data(as_text=True)
    assert "1 scenario was processed." in text and "nothing prepared to export" not in text
    assert _statuses(app)[prepared] == "queued"


def test_the_service_processes_each_profile_once(site):
    app, ids = site
    with app.app_context():
        results = services.process([ids["profile"], ids["profile"]], "roll_back")
        assert [(pid, run.id) for pid, run, _error in results] == [(ids["profile"], ids["second"])]
    assert _statuses(app)[ids["first"]] == "exported"


def test_repeated_notification_events_are_saved_once(site):
    app, ids = site
    staff = Browser(app, "staff")
    raw = str(ids["profile"])
    response = staff.post("/notifications", data={"profile": [raw, raw],
                                                  f"events-{raw}": ["run_failed", "run_failed"]})
    assert response.status_code == 302
    with app.app_context():
        events = db.session.execute(db.select(Subscription.event).where(
            Subscription.profile_id == ids["profile"])).scalars().all()
    assert events == ["run_failed"]


def test_parse_ids_keeps_each_id_once_in_order():
    assert parse_ids(["3", "1", "3", "03", "x", "1", "2"]) == [3, 1, 2]


def test_a_repeated_column_is_chosen_once():
    """The profile form's column order: a repeated key would list (and export) the column twice."""
    from types import SimpleNamespace

    from werkzeug.datastructures import MultiDict

    from portal.profiles.views import column_state
    columns = [SimpleNamespace(key=key) for key in ("a", "b", "c")]
    data = MultiDict([("columns_for", "t"), ("order", "b"), ("order", "b"), ("order", "a"),
                      ("col_b", "1"), ("col_a", "1")])
    shown, chosen = column_state(columns, data, export_type="t")
    assert [column.key for column, _ticked in shown] == ["b", "a", "c"]
    assert chosen == ["b", "a"]
