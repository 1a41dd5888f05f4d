"""Start export: the form, its validation (in several languages), test and production, run at,
invoice-only fields with the debtor selection, and one run per form however often it is sent."""
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import Payment
from portal.models.exporting import Run

from tests import factories


@pytest.fixture
def profiles(app, users):
    with app.app_context():
        c = factories.company()
        factories.debtors(c, 4, blocked=(1,))
        for i in range(3):
            db.session.add(Payment(company_id=c.id, receipt_number=f"R{i}", customer_number="C1", customer_name="A",
                                   payment_type="CARD", amount=Decimal("10.00"), paid_at=datetime(2026, 11, 10, 9, i)))
        db.session.commit()
        payments = factories.profile("Kassa betalingen", export_type="payments")
        invoices = factories.profile("Facturen", export_type="invoices")
        return {"payments": payments.id, "invoices": invoices.id, "company": c.id}


def _form(client, path):
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="form_token"', page)
    csrf = factories.csrf_from(page)
    return page, {"csrf_token": csrf, "form_token": token.group(1)}


def _runs(app):
    with app.app_context():
        return db.session.execute(db.select(Run).order_by(Run.id)).scalars().all()


def test_form_shows_presets_test_default_and_time_zone(client, auth, profiles):
    auth.login("staff")
    page, _ = _form(client, f"/profiles/{profiles['payments']}/start")
    for preset in ("This month", "Last month", "This quarter", "Last quarter", "This year", "Last year", "Custom dates"):
        assert preset in page
    assert re.search(r'value="test"[^>]*checked|checked[^>]*value="test"', page)
    assert "In the time zone Europe/Amsterdam." in page      # no offset: today's may not be the start's
    assert "Debtor selection" not in page  # invoices only


def test_invoice_form_has_booking_date_description_and_debtor_selection(client, auth, profiles):
    auth.login("staff")
    page, _ = _form(client, f"/profiles/{profiles['invoices']}/start")
    for text in ("Booking date", "Description", "Debtor selection", "All debtors"):
        assert text in page


def test_staff_start_a_test_export_and_it_runs(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="test")
    response = client.post(f"/profiles/{profiles['payments']}/start", data=data)
    assert response.status_code == 302
    runs = _runs(app)
    assert len(runs) == 1 and runs[0].mode == "test" and runs[0].status == "queued"
    assert response.headers["Location"] == f"/runs/{runs[0].id}"
    # The job is in Redis (real RQ queue).
    with app.app_context():
        from portal.queue import queue
        assert runs[0].job_id in queue("exports").job_ids
        run = factories.run_job(runs[0].id)
        assert run.status == "exported", run.error_reason
    panel = client.get(f"/runs/{runs[0].id}").get_data(as_text=True)
    assert "hx-trigger" not in panel  # finished: the panel stops polling
    file_link = re.search(r'href="(/runs/\d+/files/\d+)"', panel).group(1)
    download = client.get(file_link)
    assert download.status_code == 200 and b"R0" in download.data
    report = client.get(f"/runs/{runs[0].id}/report.csv")
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/csv")


def test_the_same_form_sent_twice_creates_one_run(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="previous_month", mode="test")
    first = client.post(f"/profiles/{profiles['payments']}/start", data=data)
    second = client.post(f"/profiles/{profiles['payments']}/start", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_runs(app)) == 1


