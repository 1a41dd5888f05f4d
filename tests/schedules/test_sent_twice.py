"""The New schedule form carries a one-time token: the same form sent twice (a resent request, a double
click) makes one schedule — not two identical ones, two runs a day — and says so; on both databases."""
import re
from datetime import datetime

import pytest
from sqlalchemy.exc import IntegrityError

from portal.exporting.errors import ExportError
from portal.extensions import db
from portal.schedules import services
from portal.schedules.models import Schedule

from tests import factories

NOW = datetime(2026, 11, 26, 12, 0)
DAILY = {"frequency": "daily", "hour": 13, "minute": 19, "window": "previous_day"}


def _count():
    return db.session.execute(db.select(db.func.count(Schedule.id))).scalar()


def test_a_token_makes_one_schedule(ctx):
    profile = factories.profile("Kassa", export_type="payments", fmt="jsonl")
    first = services.save_schedule(profile.id, now=NOW, form_token="a" * 32, **DAILY)
    with pytest.raises(ExportError) as again:
        services.save_schedule(profile.id, now=NOW, form_token="a" * 32, **DAILY)
    assert again.value.code == "schedule_already_saved"
    assert _count() == 1 and first.form_token == "a" * 32
    # Other tokens, and no token (a service caller), make schedules as before.
    services.save_schedule(profile.id, now=NOW, form_token="b" * 32, **DAILY)
    services.save_schedule(profile.id, now=NOW, **DAILY)
    services.save_schedule(profile.id, now=NOW, **DAILY)
    assert _count() == 4
    # An edit is not a new schedule: it may be sent again.
    services.save_schedule(profile.id, schedule_id=first.id, now=NOW, form_token="a" * 32, **DAILY)
    assert _count() == 4


def test_the_database_keeps_a_token_to_one_schedule(ctx):
    """Two requests with one token at the same moment: the second insert fails on the unique index."""
    profile = factories.profile("Kassa", export_type="payments", fmt="jsonl")
    for _ in range(2):
        db.session.add(Schedule(profile_id=profile.id, form_token="c" * 32, **DAILY))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count() == 0


def _token(page):
    (token,) = re.findall(r'name="form_token" type="hidden" value="([0-9a-f]{32})"', page) or re.findall(
        r'<input[^>]*name="form_token"[^>]*value="([^"]+)"', page)
    return token


def test_the_form_sent_twice_makes_one_schedule_and_says_so(app, client, auth, users):
    with app.app_context():
        profile_id = factories.profile("Kassa", export_type="payments", fmt="jsonl").id
    auth.login("staff")
    page = client.get(f"/profiles/{profile_id}/schedules/new").get_data(as_text=True)
    token = _token(page)
    assert token != _token(client.get(f"/profiles/{profile_id}/schedules/new").get_data(as_text=True))
    data = {"csrf_token": auth.csrf_token(f"/profiles/{profile_id}/schedules/new"), "form_token": token,
            "frequency": "daily", "day": "1", "weekday": "0", "time": "13:19", "window": "previous_day",
            "mode": "test"}
    first = client.post(f"/profiles/{profile_id}/schedules/new", data=data, follow_redirects=True)
    assert "The schedule is saved." in first.get_data(as_text=True)
    again = client.post(f"/profiles/{profile_id}/schedules/new", data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/profiles/{profile_id}/schedules")
    listed = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This schedule is already saved: the form was sent twice. No second schedule was made." in listed
    assert listed.count("Daily at 13:19") == 1
    with app.app_context():
        assert _count() == 1
    # A form refused first (a bad time) keeps its token: corrected and sent, then resent, still one more.
    page = client.get(f"/profiles/{profile_id}/schedules/new").get_data(as_text=True)
    second = dict(data, form_token=_token(page), time="25:00")
    refused = client.post(f"/profiles/{profile_id}/schedules/new", data=second)
    assert refused.status_code == 400 and _token(refused.get_data(as_text=True)) == second["form_token"]
    second["time"] = "07:00"
    client.post(f"/profiles/{profile_id}/schedules/new", data=second)
    client.post(f"/profiles/{profile_id}/schedules/new", data=second)
    with app.app_context():
        assert _count() == 2


def test_the_message_in_swedish_and_a_forged_token(app, client, auth, users):
    with app.app_context():
        profile_id = factories.profile("Kassa", export_type="payments", fmt="jsonl").id
    auth.login("staff")
    client.post("/language", data={"locale": "sv", "csrf_token": auth.csrf_token("/")})
    data = {"csrf_token": auth.csrf_token(f"/profiles/{profile_id}/schedules/new"), "form_token": "d" * 32,
            "frequency": "daily", "day": "1", "weekday": "0", "time": "13:19", "window": "previous_day",
            "mode": "test"}
    client.post(f"/profiles/{profile_id}/schedules/new", data=data)
    again = client.post(f"/profiles/{profile_id}/schedules/new", data=data, follow_redirects=True)
    assert "Schemat är redan sparat: formuläret skickades två gånger." in again.get_data(as_text=True)
    forged = client.post(f"/profiles/{profile_id}/schedules/new", data=dict(data, form_token="<x>" * 30))
    assert forged.status_code == 400
    assert "Formuläret är inte längre giltigt. Öppna Nytt schema igen." in forged.get_data(as_text=True)
    with app.app_context():
        assert _count() == 1
