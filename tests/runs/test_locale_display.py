"""What the QA found as a new user (issue 10, fixc): prepared cells, the run page's facts, downloads and
the run's actions in the user's locale and the organisation's time zone (Europe/Amsterdam in tests)."""
import os
import re
from datetime import datetime

import pytest

from portal.extensions import db
from portal.models.exporting import PreparedRow, Run, RunFile
from portal.models.base import utcnow

from tests import factories


def _csrf(client):
    return factories.csrf_token(client)


def _language(client, code):
    client.post("/language", data={"locale": code, "csrf_token": _csrf(client)})


def _prepared_payment(app, status="prepared"):
    with app.app_context():
        factories.company()
        p = factories.profile("Kassa", export_type="payments", fmt="jsonl")
        r = factories.run(p, status=status, mode="production")
        db.session.add(PreparedRow(run_id=r.id, seq=1, record_key="R1", payload={
            "receipt_number": "R1", "paid_at": "2026-10-01 06:00:00", "amount": "1234.50",
            "customer_name": "A"}))
        db.session.commit()
        return r.id


def _cells(page):
    return re.findall(r"<td>([^<]*)</td>", page)


@pytest.mark.parametrize("code, paid_at, amount", [
    ("en", "01/10/2026, 08:00", "1,234.50"),
    ("sv", "2026-10-01 08:00", "1\xa0234,50"),
    ("da", "01.10.2026 08.00", "1.234,50"),
    ("nl", "01-10-2026, 08:00", "1.234,50"),
])
def test_prepared_cells_are_in_the_users_locale_and_the_organisations_zone(app, client, auth, users, code,
                                                                           paid_at, amount):
    run_id = _prepared_payment(app)
    auth.login("staff")
    _language(client, code)
    cells = _cells(client.get(f"/runs/{run_id}/prepared").get_data(as_text=True))
    assert paid_at in cells and amount in cells, repr(cells)    # 06:00 UTC is 08:00 in Amsterdam (summer time)
    assert "2026-10-01 06:00:00" not in cells and "1234.50" not in cells


def test_the_hours_prepared_row_matches_the_report_time_in_swedish(app, client, auth, users):
    with app.app_context():
        p = factories.profile("Timmar", export_type="hours")
        r = factories.run(p, status="prepared", mode="production")
        db.session.add(PreparedRow(run_id=r.id, seq=241, record_key="H241", payload={
            "registration_id": 241, "date": "2026-10-01", "starts_at": "2026-10-01 06:00:00",
            "ends_at": "2026-10-01 10:00:00", "hours": "4.00"}))
        db.session.commit()
        run_id = r.id
    auth.login("staff")
    _language(client, "sv")
    cells = _cells(client.get(f"/runs/{run_id}/prepared").get_data(as_text=True))
    assert ["2026-10-01", "2026-10-01 08:00", "2026-10-01 12:00", "4,00"] == [
        c for c in cells if c in ("2026-10-01", "2026-10-01 08:00", "2026-10-01 12:00", "4,00")]


def test_editing_active_still_works_with_localised_cells(app, client, auth, users):
    """Only Active can be changed on Prepared data, by row id: what a cell shows is never posted back."""
    run_id = _prepared_payment(app)
    auth.login("staff")
    _language(client, "da")
    page = client.get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    (row_id,) = re.findall(r'name="shown" value="(\d+)"', page)
    client.post(f"/runs/{run_id}/prepared", data={"csrf_token": _csrf(client), "shown": [row_id], "action": "close"})
    with app.app_context():
        row = db.session.get(PreparedRow, int(row_id))
        assert row.active is False and row.payload["amount"] == "1234.50"   # the file's value is untouched


def test_a_value_that_is_not_its_kind_is_shown_as_it_is(app, client, auth, users):
    with app.app_context():
        p = factories.profile("Kassa", export_type="payments", fmt="jsonl")
        r = factories.run(p, status="prepared", mode="production")
        db.session.add(PreparedRow(run_id=r.id, seq=1, record_key="R1", payload={"paid_at": "yesterday",
                                                                                  "amount": "n/a"}))
        db.session.commit()
        run_id = r.id
    auth.login("staff")
    cells = _cells(client.get(f"/runs/{run_id}/prepared").get_data(as_text=True))
    assert "yesterday" in cells and "n/a" in cells


def test_a_rolled_back_runs_rows_do_not_say_exported(app, client, auth, users):
    run_id = _prepared_payment(app, status="rolled_back")
    auth.login("staff")
    page = client.get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert "the export was rolled back" in page and "they have been exported" not in page