@pytest.mark.parametrize("locale, message", [
    ("en", "The end of the time window is before its start."),
    ("nl", "Het einde van het tijdvenster ligt vóór het begin."),
    ("sv", "Tidsperiodens slut ligger före dess början."),
])
def test_window_ending_before_it_starts_is_refused_inline(app, client, auth, profiles, locale, message):
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="custom", window_start="2026-11-30", window_end="2026-11-01", mode="test")
    response = client.post(f"/profiles/{profiles['payments']}/start", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'id="window_end-errors"' in page and 'aria-invalid="true"' in page
    assert _runs(app) == []


def test_custom_window_needs_both_dates(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    page = client.post(f"/profiles/{profiles['payments']}/start",
                       data=dict(fields, preset="custom", mode="test")).get_data(as_text=True)
    assert "Enter the first day of the time window." in page
    assert "Enter the last day of the time window." in page
    assert _runs(app) == []


@pytest.mark.parametrize("run_at, message", [
    ("2020-01-01T10:00", "The start time has passed"),
    ("2027-03-28T02:30", "does not exist in the time zone Europe/Amsterdam"),
    ("not a time", "Not a valid datetime value."),
])
def test_bad_run_at_is_refused_next_to_the_field(app, client, auth, profiles, run_at, message):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    page = client.post(f"/profiles/{profiles['payments']}/start",
                       data=dict(fields, preset="previous_month", mode="test", run_at=run_at)).get_data(as_text=True)
    assert message in page
    assert 'id="run_at-errors"' in page
    assert _runs(app) == []


def test_production_shows_what_will_be_recorded_then_asks_for_confirmation(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="production")
    page = client.post(f"/profiles/{profiles['payments']}/start", data=data).get_data(as_text=True)
    assert "What will be recorded" in page
    assert "What the next export over this period will deliver" in page
    assert "Every record again" in page  # the profile's sync type is full
    assert _runs(app) == []  # nothing is created before the confirmation
    response = client.post(f"/profiles/{profiles['payments']}/start", data=dict(data, confirmed="yes"))
    assert response.status_code == 302
    runs = _runs(app)
    assert len(runs) == 1 and runs[0].mode == "production"


def test_back_from_the_confirmation_keeps_the_values(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="production",
                confirmed="yes", action="back")
    page = client.post(f"/profiles/{profiles['payments']}/start", data=data).get_data(as_text=True)
    assert 'value="2026-11-01"' in page and "Start export" in page
    assert _runs(app) == []


def test_scheduled_production_run_for_tomorrow_then_cancelled(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    data = dict(fields, preset="previous_month", mode="production", confirmed="yes", run_at=tomorrow)
    response = client.post(f"/profiles/{profiles['payments']}/start", data=data)
    run = _runs(app)[0]
    assert run.status == "scheduled" and run.run_at is not None
    panel = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Scheduled: starts at" in panel and "UTC+0" in panel
    assert client.get(f"/runs/{run.id}/cancel").status_code == 200  # a GET only asks: it changes nothing
    assert client.post(f"/runs/{run.id}/cancel", data={}).status_code == 400  # CSRF checked
    assert _runs(app)[0].status == "scheduled"
    # A POST without the confirmation's Yes asks too (what cancelling does), and changes nothing.
    asked = client.post(f"/runs/{run.id}/cancel", data={"csrf_token": fields["csrf_token"]}).get_data(as_text=True)
    assert "The export does not start: nothing is prepared or delivered." in asked
    assert _runs(app)[0].status == "scheduled"
    client.post(f"/runs/{run.id}/cancel", data={"csrf_token": fields["csrf_token"], "confirmed": "yes"})
    assert _runs(app)[0].status == "cancelled"


def test_debtor_search_without_javascript_and_the_active_search(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['invoices']}/start")
    page = client.post(f"/profiles/{profiles['invoices']}/start",
                       data=dict(fields, preset="previous_month", mode="test", debtor_query="Debtor 2",
                                 action="search_debtors")).get_data(as_text=True)
    assert "10002 · Debtor 2" in page and "Blocked" in page
    assert _runs(app) == []  # searching creates nothing
    fragment = client.get(f"/debtors/search?debtor_query=1000&debtors={profiles['company']}:10001",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "10002" in fragment and "10001" not in fragment  # the selected one is listed already
    assert "<html" not in fragment


def test_invoice_export_with_selected_debtors(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['invoices']}/start")
    data = dict(fields, preset="previous_month", mode="test", booking_date="2026-12-01", description="November care",
                debtor_scope="selected", debtors=[f"{profiles['company']}:10001", f"{profiles['company']}:10003"])
    assert client.post(f"/profiles/{profiles['invoices']}/start", data=data).status_code == 302
    params = _runs(app)[0].params
    assert params["debtors"] == [{"company_id": profiles["company"], "number": "10001"},
                                 {"company_id": profiles["company"], "number": "10003"}]
    assert params["booking_date"] == "2026-12-01" and params["description"] == "November care"


def test_selected_debtors_without_a_debtor_is_refused(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['invoices']}/start")
    page = client.post(f"/profiles/{profiles['invoices']}/start",
                       data=dict(fields, preset="previous_month", mode="test", debtor_scope="selected")).get_data(as_text=True)
    assert "Select at least one debtor, or choose all debtors." in page
    assert _runs(app) == []


def _summary(page):
    """The error summary's heading and its lines as (link target or None, text)."""
    found = re.search(r'<div class="flash flash-error error-summary" role="alert" id="error-summary"[^>]*>(.*?)</div>',
                      page, re.S)
    if found is None:
        return None, []
    heading = re.search(r"<strong>(.*?)</strong>", found.group(1)).group(1)
    lines = [(re.search(r'href="#([^"]+)"', li).group(1) if "href" in li else None, re.sub(r"<[^>]+>", "", li))
             for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]
    return heading, lines


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "dialog"])
@pytest.mark.parametrize("locale, heading, first_day", [
    ("en", "The export was not started: please check the following.", "Enter the first day of the time window."),
    ("nl", "De export is niet gestart: controleer het volgende.", "Vul de eerste dag van het tijdvenster in."),
])
def test_a_refused_start_lists_every_error_above_the_form_linked_to_its_field(
        app, client, auth, profiles, htmx, locale, heading, first_day):
    """The error summary, on the page (JavaScript off) and in the dialog (htmx): each error links to the
    element its field is (a group of radio buttons: its first button), the field's own message stays,
    and an error of a field without a place of its own (an invalid test/production choice) is said too."""
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
    path = f"/profiles/{profiles['invoices']}/start"
    _, fields = _form(client, path)
    response = client.post(path, headers={"HX-Request": "true"} if htmx else {},
                           data=dict(fields, preset="custom", window_end="2026-11-01", mode="both",
                                     run_at="not a time", debtor_scope="selected"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in page) is not htmx
    shown, lines = _summary(page)
    assert shown == heading
    targets = [target for target, _ in lines]
    assert targets == ["window_start", "mode-0", "run_at"], lines
    assert first_day in lines[0][1]
    for target in targets:
        assert f'id="{target}"' in page               # the link leads somewhere
    assert 'id="window_start-errors"' in page and 'id="run_at-errors"' in page
    assert _runs(app) == []
    # The debtor check runs once the fields are valid: it is listed too, linked to its first choice.
    page = client.post(path, headers={"HX-Request": "true"} if htmx else {},
                       data=dict(fields, preset="previous_month", mode="test", debtor_scope="selected")).get_data(as_text=True)
    assert [target for target, _ in _summary(page)[1]] == ["debtor_scope-0"]
    assert 'id="debtor_scope-0"' in page and _runs(app) == []


def _radios(page, name):
    return re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "dialog"])
def test_the_error_of_a_group_of_choices_is_shown_in_its_fieldset_and_tied_to_its_buttons(
        app, client, auth, profiles, htmx):
    """Time window, Test / Production and Debtor selection: a refused choice is said in its own fieldset
    (not only in the summary above the form), and every button of the group is described by that text
    and marked invalid; the summary is what gets the focus (autofocus, also in the dialog)."""
    auth.login("staff")
    path = f"/profiles/{profiles['invoices']}/start"
    _, fields = _form(client, path)
    headers = {"HX-Request": "true"} if htmx else {}
    page = client.post(path, headers=headers, data=dict(fields, preset="someday", mode="both")).get_data(as_text=True)
    assert re.search(r'id="error-summary" tabindex="-1" autofocus>', page)
    for name, legend in (("preset", "Time window"), ("mode", "Test / Production")):
        fieldset = re.search(rf'<fieldset class="field field-error">\s*<legend>{re.escape(legend)}</legend>(.*?)</fieldset>',
                             page, re.S)
        assert fieldset, name
        assert re.search(rf'<ul class="errors" id="{name}-errors"><li>[^<]+</li></ul>', fieldset.group(1)), name
        radios = _radios(page, name)
        assert len(radios) >= 2
        for radio in radios:
            assert 'aria-describedby="%s-errors"' % name in radio and 'aria-invalid="true"' in radio, radio
    assert not any("aria-invalid" in radio for radio in _radios(page, "debtor_scope"))
    # The debtor selection: its message under its buttons, and each button described by it.
    page = client.post(path, headers=headers, data=dict(fields, preset="previous_month", mode="test",
                                                        debtor_scope="selected")).get_data(as_text=True)
    assert 'id="debtor_scope-errors"><li>Select at least one debtor, or choose all debtors.</li>' in page
    for radio in _radios(page, "debtor_scope"):
        assert 'aria-describedby="debtor_scope-errors"' in radio and 'aria-invalid="true"' in radio, radio
    for name in ("preset", "mode"):
        assert not any("aria-invalid" in radio or "aria-describedby" in radio for radio in _radios(page, name))
    assert _runs(app) == []


def test_a_start_without_errors_has_no_summary(client, auth, profiles):
    auth.login("staff")
    page, _ = _form(client, f"/profiles/{profiles['payments']}/start")
    assert 'id="error-summary"' not in page


def test_htmx_gets_the_dialog_fragment_and_a_redirect_header(app, client, auth, profiles):
    auth.login("staff")
    fragment = client.get(f"/profiles/{profiles['payments']}/start", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="dialog-title"' in body
    assert "HX-Request" in fragment.headers["Vary"]
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    response = client.post(f"/profiles/{profiles['payments']}/start", headers={"HX-Request": "true"},
                           data=dict(fields, preset="previous_month", mode="test"))
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/runs/")


@pytest.mark.parametrize("who, status", [("manager", 403), ("admin", 200)])
def test_who_may_start(client, auth, profiles, who, status):
    auth.login(who)
    assert client.get(f"/profiles/{profiles['payments']}/start").status_code == status


def test_manager_cannot_post_a_start(app, client, auth, profiles):
    auth.login("manager")
    response = client.post(f"/profiles/{profiles['payments']}/start",
                           data={"csrf_token": auth.csrf_token("/"), "preset": "previous_month", "mode": "test"})
    assert response.status_code == 403
    assert _runs(app) == []


def test_signed_out_is_sent_to_sign_in(client, profiles):
    assert client.get(f"/profiles/{profiles['payments']}/start").status_code == 302


def test_a_refused_production_start_says_why_and_links_to_the_active_run(app, client, auth, profiles):
    """Issue 9, point 7: a production run of the profile still active (here Partially processed): the
    confirmation dialog and the plain page say why, name the run and link to it; nothing starts."""
    with app.app_context():
        from portal.models.exporting import ExportProfile
        active = factories.run(db.session.get(ExportProfile, profiles["payments"]), status="partially_processed",
                             mode="production")
        active_id = active.id
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="production")
    for headers in ({}, {"HX-Request": "true"}):           # the plain page and the dialog
        page = client.post(f"/profiles/{profiles['payments']}/start", data=data, headers=headers).get_data(as_text=True)
        assert f"production export {active_id} of this profile is still Partially processed" in page
        assert f'href="/runs/{active_id}"' in page
        assert "Yes, start the production export" not in page
    # Confirmed anyway (e.g. the run became active after the dialog opened): the form says why too.
    page = client.post(f"/profiles/{profiles['payments']}/start", data=dict(data, confirmed="yes"),
                       follow_redirects=True).get_data(as_text=True)
    assert f"production export {active_id} of this profile is still Partially processed" in page
    assert f'href="/runs/{active_id}"' in page
    assert [r.id for r in _runs(app)] == [active_id]


@pytest.mark.parametrize("locale, starts", [
    ("en", "{d.day:02d}/{d.month:02d}/{d.year}, 09:00"), ("nl", "{d.day:02d}-{d.month:02d}-{d.year}, 09:00"),
])
def test_the_production_confirmation_says_the_start_time_as_the_user_writes_dates(
        app, client, auth, profiles, locale, starts):
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    day = (datetime.now() + timedelta(days=2)).date()
    data = dict(fields, preset="previous_month", mode="production", run_at=f"{day.isoformat()}T09:00")
    page = client.post(f"/profiles/{profiles['payments']}/start", data=data).get_data(as_text=True)
    assert starts.format(d=day) in page
    assert day.isoformat() not in page.replace(f'value="{day.isoformat()}T09:00"', "")
    assert _runs(app) == []


def test_a_start_time_that_has_passed_is_refused_before_the_production_confirmation(app, client, auth, profiles):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="previous_month", mode="production", run_at="2020-01-01T10:00")
    page = client.post(f"/profiles/{profiles['payments']}/start", data=data).get_data(as_text=True)
    assert "The start time has passed" in page and 'id="run_at-errors"' in page
    assert "What will be recorded" not in page
    assert _runs(app) == []


