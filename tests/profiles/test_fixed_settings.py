"""A profile whose exports build on its export type, provider and integration account keeps them: the
edit form shows them as text with the reason, and a POST that changes one anyway is refused and changes
nothing. Changing them broke the next export (a test finding): payments → journal entries failed on the
payments in the ledger, and file → Visma.net counted what the file had delivered as sent to Visma.net."""
import html
import re

import pytest

from portal.exporting import services
from portal.exporting.errors import ExportError
from portal.extensions import db
from portal.models.exporting import ExportProfile, Run
from portal.models.visma_delivery import VismaDocument

from tests import factories

HINT = "The export type and the provider of this export profile cannot be changed"
HINT_VISMA = "The export type, the provider and the integration account of this export profile cannot be changed"


@pytest.fixture
def site(any_app):
    """The consultant signed in, on SQLite and on PostgreSQL."""
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
    client = any_app.test_client()
    factories.AuthActions(client).login("consultant")
    return any_app, client


def _payments_profile(app, *, production=True):
    """A CSV payments profile over three payments; with ``production``, one production export delivered them."""
    with app.app_context():
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 3)
        db.session.commit()
        profile = services.create_profile(name="Kassabetalingen", export_type="payments",
                                          options={"format": "csv"}, sync_type="incremental_all")
        if production:
            run = factories.start_and_run(profile, mode="production")
            assert run.status == "exported", run.error_reason
        return profile.id


def _saved(app, profile_id):
    with app.app_context():
        profile = db.session.get(ExportProfile, profile_id)
        return profile.name, profile.export_type, profile.provider, dict(profile.options)


def _attrs(tag):
    values = {key: html.unescape(value) for key, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}
    return values | {name: "" for name in re.findall(r" (checked|selected)\b", tag)}


def _form_data(page, **changes):
    """What the browser sends for the profile form as the page shows it (hidden and text inputs, ticked
    boxes, chosen options), with ``changes``."""
    form = page[page.index('id="profile-form"'):]
    form = form[:form.index("</form>")]
    data = {"action": "save"}
    for tag in re.findall(r"<input[^>]*>", form):
        a = _attrs(tag)
        if "name" in a and a["name"] != "order" and (a.get("type") in ("hidden", "text") or "checked" in a):
            data.setdefault(a["name"], a.get("value", ""))
    for tag, body in re.findall(r"(<select[^>]*>)(.*?)</select>", form, re.S):
        options = re.findall(r"<option[^>]*>", body)
        chosen = [o for o in options if "selected" in _attrs(o)] or options[:1]
        data.setdefault(_attrs(tag)["name"], _attrs(chosen[0]).get("value", "") if chosen else "")
    data.update(changes)
    return data


def _select(page, name):
    """Whether the page has a <select> for ``name`` (a field that can change)."""
    return re.search(rf'<select[^>]* name="{name}"', page) is not None


def test_after_a_production_export_the_type_and_provider_are_shown_fixed_and_a_crafted_change_is_refused(site):
    app, client = site
    profile_id = _payments_profile(app)
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert HINT in page
    assert not _select(page, "export_type") and not _select(page, "provider")    # text, not a field
    assert "<dt>Export type</dt><dd>Payments</dd>" in page and "<dt>Provider</dt><dd>File</dd>" in page
    assert "Show the options of this export type and provider" not in page
    assert _select(page, "sync_type") and _select(page, "format")                # the rest stays editable
    before = _saved(app, profile_id)

    # A crafted POST: another export type, or another provider. Refused, with the reason; nothing changes.
    for crafted in ({"export_type": "journal_entries"}, {"provider": "visma_net"}, {"export_type": "no_such_type"}):
        response = client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, name="Anders", **crafted))
        assert response.status_code == 200
        refused = response.get_data(as_text=True)
        assert "The form was not saved" in refused and HINT in refused
        assert "<dt>Export type</dt><dd>Payments</dd>" in refused       # the saved values, not the crafted ones
        assert _saved(app, profile_id) == before

    # A NUL byte is refused before the form is read (as everywhere in the portal): nothing changes either.
    assert client.post(f"/profiles/{profile_id}/edit",
                       data=_form_data(page, export_type="payments\x00")).status_code == 400
    assert _saved(app, profile_id) == before

    # The form as the page sends it saves: the name, the sync type and the file options can change.
    response = client.post(f"/profiles/{profile_id}/edit",
                           data=_form_data(page, name="Kassabetalingen (JSON)", sync_type="full", format="jsonl"))
    assert response.status_code == 302
    name, export_type, provider, options = _saved(app, profile_id)
    assert (name, export_type, provider, options["format"]) == ("Kassabetalingen (JSON)", "payments", "file", "jsonl")

    # The service refuses it as well (the CLI, another view).
    with app.app_context():
        with pytest.raises(ExportError) as refused:
            services.update_profile(profile_id, export_type="journal_entries")
        assert refused.value.code == "settings_fixed"
        db.session.rollback()
    assert _saved(app, profile_id)[1] == "payments"