@pytest.mark.parametrize("code, text", [("en", "31/10/2026"), ("nl", "31-10-2026"), ("sv", "2026-10-31")])
def test_run_page_booking_date_in_the_users_locale(app, client, auth, users, code, text):
    with app.app_context():
        r = factories.run(factories.profile())
        r.params = dict(r.params, booking_date="2026-10-31")
        db.session.commit()
        run_id = r.id
    auth.login("staff")
    _language(client, code)
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert f"<dd>{text}</dd>" in page


def test_scheduled_and_cancelled_runs_that_never_ran(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        scheduled = factories.run(p, status="scheduled", run_at=datetime(2026, 12, 1, 5, 0))
        cancelled = factories.run(p, status="cancelled", finished_at=datetime(2026, 11, 21, 9, 0))
        ids = scheduled.id, cancelled.id, p.id
    auth.login("staff")
    page = client.get(f"/runs/{ids[1]}").get_data(as_text=True)
    assert "Cancelled on" in page and "Completed on" not in page and "Created by" in page
    assert "No problems found" not in page and "has not run, so there is no report" in page
    page = client.get(f"/runs/{ids[0]}").get_data(as_text=True)
    assert "Created by" in page and "Started by" not in page
    # In lists, Started on is empty for both (20/11/2026 is when they were created).
    listing = client.get(f"/profiles/{ids[2]}/runs").get_data(as_text=True)
    assert "20/11/2026" not in listing


def test_a_scheduled_start_in_the_doubled_hour_names_its_zone_once(app, client, auth, users):
    with app.app_context():
        # 00:30 UTC on 25 October 2026 is 02:30 CEST: the first of the two 02:30s in Amsterdam.
        r = factories.run(factories.profile(), status="scheduled", run_at=datetime(2026, 10, 25, 0, 30))
        run_id = r.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    (line,) = re.findall(r"Scheduled: starts at [^<]*", page)
    assert line == "Scheduled: starts at 25/10/2026, 02:30 (Europe/Amsterdam, UTC+02:00).", line


@pytest.mark.parametrize("fmt, name, content_type", [
    ("csv", "a.csv", "text/csv"),     # the encoding is the profile's choice: no charset claimed
    ("jsonl", "a.jsonl", "application/jsonl; charset=utf-8"),
    ("xlsx", "a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("sie4", "a.si", "text/plain; charset=IBM437"),
])
def test_download_content_type_follows_the_format(app, client, auth, users, fmt, name, content_type):
    with app.app_context():
        r = factories.run(factories.profile())
        root = app.config["PORTAL_STORAGE_DIR"]
        os.makedirs(root, exist_ok=True)
        path = os.path.join(root, f"fixc-{r.id}-{name}")
        with open(path, "wb") as handle:
            handle.write("#FLAGGA 0\r\n#PROGRAM \"Åäö\"\r\n".encode("cp437"))
        f = RunFile(run_id=r.id, name=name, path=path, format=fmt, size=os.path.getsize(path), sha256="0" * 64,
                    version=utcnow(), rows=1)
        db.session.add(f)
        db.session.commit()
        ids = r.id, f.id
    auth.login("staff")
    response = client.get(f"/runs/{ids[0]}/files/{ids[1]}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"].startswith("attachment")
    os.remove(path)


def test_export_from_the_run_page_and_from_prepared_data(app, client, auth, users):
    run_id = _prepared_payment(app)
    auth.login("manager")      # View exports only: no Export
    assert 'action="/runs/%s/export"' % run_id not in client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert client.post(f"/runs/{run_id}/export", data={"csrf_token": _csrf(client)}).status_code == 403
    auth.logout()
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert f'action="/runs/{run_id}/export"' in page
    assert client.post(f"/runs/{run_id}/export", data={}).status_code == 400          # no CSRF token
    response = client.post(f"/runs/{run_id}/export", data={"csrf_token": _csrf(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/runs/{run_id}")
    with app.app_context():
        run = db.session.get(Run, run_id)
        assert run.status == "queued" and run.operation == "export"
    # The same rules as Scenarios → Export: a queued run cannot be exported again.
    client.post(f"/runs/{run_id}/export", data={"csrf_token": _csrf(client)})
    assert "only a prepared or partially processed export can be exported" in client.get(f"/runs/{run_id}").get_data(as_text=True)


def test_export_from_prepared_data_saves_the_ticks_first(app, client, auth, users):
    run_id = _prepared_payment(app, status="partially_processed")
    auth.login("staff")
    page = client.get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert 'name="action" value="export"' in page
    (row_id,) = re.findall(r'name="shown" value="(\d+)"', page)
    response = client.post(f"/runs/{run_id}/prepared", data={"csrf_token": _csrf(client), "shown": [row_id],
                                                               "action": "export"})
    assert response.headers["Location"].endswith(f"/runs/{run_id}")
    with app.app_context():
        assert db.session.get(PreparedRow, int(row_id)).active is False
        assert db.session.get(Run, run_id).status == "queued"


def test_scenarios_say_prepare_makes_a_production_export(app, client, auth, users):
    auth.login("staff")
    page = client.get("/scenarios?operation=prepare").get_data(as_text=True)
    assert "always start a production export" in page


def test_overview_csv_dates_and_times_are_iso_8601(app, client, auth, users):
    import csv
    import io
    with app.app_context():
        p = factories.profile()
        factories.run(p, started_at=datetime(2026, 11, 26, 21, 45), finished_at=datetime(2026, 11, 26, 21, 47))
        factories.run(p, status="scheduled", run_at=datetime(2026, 12, 1, 5, 0))
    auth.login("manager")
    _language(client, "da")
    rows = list(csv.reader(io.StringIO(client.get("/overview/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    by_status = {row[4]: row for row in rows[1:]}
    done = by_status["Eksporteret"]
    assert done[5:7] == ["2026-11-01", "2026-11-30"]
    assert done[10:12] == ["2026-11-26T22:45:00+01:00", "2026-11-26T22:47:00+01:00"]
    assert by_status["Planlagt"][10:12] == ["", ""]      # never ran: no start, no completion


def test_danish_schedule_times_are_written_as_danish_times(app):
    from types import SimpleNamespace
    from flask_babel import force_locale
    from portal.schedules.labels import describe
    schedule = SimpleNamespace(frequency="daily", hour=22, minute=50, weekday=None, day=None)
    with app.test_request_context(), force_locale("da"):
        assert describe(schedule) == "Dagligt kl. 22.50"
    with app.test_request_context(), force_locale("en_GB"):
        assert describe(schedule) == "Daily at 22:50"


def test_dutch_words_for_a_run_are_the_glossarys(app):
    """GLOSSARY: a run is an export ("Export 22" on every page), in Dutch, Swedish and Danish alike."""
    from flask_babel import force_locale, gettext
    with app.test_request_context(), force_locale("nl"):
        assert gettext("Worker") == "Verwerkingsproces"
        assert gettext("Open export %(run)s", run=22) == "Export 22 openen"
        assert "de export is ingepland" in gettext(
            "%(time)s occurs twice in %(zone)s (the clocks go back that night); the export is scheduled at the "
            "first one, UTC%(offset)s.", time="t", zone="z", offset="+2")
    with app.test_request_context(), force_locale("sv"):
        assert gettext("Open export %(run)s", run=22) == "Öppna export 22"
    with app.test_request_context(), force_locale("da"):
        assert gettext("Open export %(run)s", run=22) == "Åbn eksport 22"


def _prepared_journal(app):
    with app.app_context():
        factories.company()
        p = factories.profile("Loner", export_type="journal_entries")
        r = factories.run(p, status="prepared", mode="production")
        db.session.add(PreparedRow(run_id=r.id, seq=1, record_key="J1", payload={
            "account": "7010", "debit": "10.00", "credit": "0.00", "is_correction": True}))
        db.session.add(PreparedRow(run_id=r.id, seq=2, record_key="J2", payload={
            "account": "7020", "debit": "0.00", "credit": "10.00", "is_correction": False}))
        db.session.commit()
        return r.id


@pytest.mark.parametrize("code, yes, no", [("en", "Yes", "No"), ("sv", "Ja", "Nej"), ("da", "Ja", "Nej"),
                                           ("nl", "Ja", "Nee")])
def test_a_true_false_column_says_yes_or_no_in_the_users_language(app, client, auth, users, code, yes, no):
    """Correction on a journal run's Prepared data: a word of the user's language, not Python's True/False."""
    run_id = _prepared_journal(app)
    auth.login("staff")
    _language(client, code)
    cells = _cells(client.get(f"/runs/{run_id}/prepared").get_data(as_text=True))
    assert yes in cells and no in cells, repr(cells)
    assert "True" not in cells and "False" not in cells


@pytest.mark.parametrize("code, verb", [("en", "Export"), ("nl", "Exporteren"), ("sv", "Exportera"),
                                        ("da", "Eksporter")])
def test_the_export_buttons_say_the_verb(app, client, auth, users, code, verb):
    """The button that exports (run page and Prepared data) names the operation, GLOSSARY's verb."""
    run_id = _prepared_payment(app)
    auth.login("staff")
    _language(client, code)
    for path in (f"/runs/{run_id}", f"/runs/{run_id}/prepared"):
        page = client.get(path).get_data(as_text=True)
        buttons = re.findall(r'<button type="submit"[^>]*>([^<]*)</button>', page)
        assert verb in buttons, (path, buttons)
        if code != "en":
            assert not {"Export", "Eksport"} & set(buttons), (path, buttons)
