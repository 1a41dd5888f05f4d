"""Confirmations before the run actions that cannot be taken back: Process / Process all with a delivering
operation (Prepare and export, Export) asks as Start export does; Cancel on the run page for every status
``cancel_run`` accepts says what cancelling keeps; a Visma.net roll back says the data stays there and an
export over the window sends it again. With JavaScript a dialog (the htmx fragment), without a page."""
from datetime import datetime
from decimal import Decimal

import pytest

from portal.exporting import queries, windows
from portal.extensions import db
from portal.models import IntegrationAccount, Payment
from portal.models.exporting import LedgerEntry, PreparedRow, Run

from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def payments(app, users):
    with app.app_context():
        c = factories.company()
        start, _end = windows.window("previous_month")
        for i in range(3):
            db.session.add(Payment(company_id=c.id, receipt_number=f"R{i}", customer_number="C1", customer_name="A",
                                   payment_type="CARD", amount=Decimal("10.00") + i,
                                   paid_at=datetime(start.year, start.month, 10, 11, i)))
        db.session.commit()
        kassa = factories.profile("Kassa", export_type="payments", fmt="jsonl", sync_type="incremental_all").id
        visma = factories.profile("Kassa Visma", export_type="payments", fmt="jsonl", sync_type="incremental_all")
        account = IntegrationAccount(name="Visma.net", refresh_token_encrypted="sealed")   # authorised
        db.session.add(account)
        db.session.flush()
        visma.provider, visma.options = "visma_net", {"account_id": account.id}
        db.session.commit()
        return {"file": kassa, "visma": visma.id}


def _runs(app):
    with app.app_context():
        return db.session.execute(db.select(Run).order_by(Run.id)).scalars().all()


# -- 1. Process / Process all: production exports ask first ------------------------------------------

