"""Export profiles page (grouped by type, last run with P/T, status and the red triangle) and profile
management for consultants (create, edit, archive) with validation in more than one language."""
import re

import pytest

from portal.extensions import db
from portal.models.exporting import ExportProfile

from tests import factories


def _csrf(client, path="/profiles/new"):
    return factories.csrf_token(client, path)


def _valid(csrf, **overrides):
    data = {"csrf_token": csrf, "name": "Salarisjournaal", "export_type": "journal_entries", "provider": "file",
            "sync_type": "incremental_all", "company_id": "", "default_window": "previous_month", "format": "csv",
            "delimiter": ";", "quotechar": '"', "encoding": "utf-8-sig", "line_terminator": "crlf",
            "action": "save"}
    data.update(overrides)
    return data


def _profiles(app):
    with app.app_context():
        return db.session.execute(db.select(ExportProfile).order_by(ExportProfile.id)).scalars().all()


def test_profiles_grouped_by_type_with_last_run(app, client, auth, users):
    with app.app_context():
        journals = factories.profile("Salarisjournaal")
        factories.profile("Facturen", export_type="invoices")
        factories.run(journals, mode="production", status="partially_processed", counts={"errors": 2})
    auth.login("staff")
    page = client.get("/profiles/").get_data(as_text=True)
    assert page.index("Journal entries") < page.index("Salarisjournaal") < page.index("Invoices") < page.index("Facturen")
    assert ">P</abbr>" in page and "Partially processed" in page and "warning-triangle" in page
    assert "Not exported yet" in page
    assert "Start export" in page and "Show exports" in page
    assert "New export profile" not in page  # staff do not manage profiles


def test_profiles_page_in_danish(app, client, auth, users):
    with app.app_context():
        factories.profile("Lønjournal")
    auth.login("staff")
    client.post("/language", data={"locale": "da", "csrf_token": _csrf(client, "/")})
    page = client.get("/profiles/").get_data(as_text=True)
    assert "Administrer eksport" in page and "Start eksport" in page and "Vis eksporter" in page


