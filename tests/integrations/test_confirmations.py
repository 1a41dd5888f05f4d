"""Disconnect and Remove (a mapping) ask first. Disconnect's confirmation says what it does — tokens
revoked and removed, production exports through the account refused until it is authorised again (the
profiles that send through it named), company, administrations and dimensions kept; Remove names the
mapping. A GET, or a POST straight to the action, shows the confirmation; only its Yes does it."""
import pytest

from portal.exporting import services as engine
from portal.extensions import db
from portal.models import AdministrationMapping, IntegrationAccount

from tests import factories


@pytest.fixture
def account(app, users):
    app.config["VISMA_NET_REVOKE_URL"] = ""      # revoking is tested in test_tokens.py; here: no Connect
    with app.app_context():
        made = IntegrationAccount(name="Visma Zorg", company_id="1000001", company_name="Zorggroep",
                                  wizard_step="done")
        made.access_token, made.refresh_token = "access-secret", "refresh-secret"
        db.session.add(made)
        db.session.commit()
        zorg = factories.company()
        mapping = AdministrationMapping(account_id=made.id, company_id=zorg.id, visma_company_id="1000001",
                                        visma_company_name="Zorggroep", branch_number="NORTH", branch_name="Noord")
        db.session.add(mapping)
        db.session.commit()
        engine.create_profile(name="Journaal naar Visma", export_type="journal_entries", provider="visma_net",
                              options={"account_id": made.id}, sync_type="full")
        return {"id": made.id, "mapping": mapping.id}


def _tokens(app, account_id):
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        return account.access_token_encrypted is not None, account.refresh_token_encrypted is not None


def _mappings(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count(AdministrationMapping.id))).scalar()


# -- Disconnect --------------------------------------------------------------------------------------

def test_disconnect_says_what_it_does_and_changes_nothing(app, client, auth, account):
    auth.login("consultant")
    url = f"/integrations/{account['id']}/disconnect"
    page = client.get(url).get_data(as_text=True)
    assert "Disconnect the integration account Visma Zorg?" in page
    assert "revoked at Visma Connect and removed from the portal" in page
    assert "production exports that send to Visma.net through it are refused" in page
    assert "administrations and dimensions are kept" in page
    assert "<li>Journaal naar Visma</li>" in page     # the profile it stops
    token = auth.csrf_token(f"/integrations/{account['id']}")
    straight = client.post(url, data={"csrf_token": token})
    assert straight.status_code == 200 and "Disconnect the integration account" in straight.get_data(as_text=True)
    assert _tokens(app, account["id"]) == (True, True)


def test_the_account_page_opens_it_in_the_dialog(app, client, auth, account):
    auth.login("consultant")
    url = f"/integrations/{account['id']}/disconnect"
    page = client.get(f"/integrations/{account['id']}").get_data(as_text=True)
    assert f'href="{url}" hx-get="{url}" hx-target="#dialog-body"' in page and 'id="dialog"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and '<h2 id="dialog-title"' in fragment
    assert f'href="/integrations/{account["id"]}" data-close-dialog>Cancel</a>' in fragment


def test_confirmed_disconnects_and_keeps_the_mappings(app, client, auth, account):
    auth.login("consultant")
    token = auth.csrf_token(f"/integrations/{account['id']}")
    done = client.post(f"/integrations/{account['id']}/disconnect", data={"csrf_token": token, "confirmed": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Integration account Visma Zorg is disconnected" in done
    assert _tokens(app, account["id"]) == (False, False)
    assert _mappings(app) == 1
    with app.app_context():
        assert db.session.get(IntegrationAccount, account["id"]).company_id == "1000001"


def test_disconnect_in_danish(app, client, auth, account):
    auth.login("consultant")
    client.post("/language", data={"locale": "da", "csrf_token": auth.csrf_token("/")})
    page = client.get(f"/integrations/{account['id']}/disconnect").get_data(as_text=True)
    assert "Afbryd forbindelsen for integrationskontoen Visma Zorg?" in page


# -- Remove a mapping --------------------------------------------------------------------------------

def test_remove_names_the_mapping_and_changes_nothing(app, client, auth, account):
    auth.login("consultant")
    url = f"/integrations/{account['id']}/administrations/{account['mapping']}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "Remove the mapping of Zorggroep Rivierenland B.V.?" in page
    assert "NORTH – Noord" in page and "exports through Visma Zorg refuse its records" in page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert '<h2 id="dialog-title"' in fragment and "/setup/administrations\" data-close-dialog>Cancel</a>" in fragment
    token = auth.csrf_token(f"/integrations/{account['id']}")
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    assert _mappings(app) == 1
    done = client.post(url, data={"csrf_token": token, "confirmed": "yes"}, follow_redirects=True)
    assert "The mapping was removed." in done.get_data(as_text=True)
    assert _mappings(app) == 0


# -- for both: permission, CSRF, bad ids ------------------------------------------------------------

@pytest.mark.parametrize("who", ["staff", "manager"])
def test_others_may_not_see_or_confirm_them(app, client, auth, account, who):
    auth.login(who)
    token = auth.csrf_token("/")
    for url in (f"/integrations/{account['id']}/disconnect",
                f"/integrations/{account['id']}/administrations/{account['mapping']}/delete"):
        assert client.get(url).status_code == 403
        assert client.post(url, data={"csrf_token": token, "confirmed": "yes"}).status_code == 403
    assert _tokens(app, account["id"]) == (True, True) and _mappings(app) == 1


def test_confirmed_without_csrf_is_refused(app, client, auth, account):
    auth.login("consultant")
    for url in (f"/integrations/{account['id']}/disconnect",
                f"/integrations/{account['id']}/administrations/{account['mapping']}/delete"):
        assert client.post(url, data={"confirmed": "yes"}).status_code == 400
    assert _tokens(app, account["id"]) == (True, True) and _mappings(app) == 1


@pytest.mark.parametrize("path,status", [
    ("/integrations/2147483648/disconnect", 404), ("/integrations/abc/disconnect", 404),
    ("/integrations/1%00/disconnect", 400),
    ("/integrations/{a}/administrations/2147483648/delete", 404),
    ("/integrations/{a}/administrations/999/delete", 404),
    ("/integrations/{a}/administrations/x/delete", 404),
    ("/integrations/{other}/administrations/{m}/delete", 404),        # another account's mapping
])
def test_bad_ids_change_nothing(app, client, auth, account, path, status):
    with app.app_context():
        other = IntegrationAccount(name="Andere")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    auth.login("consultant")
    token = auth.csrf_token("/")
    path = path.format(a=account["id"], m=account["mapping"], other=other_id)
    assert client.get(path).status_code == status
    assert client.post(path, data={"csrf_token": token, "confirmed": "yes"}).status_code == status
    assert _tokens(app, account["id"]) == (True, True) and _mappings(app) == 1
