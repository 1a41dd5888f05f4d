"""The schedule pages under the profile: create in Swedish, bad input answered in Swedish next to its
field, pause and resume, CSRF required; the overview's "started by a schedule" filter."""
import re
from datetime import datetime

from portal.exporting import services as engine
from portal.extensions import db
from portal.models import User
from portal.schedules import services
from portal.schedules.models import Schedule

from tests import factories


def _setup(app, users, locale="sv"):
    with app.app_context():
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 2)
        db.session.commit()
        profile = engine.create_profile(name="Kassa", export_type="payments", options={"format": "jsonl"})
        db.session.get(User, users["staff"]).locale = locale
        db.session.commit()
        return profile.id


def test_create_a_monthly_schedule_in_swedish_and_pause_it(app, client, auth, users):
    profile_id = _setup(app, users)
    auth.login("staff")
    page = client.get(f"/profiles/{profile_id}/schedules/new").get_data(as_text=True)
    assert "Nytt schema" in page and "Sommartid" in page
    token = auth.csrf_token(f"/profiles/{profile_id}/schedules/new")
    bad = client.post(f"/profiles/{profile_id}/schedules/new", data={
        "csrf_token": token, "frequency": "monthly", "day": "3", "weekday": "0", "time": "25:00",
        "window": "previous_month", "mode": "test"})
    assert bad.status_code == 400
    assert "Ange en tid mellan 00:00 och 23:59." in bad.get_data(as_text=True)
    for field, value in (("day", "abc"), ("day", "99"), ("frequency", "hourly"), ("window", "next_year")):
        data = {"csrf_token": token, "frequency": "monthly", "day": "3", "weekday": "0", "time": "06:00",
                "window": "previous_month", "mode": "test", field: value}
        refused = client.post(f"/profiles/{profile_id}/schedules/new", data=data)
        assert refused.status_code == 400 and "Inte ett giltigt val" in refused.get_data(as_text=True), field
    good = client.post(f"/profiles/{profile_id}/schedules/new", data={
        "csrf_token": token, "frequency": "monthly", "day": "0", "weekday": "0", "time": "06:30",
        "window": "previous_month", "mode": "production"}, follow_redirects=True)
    text = good.get_data(as_text=True)
    assert "Schemat är sparat. Nästa start:" in text
    assert "Varje månad den sista dagen kl. 06:30" in text
    with app.app_context():
        schedule = db.session.query(Schedule).one()
        assert (schedule.day, schedule.hour, schedule.minute, schedule.mode, schedule.locale) == (0, 6, 30, "production", "sv")
        schedule_id = schedule.id
    assert client.post(f"/profiles/{profile_id}/schedules/{schedule_id}/pause",
                       data={"paused": "1"}).status_code == 400          # no CSRF token
    paused = client.post(f"/profiles/{profile_id}/schedules/{schedule_id}/pause",
                         data={"paused": "1", "csrf_token": token}, follow_redirects=True)
    assert "Schemat är pausat." in paused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Schedule, schedule_id).next_start_at is None
    # Another profile's schedule id: 404, not another profile's schedule.
    assert client.get(f"/profiles/{profile_id + 1}/schedules/{schedule_id}/edit").status_code == 404


def test_the_overview_filters_runs_started_by_a_schedule(app, client, auth, users):
    profile_id = _setup(app, users, locale="en")
    with app.app_context():
        engine.start_run(profile_id, mode="test", window_start="2026-10-01", window_end="2026-10-31")
        services.save_schedule(profile_id, now=datetime(2026, 11, 26, 12), frequency="daily", hour=6,
                               window="previous_day")
        made = services.run_due_schedules(now=datetime(2026, 11, 27, 5, 1))
        scheduled_run = made[0].run_id
    auth.login("manager")
    page = client.get("/overview/?started_by=schedule").get_data(as_text=True)
    assert "1 export matches" in page
    assert f'/runs/{scheduled_run}"' in page and "schedule Daily at 06:00" in page
    assert "2 exports match" in client.get("/overview/").get_data(as_text=True)
    # The overview's CSV says the same as its page: who (or which schedule) started each run.
    lines = client.get("/overview/export.csv").get_data(as_text=True).splitlines()
    by_run = {line.split(",")[0].lstrip("\ufeff"): line for line in lines[1:]}
    assert "schedule Daily at 06:00" in by_run[str(scheduled_run)]
    assert "schedule" not in "".join(line for key, line in by_run.items() if key != str(scheduled_run))


def _time_value(page):
    import re
    (value,) = re.findall(r'<input[^>]*name="time"[^>]*value="([^"]*)"', page) or re.findall(
        r'<input[^>]*value="([^"]*)"[^>]*name="time"', page)
    return value