def test_process_all_with_prepare_and_export_asks_first_and_starts_nothing(app, client, auth, payments):
    auth.login("staff")
    csrf = factories.csrf_token(client)
    response = client.post("/scenarios/process", data={"csrf_token": csrf, "operation": "prepare_and_export",
                                                        "scope": "all"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1" in page and "Prepare and export these scenarios?" in page   # a page of its own
    assert "Kassa" in page and "Kassa Visma" in page
    assert "Writes a file (JSONL)." in page and "Sends to Visma.net." in page
    assert "Data sent to Visma.net stays there" in page
    assert "Yes, start 2 production exports" in page
    assert _runs(app) == []                                      # nothing started before Yes

    # With JavaScript: the same confirmation as the dialog's fragment (no page around it).
    fragment = client.post("/scenarios/process", headers=HTMX, data={
        "csrf_token": csrf, "operation": "prepare_and_export", "scope": "all"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="dialog-title"' in fragment and "<h2" in fragment
    assert "Sends to Visma.net." in fragment and "data-close-dialog" in fragment
    assert _runs(app) == []

    # Yes starts exactly the scenarios listed (their ids, not "all" again).
    response = client.post("/scenarios/process", headers=HTMX, data={
        "csrf_token": csrf, "operation": "prepare_and_export", "confirmed": "yes",
        "profiles": [str(payments["file"])]})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/scenarios")
    runs = _runs(app)
    assert [(r.profile_id, r.mode, r.operation) for r in runs] == [
        (payments["file"], "production", "prepare_and_export")]


def test_process_export_asks_first_and_leaves_out_what_does_not_fit(app, client, auth, payments):
    with app.app_context():
        visma = db.session.get(factories.ExportProfile, payments["visma"])
        run_id = factories.run(visma, mode="production", status="prepared").id
    auth.login("staff")
    csrf = factories.csrf_token(client)
    page = client.post("/scenarios/process", data={
        "csrf_token": csrf, "operation": "export", "scope": "selected",
        "profiles": [str(payments["visma"]), str(payments["file"])]}).get_data(as_text=True)
    assert "Export these scenarios?" in page and f"Export {run_id}" in page and "Sends to Visma.net." in page
    assert "Left out, as their status does not fit this operation: Kassa." in page
    assert "Yes, export 1 scenario" in page
    assert f'name="profiles" value="{payments["file"]}"' not in page
    assert _runs(app)[0].status == "prepared"                    # nothing exported before Yes


def test_yes_exports_the_production_export_the_confirmation_named_not_a_newer_test_export(
        app, client, auth, payments):
    """The confirmation names the latest prepared production export; Yes exports that one — not a newer
    prepared test export of the same profile — and refuses when another became the one to export since."""
    with app.app_context():
        kassa = db.session.get(factories.ExportProfile, payments["file"])
        named = factories.run(kassa, mode="production", status="prepared").id
        test_run = factories.run(kassa, mode="test", status="prepared").id
    auth.login("staff")
    csrf = factories.csrf_token(client)
    page = client.post("/scenarios/process", data={
        "csrf_token": csrf, "operation": "export", "profiles": [str(payments["file"])]}).get_data(as_text=True)
    assert f"Export {named}" in page and f'name="run_{payments["file"]}" value="{named}"' in page
    # Meanwhile the named one is cancelled and another prepared: it is no longer the one to export.
    with app.app_context():
        db.session.get(Run, named).status = "cancelled"
        db.session.commit()
        newer = factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                              status="prepared").id
    refused = client.post("/scenarios/process", follow_redirects=True, data={
        "csrf_token": csrf, "operation": "export", "confirmed": "yes", "profiles": [str(payments["file"])],
        f"run_{payments['file']}": str(named)}).get_data(as_text=True)
    assert f"Kassa changed since you confirmed: the export to process is now export {newer}." in refused
    assert {r.id: r.status for r in _runs(app)} == {named: "cancelled", test_run: "prepared", newer: "prepared"}
    client.post("/scenarios/process", data={
        "csrf_token": csrf, "operation": "export", "confirmed": "yes", "profiles": [str(payments["file"])],
        f"run_{payments['file']}": str(newer)})
    states = {r.id: r.status for r in _runs(app)}
    assert states[test_run] == "prepared" and states[newer] != "prepared"     # the production one, not the test


def test_process_confirmation_says_now_what_the_provider_would_refuse(app, client, auth, payments):
    with app.app_context():
        db.session.execute(db.update(IntegrationAccount).values(refresh_token_encrypted=None))
        db.session.commit()
    auth.login("staff")
    page = client.post("/scenarios/process", data={
        "csrf_token": factories.csrf_token(client), "operation": "prepare_and_export",
        "scope": "all"}).get_data(as_text=True)
    assert "Kassa Visma cannot send to Visma.net: Integration account " in page
    assert "is not authorised at Visma.net: no record can be sent through it" in page
    assert "Authorise it under Integration accounts → " in page
    assert f'name="profiles" value="{payments["visma"]}"' not in page     # Yes does not start it
    assert f'name="profiles" value="{payments["file"]}"' in page
    assert "Yes, start 1 production export" in page and "Data sent to Visma.net stays there" not in page
    assert _runs(app) == []


@pytest.mark.parametrize("locale, refused, yes", [
    ("en", "Kassa Visma cannot send to Visma.net: Integration account Visma.net is not authorised at Visma.net",
     "Yes, start the production export"),
    ("nl", "Kassa Visma kan niet naar Visma.net verzenden: Integratieaccount Visma.net is niet geautoriseerd",
     "Ja, start de productie-export"),
    ("sv", "Kassa Visma kan inte skicka till Visma.net: Integrationskontot Visma.net är inte auktoriserat",
     "Ja, starta produktionsexporten"),
    ("da", "Kassa Visma kan ikke sende til Visma.net: Integrationskontoen Visma.net er ikke autoriseret",
     "Ja, start produktionseksporten"),
])
def test_start_exports_production_confirmation_says_now_what_the_provider_would_refuse(
        app, client, auth, payments, locale, refused, yes):
    """Start export → Production through an account that is not authorised: the confirmation says it is
    refused and why (where to authorise it), without Yes — not "Yes, start…" and the refusal after it."""
    path = f"/profiles/{payments['visma']}/start"
    auth.login("staff")
    client.post("/language", data={"locale": locale, "csrf_token": factories.csrf_token(client)})
    csrf = factories.csrf_token(client, path)
    data = {"csrf_token": csrf, "preset": "previous_month", "mode": "production", "action": "start"}
    assert yes in client.post(path, data=data).get_data(as_text=True)           # authorised: Yes
    with app.app_context():
        db.session.execute(db.update(IntegrationAccount).values(refresh_token_encrypted=None))
        db.session.commit()
    for headers in ({}, HTMX):                            # the plain page and the dialog
        page = client.post(path, data=data, headers=headers).get_data(as_text=True)
        refusal = page[page.index('id="production-refused"'):]
        assert refused in refusal[:refusal.index("</div>")]
        assert "→ Visma.net →" in refusal[:refusal.index("</div>")]        # where to authorise it
        assert yes not in page and 'value="back"' in page
    assert _runs(app) == []
    # The file profile's confirmation is not concerned.
    page = client.post(f"/profiles/{payments['file']}/start", data=dict(
        data, csrf_token=factories.csrf_token(client, f"/profiles/{payments['file']}/start"))).get_data(as_text=True)
    assert yes in page and 'id="production-refused"' not in page


def test_process_confirmation_in_dutch(app, client, auth, payments):
    auth.login("staff")
    client.post("/language", data={"locale": "nl", "csrf_token": factories.csrf_token(client)})
    page = client.post("/scenarios/process", data={
        "csrf_token": factories.csrf_token(client), "operation": "prepare_and_export",
        "profiles": str(payments["visma"])}).get_data(as_text=True)
    assert "Deze scenario's voorbereiden en exporteren?" in page and "Stuurt naar Visma.net." in page
    assert "Ja, start 1 productie-export" in page
    assert _runs(app) == []


def test_process_roll_back_confirmation_opens_as_a_dialog_with_javascript(app, client, auth, payments):
    with app.app_context():
        factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                      status="exported")
    auth.login("staff")
    fragment = client.post("/scenarios/process", headers=HTMX, data={
        "csrf_token": factories.csrf_token(client), "operation": "roll_back", "scope": "all"}).get_data(as_text=True)
    assert "<html" not in fragment and "Roll back these scenarios?" in fragment
    assert _runs(app)[0].status == "exported"


# -- 2. Cancel a prepared or partially processed export, with a confirmation ----------------------------

def test_cancel_a_prepared_export_from_its_page_after_a_confirmation(app, client, auth, payments):
    with app.app_context():
        run = factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                            status="prepared")
        db.session.add_all([PreparedRow(run_id=run.id, seq=i, record_key=f"R{i}", payload={}) for i in range(3)])
        db.session.commit()
        run_id = run.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert f'href="/runs/{run_id}/cancel"' in page and "Cancel export" in page

    confirm = client.get(f"/runs/{run_id}/cancel").get_data(as_text=True)   # no JavaScript: a page
    assert "<h1" in confirm and f"Cancel export {run_id} of Kassa?" in confirm
    assert "Its 3 prepared rows are kept, to look at in Prepared data, but they are not exported any more." in confirm
    assert "That is final: it cannot be exported or rolled back afterwards." in confirm
    fragment = client.get(f"/runs/{run_id}/cancel", headers=HTMX).get_data(as_text=True)  # the dialog
    assert "<html" not in fragment and 'id="dialog-title"' in fragment
    assert _runs(app)[0].status == "prepared"                    # asking changes nothing

    asked = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": factories.csrf_token(client)})
    assert asked.status_code == 200 and _runs(app)[0].status == "prepared"   # a POST without Yes asks too
    response = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": factories.csrf_token(client),
                                                            "confirmed": "yes"}, follow_redirects=True)
    assert "The export was cancelled." in response.get_data(as_text=True)
    assert _runs(app)[0].status == "cancelled"
    with app.app_context():   # its prepared data is kept
        assert db.session.execute(db.select(db.func.count()).select_from(PreparedRow)).scalar_one() == 3
    assert f'href="/runs/{run_id}/cancel"' not in client.get(f"/runs/{run_id}").get_data(as_text=True)