@pytest.mark.parametrize("run_at, says, twice", [
    ("2027-07-01T09:00", "01/07/2027, 09:00 (Europe/Amsterdam, UTC+02:00)", False),    # summer time, asked in winter
    ("2027-10-31T02:30", "31/10/2027, 02:30 (Europe/Amsterdam, UTC+02:00)", True),     # the hour that happens twice
])
def test_the_production_confirmation_names_the_offset_at_the_start(app, client, auth, profiles, run_at, says, twice):
    auth.login("staff")
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    data = dict(fields, preset="previous_month", mode="production", run_at=run_at)
    page = client.post(f"/profiles/{profiles['payments']}/start", data=data).get_data(as_text=True)
    assert f"It starts at {says}." in page and "((" not in page and "))" not in page
    assert ("occurs twice in Europe/Amsterdam" in page) is twice and "(GMT" not in page


def test_the_run_at_hint_names_the_zone_without_an_offset_that_can_be_wrong(app, client, auth, profiles):
    """The Run at hint named today's offset ("Europe/Amsterdam (UTC+01:00)" in winter) for any date the
    user then picks, a summer one too: it names the zone only. The confirmation names the start's offset."""
    auth.login("staff")
    for locale, hint in (("en", "Optional. In the time zone Europe/Amsterdam. Leave empty to start now."),
                         ("da", "Valgfrit. I tidszonen Europe/Amsterdam. Lad feltet stå tomt for at starte nu.")):
        client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
        page = client.get(f"/profiles/{profiles['payments']}/start").get_data(as_text=True)
        assert hint in page and "UTC+" not in page, locale


