"""The run panel (live progress, files, report), Show exports, scenarios with Process / Process all,
prepared data (Active until exported), mapping history and roll back — through the engine for real."""
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal.exporting import windows
from portal.extensions import db
from portal.models import Payment
from portal.models.base import utcnow
from portal.models.exporting import LedgerEntry, PreparedRow, Run

from tests import factories


@pytest.fixture
def payments(app, users):
    with app.app_context():
        c = factories.company()
        for i in range(4):
            db.session.add(Payment(company_id=c.id, receipt_number=f"R{i}", customer_number="C1", customer_name="A",
                                   payment_type="CARD", amount=Decimal("10.00") + i,
                                   paid_at=_last_month_noon(i)))
        db.session.commit()
        return factories.profile("Kassa", export_type="payments", fmt="jsonl", sync_type="incremental_all").id


def _last_month_noon(i):
    start, _end = windows.window("previous_month")
    return datetime(start.year, start.month, 10, 11, i)


def _csrf(client):
    return factories.csrf_token(client)


def _runs(app):
    with app.app_context():
        return db.session.execute(db.select(Run).order_by(Run.id)).scalars().all()


def test_live_panel_polls_with_progress_and_time_left_then_stops(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        now = utcnow()
        r = factories.run(p, status="exporting", phase="exporting", done=250, total=1000, counts={},
                        phase_started_at=now - timedelta(seconds=30), progress_at=now)
        run_id = r.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    # Only the status line is live (filled by portal.js when it changes), not the panel swapped every second.
    assert page.count('aria-live') == 1 and 'id="flashes" aria-live="polite"' in page   # the flashes' only
    assert '<p id="run-live" class="visually-hidden" role="status"></p>' in page
    assert page.index('id="run-live"') < page.index('id="run-panel"')
    assert 'data-announce="Status: Exporting"' in page
    assert "250 of 1,000 records" in page
    assert "about 2 minutes left" in page  # 250 in 30 s: 750 more take about 90 s
    assert 'hx-trigger="load delay:1s"' in page and f'hx-get="/runs/{run_id}/panel"' in page
    fragment = client.get(f"/runs/{run_id}/panel", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="run-panel"') and "<html" not in fragment
    with app.app_context():
        run = db.session.get(Run, run_id)
        run.status, run.done, run.finished_at = "exported", 1000, utcnow()
        db.session.commit()
    fragment = client.get(f"/runs/{run_id}/panel", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in fragment  # the run ended: the partial stops asking
    assert 'data-announce="Status: Exported"' in fragment and "run-live" not in fragment


def test_panel_in_dutch(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        run_id = factories.run(p, status="preparing", phase="preparing", done=5, total=10,
                             phase_started_at=utcnow() - timedelta(seconds=5), progress_at=utcnow()).id
    auth.login("staff")
    client.post("/language", data={"locale": "nl", "csrf_token": _csrf(client)})
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "5 van 10 records" in page and "Tijdvenster" in page and "Voortgang" in page


def test_queued_panel_names_the_status_in_the_users_language(app, client, auth, users):
    with app.app_context():
        run_id = factories.run(factories.profile(), status="queued").id
    auth.login("staff")
    client.post("/language", data={"locale": "nl", "csrf_token": _csrf(client)})
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "<strong>In wachtrij</strong>" in page and "<strong>queued</strong>" not in page


def test_report_with_errors_shows_severity_row_message_and_triangle(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        r = factories.run(p, status="partially_processed", counts={"records": 2, "errors": 1})
        db.session.add(factories.ReportItem(run_id=r.id, record_key="INV000001", severity="error",
                                          code="debtor_blocked", params={"debtor": "10002", "record": "INV000001"}))
        db.session.commit()
        run_id, profile_id = r.id, p.id
    auth.login("manager")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Debtor 10002 is blocked: invoice line INV000001 is not exported." in page
    assert "warning-triangle" in page
    runs_page = client.get(f"/profiles/{profile_id}/runs").get_data(as_text=True)
    assert "warning-triangle" in runs_page
    csv = client.get(f"/runs/{run_id}/report.csv").get_data(as_text=True)
    assert "INV000001" in csv and "debtor_blocked" in csv


@pytest.mark.parametrize("locale, row, message", [
    ("en", "THUIS, October 2026", "The journal of THUIS for October 2026 is not balanced"),
    ("nl", "THUIS, oktober 2026", "THUIS voor oktober 2026"),
    ("sv", "THUIS, oktober 2026", "THUIS för oktober 2026"),
    ("da", "THUIS, oktober 2026", "THUIS for oktober 2026"),
])
def test_an_unbalanced_journal_is_named_by_company_and_month_in_the_report(app, client, auth, users, locale, row,
                                                                           message):
    """Not the engine's group key (THUIS|2026-10-01) nor an ISO date: the journal as a person reads it, on
    the page and in the report's CSV."""
    with app.app_context():
        p = factories.profile()
        r = factories.run(p, status="partially_processed", counts={"records": 2, "errors": 1})
        db.session.add(factories.ReportItem(run_id=r.id, record_key="THUIS|2026-10-01", severity="error",
                                            code="journal_unbalanced",
                                            params={"company": "THUIS", "period": "2026-10-01",
                                                    "debit": "200.00", "credit": "150.00"}))
        db.session.commit()
        run_id = r.id
    auth.login("manager")
    client.post("/language", data={"locale": locale, "csrf_token": factories.csrf_token(client, "/")})
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert f"<td>{row}</td>" in page and message in page
    assert "THUIS|2026-10-01" not in page and "2026-10-01" not in page
    csv = client.get(f"/runs/{run_id}/report.csv").get_data(as_text=True)
    assert row in csv and "THUIS|2026-10-01" not in csv


def test_show_exports_filters_and_pages(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        for i in range(30):
            factories.run(p, mode="production" if i % 3 == 0 else "test", status="exported",
                        started_at=datetime(2026, 11, 1) + timedelta(hours=i))
        profile_id = p.id
    auth.login("staff")
    page = client.get(f"/profiles/{profile_id}/runs").get_data(as_text=True)
    assert "30 exports" in page and "Page 1 of 2" in page
    page = client.get(f"/profiles/{profile_id}/runs?mode=production").get_data(as_text=True)
    assert "10 exports" in page and "Page 1 of 2" not in page
    fragment = client.get(f"/profiles/{profile_id}/runs?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="results">') and "Page 2 of 2" in fragment


def test_download_of_another_runs_file_is_404(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        a, b = factories.run(p), factories.run(p)
        f = factories.RunFile(run_id=a.id, name="x.csv", path="/etc/passwd", format="csv", size=1, sha256="0" * 64,
                            version=utcnow(), rows=1)
        db.session.add(f)
        db.session.commit()
        ids = (a.id, b.id, f.id)
    auth.login("staff")
    assert client.get(f"/runs/{ids[1]}/files/{ids[2]}").status_code == 404
    assert client.get(f"/runs/{ids[0]}/files/{ids[2]}").status_code == 404  # outside the storage directory


def test_scenarios_prepare_untick_export_history_and_roll_back(app, client, auth, payments):
    auth.login("consultant")
    page = client.get("/scenarios?operation=prepare").get_data(as_text=True)
    assert "Kassa" in page and "Skip headers" in page and "Process all" in page
    csrf = _csrf(client)
    response = client.post("/scenarios/process", data={"csrf_token": csrf, "operation": "prepare",
                                                        "profiles": str(payments), "scope": "selected"})
    assert response.status_code == 302
    run = _runs(app)[0]
    assert run.mode == "production" and run.status == "queued"
    with app.app_context():
        run = factories.run_job(run.id)
        assert run.status == "prepared", run.error_reason
    # The scenario now shows under Export, not under Prepare.
    exportable = client.get("/scenarios?operation=export").get_data(as_text=True)
    assert "Kassa" in exportable
    # "Prepared on" shows when it was prepared (the Mapping history's "Prepared" line).
    assert re.findall(r'<td class="when">([^<]*)</td>', exportable)[0].strip()
    assert "Kassa" not in client.get("/scenarios?operation=prepare").get_data(as_text=True)

    # Prepared data: untick one row and close (saves).
    dialog = client.get(f"/runs/{run.id}/prepared").get_data(as_text=True)
    row_ids = re.findall(r'name="shown" value="(\d+)"', dialog)
    assert len(row_ids) == 4
    keep = row_ids[1:]
    client.post(f"/runs/{run.id}/prepared", data={"csrf_token": csrf, "shown": row_ids, "active": keep,
                                                   "action": "close"})
    with app.app_context():
        inactive = db.session.execute(db.select(PreparedRow.id).where(PreparedRow.active.is_(False))).scalars().all()
        assert inactive == [int(row_ids[0])]

    # Export through the scenarios table, with Skip headers.
    # It asks first (a production export delivers); Yes exports.
    confirm = client.post("/scenarios/process", data={"csrf_token": csrf, "operation": "export", "scope": "all",
                                                       "skip_headers": "1"}).get_data(as_text=True)
    assert "Export these scenarios?" in confirm and _runs(app)[0].status == "prepared"
    client.post("/scenarios/process", data={"csrf_token": csrf, "operation": "export", "confirmed": "yes",
                                            "profiles": str(payments), "skip_headers": "1"})
    with app.app_context():
        run = factories.run_job(run.id)
        # Seed 000: the unticked row is left, so the run is Partially processed (tick it to export it later).
        assert run.status == "partially_processed", run.error_reason
        assert db.session.execute(db.select(db.func.count()).select_from(LedgerEntry)).scalar_one() == 3
    history = client.get(f"/profiles/{payments}/history").get_data(as_text=True)
    assert "Partially processed" in history and "Status date" in history

    # Roll back: first the exact confirmation, then the roll back itself.
    confirm = client.post("/scenarios/process", data={"csrf_token": csrf, "operation": "roll_back",
                                                       "profiles": str(payments), "scope": "selected"})
    text = confirm.get_data(as_text=True)
    assert "The 4 prepared rows of this export are removed." in text
    assert "The 3 records this production export recorded stop counting" in text
    # Its "Prepared" line and its export pass's line: both go (the ledger forgets the whole run).
    assert "The 2 lines of this export in the mapping history are removed (the latest: Partially processed" in text
    assert _runs(app)[0].status == "partially_processed"  # nothing changed yet
    client.post("/scenarios/process", data={"csrf_token": csrf, "operation": "roll_back", "confirmed": "yes",
                                            "profiles": str(payments)})
    assert _runs(app)[0].status == "rolled_back"
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(LedgerEntry)
                                  .where(LedgerEntry.rolled_back.is_(False))).scalar_one() == 0
    history = client.get(f"/profiles/{payments}/history").get_data(as_text=True)
    assert 'id="history-table"' not in history and "No history yet" in history


def test_roll_back_of_an_older_production_run_is_refused_with_an_explanation(app, client, auth, payments):
    with app.app_context():
        p = db.session.get(factories.ExportProfile, payments)
        first = factories.run(p, mode="production", status="exported")
        later = factories.run(p, mode="production", status="exported")
        db.session.add_all([LedgerEntry(profile_id=p.id, record_key="R0", fingerprint="a", run_id=first.id),
                            LedgerEntry(profile_id=p.id, record_key="R0", fingerprint="b", run_id=later.id)])
        db.session.commit()
        ids = (first.id, later.id)
    auth.login("staff")
    page = client.get(f"/runs/{ids[0]}/roll-back").get_data(as_text=True)
    assert f"Roll back export {ids[1]} first." in page
    client.post(f"/runs/{ids[0]}/roll-back", data={"csrf_token": _csrf(client), "confirmed": "yes"})
    assert _runs(app)[0].status == "exported"


def test_roll_back_page_says_api_data_stays_delivered(app, client, auth, payments):
    with app.app_context():
        p = db.session.get(factories.ExportProfile, payments)
        p.provider = "visma_net"
        r = factories.run(p, mode="production", status="exported")
        db.session.add(LedgerEntry(profile_id=p.id, record_key="R0", fingerprint="f", run_id=r.id))
        db.session.commit()
        run_id = r.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}/roll-back").get_data(as_text=True)
    assert "Data already delivered to Visma.net stays delivered" in page


def test_prepared_rows_are_read_only_for_managers_and_after_export(app, client, auth, payments):
    with app.app_context():
        p = db.session.get(factories.ExportProfile, payments)
        r = factories.run(p, status="prepared", mode="production")
        db.session.add(PreparedRow(run_id=r.id, seq=1, record_key="R0", payload={"receipt_number": "R0"}))
        db.session.commit()
        run_id = r.id
    auth.login("manager")
    page = client.get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert "disabled" in page
    assert client.post(f"/runs/{run_id}/prepared", data={"csrf_token": _csrf(client)}).status_code == 403
    auth.logout()
    auth.login("staff")
    page = client.get(f"/runs/{run_id}/prepared?errors=1").get_data(as_text=True)
    assert "No prepared rows." in page  # no row has an error


def test_prepared_data_pages_through_many_rows(app, client, auth, payments):
    with app.app_context():
        p = db.session.get(factories.ExportProfile, payments)
        r = factories.run(p, status="prepared", mode="production")
        db.session.execute(db.insert(PreparedRow), [
            {"run_id": r.id, "seq": i, "record_key": f"R{i}", "payload": {"receipt_number": f"R{i}"}}
            for i in range(1, 121)])
        db.session.commit()
        run_id = r.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}/prepared?page=last").get_data(as_text=True)
    assert "120 rows" in page and "R71<" in page and "R120<" in page and "R70<" not in page


@pytest.mark.parametrize("path", ["/scenarios", "/runs/{run}/roll-back"])
def test_managers_may_not_process_or_roll_back(app, client, auth, users, path):
    with app.app_context():
        run_id = factories.run(factories.profile()).id
    auth.login("manager")
    assert client.get(path.format(run=run_id)).status_code == 403


def test_process_without_selection_says_so_in_swedish(app, client, auth, payments):
    auth.login("staff")
    client.post("/language", data={"locale": "sv", "csrf_token": _csrf(client)})
    response = client.post("/scenarios/process", data={"csrf_token": _csrf(client), "operation": "prepare",
                                                        "scope": "selected"}, follow_redirects=True)
    assert "Välj minst ett scenario, eller välj Bearbeta alla." in response.get_data(as_text=True)
    assert _runs(app) == []


def test_an_ambiguous_run_at_says_which_offset_it_took(app, client, auth, payments):
    """31 October 2027, 02:30 happens twice in Amsterdam; the engine takes the first (summer) one."""
    from portal.exporting import services
    with app.app_context():
        run = services.start_run(payments, mode="test", window_start="2026-10-01", window_end="2026-10-31",
                                 run_at_local=datetime(2027, 10, 31, 2, 30))
        run_id = run.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "occurs twice in Europe/Amsterdam" in page and "UTC+02:00" in page


def test_roll_back_does_not_redirect_to_another_site(app, client, auth, payments):
    with app.app_context():
        run_id = factories.run(db.session.get(factories.ExportProfile, payments), mode="production",
                             status="exported").id
    auth.login("staff")
    response = client.post(f"/runs/{run_id}/roll-back",
                           data={"csrf_token": _csrf(client), "next": "https://evil.example/phish", "confirmed": "yes"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/runs/{run_id}")
    # A path on this site is followed.
    response = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": _csrf(client), "next": "/scenarios",
                                                            "confirmed": "yes"})
    assert response.headers["Location"] == "/scenarios"


def test_prepared_data_opened_from_scenarios_closes_back_to_scenarios(app, client, auth, payments):
    with app.app_context():
        p = db.session.get(factories.ExportProfile, payments)
        r = factories.run(p, status="prepared", mode="production")
        db.session.add(PreparedRow(run_id=r.id, seq=1, record_key="R0", payload={"receipt_number": "R0"}))
        db.session.commit()
        run_id = r.id
    auth.login("staff")
    scenarios = client.get("/scenarios?operation=export").get_data(as_text=True)
    assert f"/runs/{run_id}/prepared?next=/scenarios?operation%3Dexport" in scenarios
    page = client.get(f"/runs/{run_id}/prepared?next=/scenarios?operation%3Dexport").get_data(as_text=True)
    assert 'name="next" value="/scenarios?operation=export"' in page
    close = {"csrf_token": _csrf(client), "shown": "1", "active": "1", "action": "close"}
    response = client.post(f"/runs/{run_id}/prepared", data={**close, "next": "/scenarios?operation=export"})
    assert response.headers["Location"] == "/scenarios?operation=export"
    # Opened from the run page (or with another site as next): back to the run.
    response = client.post(f"/runs/{run_id}/prepared", data={**close, "next": "https://evil.example/"})
    assert response.headers["Location"].endswith(f"/runs/{run_id}")


def test_the_mode_on_the_run_page_is_read_once(app, client, auth, users):
    """Not "T Test Test": the letter is hidden from screen readers and the visible word follows it."""
    with app.app_context():
        run_id = factories.run(factories.profile(), status="exported", mode="test").id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    (dd,) = re.findall(r"<dt>Test / Production</dt><dd>(.*?)</dd>", page)
    assert '<abbr class="badge" title="Test export" aria-hidden="true">T</abbr>' in dd
    assert "visually-hidden" not in dd and dd.count("Test") == 2    # the tooltip and the visible word
    # Elsewhere (no visible word) the badge reads the word once, not the letter.
    overview = client.get("/profiles/").get_data(as_text=True)
    assert '<abbr class="badge" title="Test export" aria-hidden="true">T</abbr><span class="visually-hidden"> Test</span>' in overview


@pytest.mark.parametrize("locale, text", [("en", "31/10/2027, 02:30 occurs twice"), ("nl", "31-10-2027, 02:30"),
                                          ("da", "31.10.2027 02.30")])
def test_an_ambiguous_run_at_is_written_in_the_users_locale(app, client, auth, payments, locale, text):
    from portal.exporting import services
    with app.app_context():
        run_id = services.start_run(payments, mode="test", window_start="2026-10-01", window_end="2026-10-31",
                                    run_at_local=datetime(2027, 10, 31, 2, 30)).id
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": _csrf(client)})
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert text in page and "2027-10-31 02:30" not in page


def test_roll_back_happens_only_on_the_confirmations_yes(app, client, auth, payments):
    """A POST straight to Roll back (a crafted form, a resent request) is answered with the confirmation,
    as Cancel is: only its Yes rolls back."""
    with app.app_context():
        p = db.session.get(factories.ExportProfile, payments)
        run = factories.run(p, mode="production", status="exported")
        db.session.add(LedgerEntry(profile_id=p.id, record_key="R0", fingerprint="f", run_id=run.id))
        db.session.commit()
        run_id = run.id
    auth.login("staff")
    asked = client.post(f"/runs/{run_id}/roll-back", data={"csrf_token": _csrf(client)})
    assert asked.status_code == 200 and f"Roll back export {run_id} of" in asked.get_data(as_text=True)
    assert 'name="confirmed" value="yes"' in asked.get_data(as_text=True)     # the confirmation's Yes sends it
    assert _runs(app)[0].status == "exported"
    done = client.post(f"/runs/{run_id}/roll-back", data={"csrf_token": _csrf(client), "confirmed": "yes"},
                       follow_redirects=True)
    assert "The export was rolled back." in done.get_data(as_text=True)
    assert _runs(app)[0].status == "rolled_back"


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_skip_headers_is_offered_only_where_the_files_have_headings(app, client, auth, users, locale):
    """A prepared run's Export form: Skip headers for CSV and XLSX files, not for a delivery to Visma.net
    (nor JSON Lines or SIE 4: no row of headings) — where it means nothing, it is not shown, and a posted
    one is not kept."""
    from flask_babel import force_locale, gettext
    with app.app_context():
        runs = {}
        for name, provider, fmt, export_type in [("CSV", "file", "csv", "payments"), ("XLSX", "file", "xlsx", "payments"),
                                                 ("JSONL", "file", "jsonl", "payments"),
                                                 ("SIE", "file", "sie4", "journal_entries"),
                                                 ("Visma", "visma_net", None, "payments")]:
            profile = factories.profile(name, export_type=export_type, fmt=fmt or "jsonl")
            if provider == "visma_net":
                profile.provider, profile.options = "visma_net", {"account_id": 1}
            runs[name] = factories.run(profile, status="prepared").id
        db.session.commit()
        with app.test_request_context(), force_locale(locale):
            label = gettext("Skip headers")
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": _csrf(client)})
    shown = {name: 'name="skip_headers"' in client.get(f"/runs/{run_id}").get_data(as_text=True)
             for name, run_id in runs.items()}
    assert shown == {"CSV": True, "XLSX": True, "JSONL": False, "SIE": False, "Visma": False}
    page = client.get(f"/runs/{runs['Visma']}").get_data(as_text=True)
    assert label not in page and label in client.get(f"/runs/{runs['CSV']}").get_data(as_text=True)
    assert 'action="/runs/%d/export"' % runs["Visma"] in page          # the Export button stays
    if locale == "en":
        client.post(f"/runs/{runs['Visma']}/export", data={"csrf_token": _csrf(client), "skip_headers": "1"})
        with app.app_context():
            assert "skip_headers" not in db.session.get(Run, runs["Visma"]).params
