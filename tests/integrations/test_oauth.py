"""Authorisation at Visma Connect (the sandbox) over real HTTP: state, PKCE, deny, company binding,
and tokens that never show up in the database, pages or logs."""
import json
import logging

from portal.extensions import db
from portal.models import IntegrationAccount
from portal.queue import redis_connection

from .conftest import OTHER_COMPANY, SANDBOX_COMPANY, query_of


def _account(app, account_id):
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        db.session.expunge(account)
        return account


def test_authorise_binds_the_company_and_keeps_tokens_secret(app, consultant, caplog):
    caplog.set_level(logging.DEBUG)
    account_id = consultant.create_account()
    connect_url = consultant.start_authorisation(account_id)
    params = query_of(connect_url)
    # PKCE S256 and offline_access are asked for; the verifier itself never leaves the server.
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert "offline_access" in params["scope"].split()
    assert "code_verifier" not in connect_url
    session_cookie = consultant.http.cookies.get("session", "")
    assert params["state"] not in session_cookie

    page = consultant.get(consultant.decide(connect_url))
    assert page.status_code == 200
    assert "/setup/verify" in page.url
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        access, refresh = account.access_token, account.refresh_token
        assert account.company_id == SANDBOX_COMPANY
        assert account.company_name            # read from Visma.net's branches
        assert "vismanet_erp_interactive_api:read" in account.scope_list
        assert account.expires_at and account.last_refresh_at and account.wizard_step == "verify"
        assert access and refresh
        # Not readable in the database: the columns hold ciphertext only.
        raw = db.session.execute(db.text(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM integration_accounts")).one()
        assert access not in raw[0] and refresh not in raw[1]
        assert access not in json.dumps(list(raw)) and refresh[:20] not in raw[1]
    for path in (f"/integrations/{account_id}", f"/integrations/{account_id}/setup/verify", "/integrations/"):
        html = consultant.get(path).text
        assert access not in html and refresh not in html and access.split(".")[1] not in html
    assert SANDBOX_COMPANY in page.text and "vismanet_erp_interactive_api:read" in page.text
    logged = caplog.text
    assert access not in logged and refresh not in logged and access.split(".")[1] not in logged


def test_a_state_that_does_not_match_is_refused(app, consultant):
    account_id = consultant.create_account()
    callback = consultant.decide(consultant.start_authorisation(account_id))
    forged = callback.replace("state=", "state=x")
    page = consultant.get(forged)
    assert page.status_code == 400
    assert "did not match" in page.text
    assert not _account(app, account_id).access_token_encrypted
    # The genuine answer cannot be used afterwards either: the pending authorisation is spent.
    assert consultant.get(callback).status_code == 400


def test_a_pkce_verifier_that_does_not_match_is_refused_by_connect(app, consultant):
    account_id = consultant.create_account()
    connect_url = consultant.start_authorisation(account_id)
    with app.app_context():
        connection = redis_connection()
        [key] = connection.keys("portal:integrations:oauth:*")
        pending = json.loads(connection.get(key))
        pending["code_verifier"] = "x" * 64           # not the verifier of the code_challenge
        connection.set(key, json.dumps(pending), ex=600)
    page = consultant.get(consultant.decide(connect_url))
    assert page.status_code == 400
    assert "Visma Connect refused the authorisation" in page.text
    assert "code_verifier" in page.text               # Connect's own words, shown as they came
    assert not _account(app, account_id).access_token_encrypted


def test_refusing_access_shows_a_clear_page_in_the_users_language(app, consultant):
    account_id = consultant.create_account()
    consultant.post("/language", {"locale": "nl"})
    callback = consultant.decide(consultant.start_authorisation(account_id), decision="deny")
    assert query_of(callback)["error"] == "access_denied"
    page = consultant.get(callback)
    assert page.status_code == 400
    assert "Toegang is niet toegestaan" in page.text
    assert not _account(app, account_id).access_token_encrypted


def test_a_callback_without_an_authorisation_started_here_is_refused(app, consultant):
    page = consultant.get("/integrations/callback?code=abc&state=def")
    assert page.status_code == 400
    assert "has expired" in page.text


def test_reauthorising_keeps_the_company(app, consultant):
    account_id = consultant.create_account()
    consultant.authorise(account_id, SANDBOX_COMPANY)
    # Re-authorise, but choose another company at Connect: refused, the account keeps its tokens.
    connect_url = consultant.start_authorisation(account_id)
    assert query_of(connect_url)["acr_values"] == f"tenant:{SANDBOX_COMPANY}"
    page = consultant.get(consultant.decide(connect_url, OTHER_COMPANY))
    assert page.status_code == 400 and "Another company was chosen" in page.text
    account = _account(app, account_id)
    assert account.company_id == SANDBOX_COMPANY and account.access_token_encrypted
    # Choosing the same company again works.
    page = consultant.authorise(account_id, SANDBOX_COMPANY)
    assert page.status_code == 200