@pytest.mark.parametrize("locale, text", [
    ("en", "28/03/2027, 02:30 does not exist"),
    ("nl", "28-03-2027, 02:30 bestaat niet"),
    ("sv", "2027-03-28 02:30 finns inte"),
    ("da", "28.03.2027 02.30 findes ikke"),
])
def test_a_run_at_that_does_not_exist_is_written_in_the_users_locale(app, client, auth, profiles, locale, text):
    """The skipped hour's refusal names the time as the user's language writes times, not ISO."""
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
    _, fields = _form(client, f"/profiles/{profiles['payments']}/start")
    page = client.post(f"/profiles/{profiles['payments']}/start",
                       data=dict(fields, preset="previous_month", mode="test", run_at="2027-03-28T02:30")).get_data(as_text=True)
    assert text in page and 'id="run_at-errors"' in page
    if locale != "sv":    # Swedish writes ISO dates
        assert "2027-03-28 02:30" not in page
    assert _runs(app) == []


def test_the_picker_tells_two_companies_debtors_with_the_same_number_apart(any_app):
    """Debtor numbers are unique per company only. For a profile over every company the picker shows each
    debtor with its company, and ticking ZORG's debtor 10001 (Jansen) exports Jansen's invoices — not those
    of THUIS's debtor 10001 (Pietersen). Without JavaScript (the form's Search) and with it (the search)."""
    from portal.demo.seed import seed_users
    from portal.exporting import services
    from tests.factories import AuthActions, execute, rows_of
    client = any_app.test_client()
    with any_app.app_context():
        seed_users()
        zorg, thuis, *_ = factories.same_debtor_number()
        profile_id = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                             sync_type="full").id
        zorg_id, thuis_id = zorg.id, thuis.id
    AuthActions(client).login("staff")
    found = client.get("/debtors/search?debtor_query=1000", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'value="{zorg_id}:10001"' in found and f'value="{thuis_id}:10001"' in found
    assert "ZORG · Zorggroep Rivierenland B.V." in found and "THUIS · Thuiszorg Noord B.V." in found
    path = f"/profiles/{profile_id}/start"
    _, fields = _form(client, path)
    window = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30")
    searched = client.post(path, data=dict(window, mode="test", debtor_query="1000", action="search_debtors"))
    assert f'value="{thuis_id}:10001"' in searched.get_data(as_text=True)           # without JavaScript too
    chosen = dict(window, debtor_scope="selected", debtors=[f"{zorg_id}:10001"])
    asked = client.post(path, data=dict(chosen, mode="production")).get_data(as_text=True)
    choices = asked[asked.index('id="production-choices"'):asked.index('id="production-preview"')]
    assert "<dd>10001 · Jansen (ZORG)</dd>" in choices                              # the confirmation names it
    assert client.post(path, data=dict(chosen, mode="test")).status_code == 302
    with any_app.app_context():
        run = _runs(any_app)[-1]
        execute(run)
        run = db.session.get(Run, run.id)
        assert {(r["company_code"], r["debtor_name"]) for r in rows_of(run)} == {("ZORG", "Jansen")}
        db.session.remove()
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "<dd>10001 · Jansen (ZORG)</dd>" in page