@pytest.mark.parametrize("status", ["scheduled", "queued", "prepared", "partially_processed"])
def test_the_run_page_offers_cancel_once_with_an_id_that_keeps_focus(app, client, auth, payments, status):
    """One Cancel a page (a scheduled export showed it twice: in its notice and in the actions), with an
    id: the live panel is swapped every second, and htmx puts focus back on an element with the same id."""
    with app.app_context():
        run = factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                            status=status, **({"run_at": datetime(2030, 1, 1, 9)} if status == "scheduled" else {}))
        run_id = run.id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert page.count(f'href="/runs/{run_id}/cancel"') == 1 and page.count('id="run-cancel"') == 1


def test_cancel_of_a_partially_processed_visma_export_says_what_stays(app, client, auth, payments):
    with app.app_context():
        run = factories.run(db.session.get(factories.ExportProfile, payments["visma"]), mode="production",
                            status="partially_processed")
        db.session.add_all([PreparedRow(run_id=run.id, seq=i, record_key=f"R{i}", payload={}, processed=i < 2)
                            for i in range(3)])
        db.session.add_all([LedgerEntry(profile_id=run.profile_id, record_key=f"R{i}", fingerprint="f",
                                        run_id=run.id) for i in range(2)])
        db.session.commit()
        run_id = run.id
    auth.login("staff")
    assert f'href="/runs/{run_id}/cancel"' in client.get(f"/runs/{run_id}").get_data(as_text=True)
    confirm = client.get(f"/runs/{run_id}/cancel").get_data(as_text=True)
    assert "The 2 rows it delivered stay delivered. What was sent to Visma.net stays there." in confirm
    assert "What was sent to Visma.net stays there." in confirm
    assert "The 2 records it recorded stay in the export history" in confirm
    assert "roll it back instead of cancelling it" in confirm
    assert _runs(app)[0].status == "partially_processed"