def test_a_danish_time_is_taken_as_the_pages_write_it(app, client, auth, users):
    """The schedule list writes Danish times "06.00": the form shows its time so, and takes "HH.MM"
    (and "HH:MM") in every language."""
    profile_id = _setup(app, users, locale="da")
    auth.login("staff")
    page = client.get(f"/profiles/{profile_id}/schedules/new").get_data(as_text=True)
    assert _time_value(page) == "06.00" and "TT.MM i tidszonen" in page
    token = auth.csrf_token(f"/profiles/{profile_id}/schedules/new")
    fields = {"csrf_token": token, "frequency": "daily", "day": "1", "weekday": "0", "window": "previous_month",
              "mode": "test"}
    for bad in ("25.00", "06,00", "6.0", "06.00\x00", "9" * 30):
        refused = client.post(f"/profiles/{profile_id}/schedules/new", data=dict(fields, time=bad))
        assert refused.status_code == 400, bad
        if "\x00" not in bad:    # a NUL byte is refused before the form, with the portal's own message
            assert "Angiv et tidspunkt mellem 00.00 og 23.59." in refused.get_data(as_text=True), bad
    with app.app_context():
        assert db.session.query(Schedule).count() == 0
    saved = client.post(f"/profiles/{profile_id}/schedules/new", data=dict(fields, time=" 22.50 "),
                        follow_redirects=True)
    assert "Dagligt kl. 22.50" in saved.get_data(as_text=True)
    with app.app_context():
        schedule = db.session.query(Schedule).one()
        assert (schedule.hour, schedule.minute) == (22, 50)
        schedule_id = schedule.id
    edit = client.get(f"/profiles/{profile_id}/schedules/{schedule_id}/edit").get_data(as_text=True)
    assert _time_value(edit) == "22.50"
    # What the edit form shows is taken back as it is, and so is "HH:MM".
    client.post(f"/profiles/{profile_id}/schedules/{schedule_id}/edit", data=dict(fields, time="22.50"))
    client.post(f"/profiles/{profile_id}/schedules/new", data=dict(fields, time="07:15"))
    with app.app_context():
        assert sorted((s.hour, s.minute) for s in db.session.query(Schedule)) == [(7, 15), (22, 50)]


def test_other_languages_show_and_take_hh_mm(app, client, auth, users):
    profile_id = _setup(app, users, locale="nl")
    auth.login("staff")
    page = client.get(f"/profiles/{profile_id}/schedules/new").get_data(as_text=True)
    assert _time_value(page) == "06:00"
    token = auth.csrf_token(f"/profiles/{profile_id}/schedules/new")
    client.post(f"/profiles/{profile_id}/schedules/new", data={
        "csrf_token": token, "frequency": "daily", "day": "1", "weekday": "0", "window": "previous_month",
        "mode": "test", "time": "06.30"})
    with app.app_context():
        assert [(s.hour, s.minute) for s in db.session.query(Schedule)] == [(6, 30)]


def test_a_debtor_field_of_separators_alone_is_refused_at_the_field(app, client, auth, users):
    """``;;,,  ,`` names no debtor: refused next to the field, not saved as "all debtors"; an empty field
    (or spaces) is all debtors."""
    with app.app_context():
        factories.companies()
        db.session.commit()
        profile_id = engine.create_profile(name="Facturen", export_type="invoices", options={"format": "xlsx"}).id
    auth.login("staff")
    token = auth.csrf_token(f"/profiles/{profile_id}/schedules/new")
    fields = {"csrf_token": token, "frequency": "daily", "day": "1", "weekday": "0", "time": "13:19",
              "window": "previous_day", "mode": "test", "booking_date_rule": "window_end", "description": ""}
    for separators in (";;,,  ,", ",", " ; "):
        refused = client.post(f"/profiles/{profile_id}/schedules/new", data=dict(fields, debtors=separators))
        assert refused.status_code == 400, separators
        page = refused.get_data(as_text=True)
        assert "Enter debtor numbers separated by commas, or leave the field empty for all debtors." in page
        assert 'aria-invalid="true"' in re.search(r'<input[^>]*name="debtors"[^>]*>', page).group(0)
    with app.app_context():
        assert db.session.query(Schedule).count() == 0
    client.post("/language", data={"locale": "nl", "csrf_token": auth.csrf_token("/")})
    refused = client.post(f"/profiles/{profile_id}/schedules/new", data=dict(fields, debtors=";;,,  ,"))
    page = refused.get_data(as_text=True)
    assert "Vul debiteurnummers in, gescheiden door komma's, of laat het veld leeg voor alle debiteuren." in page
    client.post(f"/profiles/{profile_id}/schedules/new", data=dict(fields, debtors="  "))
    with app.app_context():
        assert [s.params.get("debtors") for s in db.session.query(Schedule)] == [None]