def test_profile_detail_shows_last_run_exports_and_scheduled(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        factories.run(p, status="exported")
        from portal.models.base import utcnow
        from datetime import timedelta
        factories.run(p, status="scheduled", mode="production", run_at=utcnow() + timedelta(days=1))
        pid = p.id
    auth.login("manager")
    page = client.get(f"/profiles/{pid}").get_data(as_text=True)
    assert "Last run exports" in page and "Scheduled exports" in page
    assert "Start export" not in page  # managers read


def test_two_files_of_one_export_have_links_a_screen_reader_tells_apart(app, client, auth, users):
    from datetime import datetime
    with app.app_context():
        p = factories.profile()
        r = factories.run(p, status="exported")
        for company in ("ZORG", "THUIS"):
            factories.db.session.add(factories.RunFile(
                run_id=r.id, name=f"journals_{company}.se", path=f"/tmp/{company}.se", format="sie4", size=1,
                sha256="0" * 64, version=datetime(2026, 11, 20, 9, 1), rows=1))
        factories.db.session.commit()
        pid = p.id
    auth.login("manager")
    page = client.get(f"/profiles/{pid}").get_data(as_text=True)
    assert 'SIE4<span class="visually-hidden">: journals_ZORG.se</span></a>' in page
    assert 'SIE4<span class="visually-hidden">: journals_THUIS.se</span></a>' in page


def test_consultant_creates_a_profile(app, client, auth, users):
    auth.login("consultant")
    # The page listed the columns in this order (company code first), with two ticked.
    data = _valid(_csrf(client), columns_for="journal_entries", order=["company_code", "account", "debit"],
                  col_company_code="1", col_account="1")
    data["order"] = ["account", "company_code", "debit"]  # moved up in the browser
    response = client.post("/profiles/new", data=data)
    assert response.status_code == 302
    [profile] = _profiles(app)
    assert profile.name == "Salarisjournaal" and profile.sync_type == "incremental_all"
    assert profile.options["delimiter"] == ";" and profile.options["encoding"] == "utf-8-sig"
    assert profile.options["columns"] == ["account", "company_code"]  # chosen columns in the chosen order


@pytest.mark.parametrize("locale, message", [("en", "Give the export profile a name."),
                                             ("nl", "Geef het exportprofiel een naam."),
                                             ("da", "Giv eksportprofilen et navn.")])
def test_profile_without_a_name_is_refused(app, client, auth, users, locale, message):
    auth.login("consultant")
    client.post("/language", data={"locale": locale, "csrf_token": _csrf(client, "/")})
    page = client.post("/profiles/new", data=_valid(_csrf(client), name="")).get_data(as_text=True)
    assert message in page
    assert _profiles(app) == []


def test_a_format_the_export_type_cannot_take_is_refused_next_to_the_field(app, client, auth, users):
    auth.login("consultant")
    page = client.post("/profiles/new", data=_valid(_csrf(client), export_type="payments", format="sie4",
                                                    name="Kassa")).get_data(as_text=True)
    assert "The file format sie4 is not available for Payments." in page
    assert 'id="format-errors"' in page
    assert _profiles(app) == []


def test_no_column_chosen_is_refused(app, client, auth, users):
    auth.login("consultant")
    client.get("/profiles/new")
    # Columns were shown (the page was submitted) but none ticked.
    response = client.post("/profiles/new", data=_valid(_csrf(client), columns_for="journal_entries",
                                                        order=["account", "debit"]))
    assert "Choose at least one column." in response.get_data(as_text=True)
    assert _profiles(app) == []


def test_edit_and_archive_or_delete(app, client, auth, users):
    with app.app_context():
        with_runs = factories.profile("Met runs")
        factories.run(with_runs)
        without = factories.profile("Zonder runs")
        ids = (with_runs.id, without.id)
    auth.login("consultant")
    csrf = _csrf(client)
    page = client.get(f"/profiles/{ids[0]}/edit").get_data(as_text=True)
    assert 'value="Met runs"' in page
    client.post(f"/profiles/{ids[0]}/edit", data=_valid(csrf, name="Met runs (nieuw)"))
    client.post(f"/profiles/{ids[0]}/archive", data={"csrf_token": csrf, "confirmed": "yes"})
    client.post(f"/profiles/{ids[1]}/archive", data={"csrf_token": csrf, "confirmed": "yes"})
    [profile] = _profiles(app)
    assert profile.name == "Met runs (nieuw)" and profile.archived  # archived, not deleted; the other deleted
    client.get("/profiles/")  # shows (and so clears) the messages
    assert ">Met runs (nieuw)</a>" not in client.get("/profiles/").get_data(as_text=True)
    assert ">Met runs (nieuw)</a>" in client.get("/profiles/?archived=1").get_data(as_text=True)
    client.post(f"/profiles/{ids[0]}/archive", data={"csrf_token": csrf, "restore": "1"})
    assert not _profiles(app)[0].archived


def test_archived_profile_cannot_be_started(app, client, auth, users):
    with app.app_context():
        p = factories.profile()
        p.archived = True
        db.session.commit()
        pid = p.id
    auth.login("staff")
    assert client.get(f"/profiles/{pid}/start").status_code == 404


@pytest.mark.parametrize("who", ["staff", "manager"])
def test_only_consultants_manage_profiles(app, client, auth, users, who):
    with app.app_context():
        pid = factories.profile().id
    auth.login(who)
    assert client.get("/profiles/new").status_code == 403
    assert client.get(f"/profiles/{pid}/edit").status_code == 403
    csrf = _csrf(client, "/")
    assert client.get(f"/profiles/{pid}/archive").status_code == 403
    assert client.post(f"/profiles/{pid}/archive", data={"csrf_token": csrf, "confirmed": "yes"}).status_code == 403
    assert client.post("/profiles/new", data=_valid(csrf)).status_code == 403
    assert len(_profiles(app)) == 1 and not _profiles(app)[0].archived


def test_archive_needs_csrf(app, client, auth, users):
    with app.app_context():
        pid = factories.profile().id
    auth.login("consultant")
    assert client.post(f"/profiles/{pid}/archive", data={"confirmed": "yes"}).status_code == 400
    assert not _profiles(app)[0].archived


def test_columns_fragment_for_another_type(app, client, auth, users):
    auth.login("consultant")
    fragment = client.get("/profiles/columns?export_type=payments&provider=file&format=csv&columns_for=journal_entries"
                          "&order=account", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="profile-options">') and "receipt_number" in body
    assert body.count('type="checkbox" id="col_') == body.count(" checked")  # another type: every column ticked


def _options(client, **args):
    from urllib.parse import urlencode
    return client.get("/profiles/columns?" + urlencode(args, doseq=True),
                      headers={"HX-Request": "true"}).get_data(as_text=True)


def test_the_form_shows_only_what_the_provider_and_format_need(app, client, auth, users):
    auth.login("consultant")
    csv_part = _options(client, export_type="payments", provider="file", format="csv")
    assert 'name="delimiter"' in csv_part and 'name="line_terminator"' in csv_part and 'name="account_id"' not in csv_part
    xlsx = _options(client, export_type="payments", provider="file", format="xlsx")
    assert 'name="delimiter"' not in xlsx and 'name="skip_headers"' in xlsx and 'id="columns"' in xlsx
    sie = _options(client, export_type="journal_entries", provider="file", format="sie4")
    assert 'name="skip_headers"' not in sie and 'id="columns"' not in sie  # SIE 4 has a fixed layout
    assert 'value="sie4"' not in _options(client, export_type="payments", provider="file")  # not for payments
    visma = _options(client, export_type="products", provider="visma_net")
    assert 'name="account_id"' in visma and 'name="item_class_stock"' in visma and 'name="delimiter"' not in visma
    invoices = _options(client, export_type="invoices", provider="visma_net")
    assert 'name="sales_account"' in invoices and 'name="item_class_stock"' not in invoices
    # The whole page, without JavaScript, shows the same for the profile's own provider.
    page = client.get("/profiles/new").get_data(as_text=True)
    assert 'name="delimiter"' in page and 'name="account_id"' not in page


def _first_submit_button(page, form_id):
    """The form's default button (what Enter in a field submits): its first submit button."""
    form = page[page.index(f'id="{form_id}"'):]
    form = form[:form.index("</form>")]
    return re.search(r'<button[^>]*type="submit"[^>]*>', form).group(0)


def test_enter_in_a_field_saves_the_profile(app, client, auth, users):
    """Enter in the name (or any field) submits the form's first submit button: it must save, not refresh
    the options ("Show the options…", hidden with JavaScript), which saved nothing and said nothing."""
    auth.login("consultant")
    page = client.get("/profiles/new").get_data(as_text=True)
    default = _first_submit_button(page, "profile-form")
    assert 'name="action"' not in default and 'name="move"' not in default, default
    assert 'value="refresh"' in page          # the Show button is still there, after it
    # What the default button sends: the fields without an action. It saves.
    data = _valid(_csrf(client), name="Enter saves")
    del data["action"]
    response = client.post("/profiles/new", data=data)
    assert response.status_code == 302
    assert [p.name for p in _profiles(app)] == ["Enter saves"]
    # The edit page too (it has the columns' Up and Down buttons).
    profile_id = _profiles(app)[0].id
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert 'name="move"' in page
    default = _first_submit_button(page, "profile-form")
    assert 'name="action"' not in default and 'name="move"' not in default, default


def test_columns_move_up_and_down_without_javascript(app, client, auth, users):
    auth.login("consultant")
    data = _valid(_csrf(client), export_type="payments", columns_for="payments",
                  order=["receipt_number", "amount", "paid_at"], col_receipt_number="1", col_amount="1",
                  move="up:amount", action="")
    page = client.post("/profiles/new", data=data).get_data(as_text=True)
    order = re.findall(r'name="order" value="([a-z_]+)"', page)
    assert order[:3] == ["amount", "receipt_number", "paid_at"]
    assert 'id="col_paid_at" name="col_paid_at" value="1">' in page  # still unticked
    assert _profiles(app) == []  # moving saves nothing


def test_visma_net_profile_chooses_its_integration_account(app, client, auth, users):
    from portal.models import IntegrationAccount
    with app.app_context():
        account = IntegrationAccount(name="Zorggroep Visma")
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    auth.login("consultant")
    csrf = _csrf(client)
    assert "Zorggroep Visma" in _options(client, export_type="invoices", provider="visma_net")
    # Without an account: the engine's refusal next to the field, nothing saved.
    page = client.post("/profiles/new", data=_valid(csrf, provider="visma_net", name="Naar Visma")).get_data(as_text=True)
    assert "Choose the integration account that sends to Visma.net." in page and 'id="account_id-errors"' in page
    assert _profiles(app) == []
    response = client.post("/profiles/new", data=_valid(csrf, provider="visma_net", name="Naar Visma",
                                                           export_type="invoices", account_id=str(account_id),
                                                           sales_account=" 8000 "))
    assert response.status_code == 302
    saved = _profiles(app)[0]
    assert saved.provider == "visma_net" and saved.options == {"account_id": account_id, "sales_account": "8000"}
    # The edit page shows the saved choice.
    page = client.get(f"/profiles/{saved.id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{account_id}">Zorggroep Visma</option>', page)


def _account(app, name="Zorggroep Visma"):
    from portal.models import IntegrationAccount
    with app.app_context():
        account = IntegrationAccount(name=name)
        db.session.add(account)
        db.session.commit()
        return account.id


# What a browser sends for each kind of profile: only the fields the page shows (the file options of
# another format, or of the file provider for Visma.net, are not on the page and so not in the POST).
def _as_a_browser_sends(kind, csrf, account_id):
    data = {"csrf_token": csrf, "name": f"Profiel {kind}", "export_type": "journal_entries", "provider": "file",
            "sync_type": "full", "company_id": "", "default_window": "previous_month", "action": "save"}
    data.update({"visma": {"provider": "visma_net", "account_id": str(account_id)},
                 "jsonl": {"export_type": "payments", "format": "jsonl"},
                 "xlsx": {"export_type": "products", "format": "xlsx", "skip_headers": "y"},
                 "sie4": {"format": "sie4"}}[kind])
    return data


@pytest.mark.parametrize("kind", ["visma", "jsonl", "xlsx", "sie4"])
def test_every_kind_of_profile_saves_with_only_the_fields_its_page_shows(app, client, auth, users, kind):
    account_id = _account(app)
    auth.login("consultant")
    data = _as_a_browser_sends(kind, _csrf(client), account_id)
    assert client.post("/profiles/new", data=data).status_code == 302
    [profile] = _profiles(app)
    assert profile.provider == data["provider"] and profile.options.get("format") == data.get("format")
    # Editing only the name saves too.
    response = client.post(f"/profiles/{profile.id}/edit", data={**data, "name": "Nieuwe naam"})
    assert response.status_code == 302
    assert _profiles(app)[0].name == "Nieuwe naam"


@pytest.mark.parametrize("locale, summary, message", [
    ("en", "The form was not saved", "Not a valid choice."),
    ("da", "Formularen blev ikke gemt", "Ikke et gyldigt valg."),
    ("sv", "Formuläret sparades inte", "Inte ett giltigt val."),
    ("nl", "Het formulier is niet opgeslagen", "Geen geldige keuze.")])
def test_a_refused_form_always_says_why_in_the_users_language(app, client, auth, users, locale, summary, message):
    auth.login("consultant")
    client.post("/language", data={"locale": locale, "csrf_token": _csrf(client, "/")})
    page = client.post("/profiles/new", data=_valid(_csrf(client), sync_type="hourly")).get_data(as_text=True)
    assert summary in page and message in page and 'href="#sync_type"' in page
    assert "Not a valid choice" not in page or locale == "en"
    assert _profiles(app) == []