def test_cancel_is_not_offered_for_an_exported_export_and_refused(app, client, auth, payments):
    with app.app_context():
        run_id = factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                               status="exported").id
    auth.login("staff")
    assert f'href="/runs/{run_id}/cancel"' not in client.get(f"/runs/{run_id}").get_data(as_text=True)
    confirm = client.get(f"/runs/{run_id}/cancel").get_data(as_text=True)
    assert "This export can no longer be cancelled: it is Exported." in confirm and "Yes, cancel" not in confirm
    response = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": factories.csrf_token(client),
                                                            "confirmed": "yes"}, follow_redirects=True)
    assert "cannot be cancelled" in response.get_data(as_text=True)
    assert _runs(app)[0].status == "exported"


def test_managers_may_not_open_the_cancel_confirmation(app, client, auth, payments):
    with app.app_context():
        run_id = factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                               status="prepared").id
    auth.login("manager")
    assert client.get(f"/runs/{run_id}/cancel").status_code == 403
    assert "Cancel export" not in client.get(f"/runs/{run_id}").get_data(as_text=True)


def test_cancel_plan_counts_on_both_databases(any_app):
    with any_app.app_context():
        run = factories.run(factories.profile("Kassa"), mode="production", status="partially_processed",
                            started_by=None)
        db.session.add_all([PreparedRow(run_id=run.id, seq=i, record_key=f"R{i}", payload={}, processed=i < 1)
                            for i in range(4)])
        db.session.add(LedgerEntry(profile_id=run.profile_id, record_key="R0", fingerprint="f", run_id=run.id))
        db.session.commit()
        plan = queries.cancel_plan(run)
        assert (plan.prepared_rows, plan.delivered_rows, plan.recorded) == (4, 1, 1)


# -- 3. Roll back of a Visma.net export: exporting the window again sends it again ------------------------

def test_visma_roll_back_says_exporting_the_window_again_sends_it_again(app, client, auth, payments):
    with app.app_context():
        run = factories.run(db.session.get(factories.ExportProfile, payments["visma"]), mode="production",
                            status="exported")
        db.session.add(LedgerEntry(profile_id=run.profile_id, record_key="R0", fingerprint="f", run_id=run.id))
        filed = factories.run(db.session.get(factories.ExportProfile, payments["file"]), mode="production",
                              status="exported")
        db.session.add(LedgerEntry(profile_id=filed.profile_id, record_key="R0", fingerprint="f", run_id=filed.id))
        db.session.commit()
        ids = (run.id, filed.id)
    auth.login("staff")
    again = "a production export over this time window sends these records to Visma.net again"
    assert again in client.get(f"/runs/{ids[0]}/roll-back").get_data(as_text=True)
    assert again not in client.get(f"/runs/{ids[1]}/roll-back").get_data(as_text=True)
    many = client.post("/scenarios/process", data={"csrf_token": factories.csrf_token(client),
                                                    "operation": "roll_back", "scope": "all"}).get_data(as_text=True)
    assert many.count(again) == 1
    client.post("/language", data={"locale": "sv", "csrf_token": factories.csrf_token(client)})
    assert ("en produktionsexport över denna tidsperiod dessa poster till Visma.net igen"
            in client.get(f"/runs/{ids[0]}/roll-back").get_data(as_text=True))