def test_without_exports_that_depend_on_them_the_type_and_provider_can_change(site):
    app, client = site
    profile_id = _payments_profile(app, production=False)
    with app.app_context():
        profile = db.session.get(ExportProfile, profile_id)
        factories.run(profile, status="exported", mode="test")       # a finished test export: nothing builds on it
        factories.run(profile, status="cancelled", mode="production")
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert HINT not in page and _select(page, "export_type") and _select(page, "provider")
    response = client.post(f"/profiles/{profile_id}/edit",
                           data=_form_data(page, export_type="journal_entries", format="csv"))
    assert response.status_code == 302
    assert _saved(app, profile_id)[1] == "journal_entries"


def test_an_export_that_has_not_finished_fixes_them_test_or_production(site):
    app, client = site
    profile_id = _payments_profile(app, production=False)
    with app.app_context():
        run = factories.run(db.session.get(ExportProfile, profile_id), status="prepared", mode="test")
        run_id = run.id
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert HINT in page                    # its export would build journal entries from prepared payments
    assert client.post(f"/profiles/{profile_id}/edit",
                       data=_form_data(page, export_type="journal_entries")).status_code == 200
    assert _saved(app, profile_id)[1] == "payments"
    with app.app_context():
        db.session.get(Run, run_id).status = "cancelled"
        db.session.commit()
    assert HINT not in client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)


def test_a_rolled_back_production_export_no_longer_fixes_them(site):
    app, client = site
    profile_id = _payments_profile(app)
    with app.app_context():
        run_id = db.session.execute(db.select(Run.id).where(Run.profile_id == profile_id)).scalar_one()
        services.roll_back(run_id)          # its ledger entries stop counting: nothing was delivered
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert HINT not in page and _select(page, "export_type")


def test_a_visma_net_profile_keeps_its_integration_account_while_visma_net_holds_its_documents(site):
    app, client = site
    from portal.models import IntegrationAccount
    with app.app_context():
        first, second = IntegrationAccount(name="Zorggroep Visma"), IntegrationAccount(name="Thuiszorg Visma")
        db.session.add_all([first, second])
        db.session.commit()
        profile = services.create_profile(name="Facturen naar Visma", export_type="invoices", provider="visma_net",
                                          options={"account_id": first.id})
        # A production export that sent a document and was rolled back afterwards: the ledger no longer
        # counts it, but Visma.net holds the invoice, and a later change credits it through this account.
        run = factories.run(profile, status="rolled_back", mode="production")
        db.session.add(VismaDocument(run_id=run.id, profile_id=profile.id, account_id=first.id, mode="production",
                                     kind="customerinvoice", path="/v2/customerinvoice", reference="R1",
                                     body={}, state="sent"))
        db.session.commit()
        profile_id, second_id = profile.id, second.id
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert HINT_VISMA in page
    assert "<dt>Integration account</dt><dd>Zorggroep Visma</dd>" in page and not _select(page, "account_id")
    before = _saved(app, profile_id)
    refused = client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, account_id=str(second_id)))
    assert refused.status_code == 200 and HINT_VISMA in refused.get_data(as_text=True)
    assert _saved(app, profile_id) == before
    # The sales account is no part of what the documents depend on: it changes.
    response = client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, sales_account="8010"))
    assert response.status_code == 302
    assert _saved(app, profile_id)[3] == {"account_id": before[3]["account_id"], "sales_account": "8010"}


@pytest.mark.parametrize("locale, hint", [
    ("nl", "Het exporttype en de provider van dit exportprofiel kunnen niet worden gewijzigd"),
    ("sv", "Exporttypen och mottagaren för den här exportprofilen kan inte ändras"),
    ("da", "Eksporttypen og modtageren for denne eksportprofil kan ikke ændres"),
], ids=["nl", "sv", "da"])
def test_the_reason_is_in_the_users_language(app, client, auth, users, locale, hint):
    profile_id = _payments_profile(app)
    auth.login("consultant")
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert hint in page
    refused = client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, export_type="hours"))
    assert hint in refused.get_data(as_text=True) and _saved(app, profile_id)[1] == "payments"
