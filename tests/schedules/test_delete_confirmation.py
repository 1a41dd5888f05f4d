"""Delete asks first: the confirmation names the schedule (its profile, when it runs, its time window,
test or production, the next start) and says it is deleted for good; only its Yes deletes it."""
import pytest

from portal.exporting import services as engine
from portal.extensions import db
from portal.schedules import services
from portal.schedules.models import Schedule

from tests import factories


@pytest.fixture
def schedule(app, users):
    with app.app_context():
        profile = factories.profile("Kassa", export_type="payments", fmt="jsonl")
        other = engine.create_profile(name="Andere", export_type="payments", options={"format": "jsonl"})
        made = services.save_schedule(profile.id, frequency="monthly", hour=6, minute=30, day=3,
                                      window="previous_month", mode="production")
        return {"profile": profile.id, "id": made.id, "other": other.id}


def _count(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Schedule.id))).scalar()


def _url(s, profile=None):
    return f"/profiles/{profile or s['profile']}/schedules/{s['id']}/delete"


def test_the_confirmation_names_the_schedule_and_changes_nothing(app, client, auth, schedule):
    auth.login("staff")
    page = client.get(_url(schedule)).get_data(as_text=True)
    assert "Delete this schedule of Kassa for good?" in page
    assert "Monthly on day 3 at 06:30" in page and "Previous month" in page and "Production" in page
    assert "deleted for good" in page and 'name="confirmed" value="yes"' in page
    token = auth.csrf_token(f"/profiles/{schedule['profile']}/schedules")
    straight = client.post(_url(schedule), data={"csrf_token": token})      # no confirmation: shows it
    assert straight.status_code == 200 and "Delete this schedule of Kassa for good?" in straight.get_data(as_text=True)
    assert _count(app) == 1


def test_the_list_opens_it_in_the_dialog_and_cancel_goes_back(app, client, auth, schedule):
    auth.login("staff")
    page = client.get(f"/profiles/{schedule['profile']}/schedules").get_data(as_text=True)
    assert f'href="{_url(schedule)}" hx-get="{_url(schedule)}" hx-target="#dialog-body"' in page
    assert 'id="dialog"' in page
    fragment = client.get(_url(schedule), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and '<h2 id="dialog-title"' in fragment
    assert f'href="/profiles/{schedule["profile"]}/schedules" data-close-dialog>Cancel</a>' in fragment


def test_confirmed_deletes_it(app, client, auth, schedule):
    auth.login("staff")
    token = auth.csrf_token(f"/profiles/{schedule['profile']}/schedules")
    done = client.post(_url(schedule), data={"csrf_token": token, "confirmed": "yes"}, follow_redirects=True)
    assert "The schedule is deleted. The exports it started stay." in done.get_data(as_text=True)
    assert _count(app) == 0


def test_the_confirmation_in_swedish(app, client, auth, schedule):
    auth.login("staff")
    client.post("/language", data={"locale": "sv", "csrf_token": auth.csrf_token("/")})
    page = client.get(_url(schedule)).get_data(as_text=True)
    assert "Ta bort det här schemat för Kassa permanent?" in page and "Ta bort permanent" in page


def test_a_manager_may_not_see_or_confirm_it(app, client, auth, schedule):
    auth.login("manager")
    token = auth.csrf_token("/")
    assert client.get(_url(schedule)).status_code == 403
    assert client.post(_url(schedule), data={"csrf_token": token, "confirmed": "yes"}).status_code == 403
    assert _count(app) == 1


def test_confirmed_without_csrf_is_refused(app, client, auth, schedule):
    auth.login("staff")
    assert client.post(_url(schedule), data={"confirmed": "yes"}).status_code == 400
    assert _count(app) == 1


@pytest.mark.parametrize("tail,status", [
    ("2147483648/delete", 404), ("999/delete", 404), ("abc/delete", 404), ("1%00/delete", 400)])
def test_bad_ids_change_nothing(app, client, auth, schedule, tail, status):
    auth.login("staff")
    token = auth.csrf_token("/")
    path = f"/profiles/{schedule['profile']}/schedules/{tail}"
    assert client.get(path).status_code == status
    assert client.post(path, data={"csrf_token": token, "confirmed": "yes"}).status_code == status
    # Another profile's URL with this schedule's id: not found, not deleted.
    assert client.post(_url(schedule, schedule["other"]), data={"csrf_token": token, "confirmed": "yes"}
                       ).status_code == 404
    assert _count(app) == 1


def test_invoice_schedules_with_the_same_timetable_can_be_told_apart(app, client, auth, users):
    """Three daily 13:19 invoice schedules: the list and the Delete confirmation show each one's booking
    date rule, description and debtors, not three times "Daily at 13:19 · Previous day · Test"."""
    from portal.models import Debtor
    with app.app_context():
        zorg = factories.company()
        db.session.add(Debtor(company_id=zorg.id, number="10001", name="Jansen"))
        db.session.commit()
        profile = factories.profile("Facturen", export_type="invoices", fmt="xlsx")
        same = {"frequency": "daily", "hour": 13, "minute": 19, "window": "previous_day"}
        services.save_schedule(profile.id, **same)
        services.save_schedule(profile.id, **same, params={"booking_date_rule": "start_day"})
        chosen = services.save_schedule(profile.id, **same, params={"description": "Zorg december",
                                                                    "debtors": ["ZORG/10001"]})
        profile_id, chosen_id = profile.id, chosen.id
    auth.login("staff")
    page = client.get(f"/profiles/{profile_id}/schedules").get_data(as_text=True)
    assert page.count("Daily at 13:19") == 3 and "<th scope=\"col\">Details</th>" in page
    assert page.count("<dd>All debtors</dd>") == 2 and "<dd>ZORG/10001</dd>" in page
    assert "<dd>Zorg december</dd>" in page
    assert page.count("<dd>The last day of the time window</dd>") == 2 and "<dd>The day of the start</dd>" in page
    confirm = client.get(f"/profiles/{profile_id}/schedules/{chosen_id}/delete").get_data(as_text=True)
    assert "<dt>Debtor selection</dt><dd>ZORG/10001</dd>" in confirm
    assert "<dt>Description</dt><dd>Zorg december</dd>" in confirm
    assert "<dt>Booking date</dt><dd>The last day of the time window</dd>" in confirm
    client.post("/language", data={"locale": "da", "csrf_token": auth.csrf_token("/")})
    confirm = client.get(f"/profiles/{profile_id}/schedules/{chosen_id}/delete").get_data(as_text=True)
    assert "<dt>Debitorvalg</dt><dd>ZORG/10001</dd>" in confirm and "<dt>Beskrivelse</dt>" in confirm
    assert "Detaljer" in client.get(f"/profiles/{profile_id}/schedules").get_data(as_text=True)


def test_a_payments_schedule_shows_no_invoice_details(app, client, auth, schedule):
    auth.login("staff")
    page = client.get(f"/profiles/{schedule['profile']}/schedules").get_data(as_text=True)
    assert "Details" not in page and "Debtor selection" not in page
    assert "Debtor selection" not in client.get(_url(schedule)).get_data(as_text=True)
