"""The token store: refresh under a lock (one refresh across workers), a reused rotated refresh token,
encryption with rotatable keys, and revocation on disconnect."""
import threading
from datetime import timedelta

import pytest
import requests

from portal.extensions import db
from portal.integrations import account_problem
from portal.crypto import TokenDecryptionError
from portal.integrations.visma import ReauthorisationRequired, VismaNetClient, tokens
from portal.models import IntegrationAccount, utcnow

from .conftest import PortalSession, token_calls


def _serve(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    sandbox = server.url + "/sandbox"
    app.config.update(PORTAL_BASE_URL=server.url, VISMA_NET_AUTHORIZE_URL=sandbox + "/connect/authorize",
                      VISMA_NET_TOKEN_URL=sandbox + "/connect/token",
                      VISMA_NET_REVOKE_URL=sandbox + "/connect/revocation", VISMA_NET_API_URL=sandbox + "/api")
    return server, thread


@pytest.fixture
def authorised(any_app):
    """An authorised account on SQLite and PostgreSQL, served over real HTTP: (app, account id, server)."""
    from portal.demo.seed import seed_users
    with any_app.app_context():
        seed_users()
    server, thread = _serve(any_app)
    person = PortalSession(server.url).login("consultant")
    account_id = person.create_account()
    assert person.authorise(account_id).status_code == 200
    yield any_app, account_id, person
    server.shutdown()
    thread.join(timeout=5)


def _expire_access_token(app, account_id):
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        account.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(authorised):
    app, account_id, _person = authorised
    _expire_access_token(app, account_id)
    before = len(token_calls(app, "refresh_token"))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                results.append(tokens.access_token(account_id))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(results) == 2 and results[0] == results[1]
    assert len(token_calls(app, "refresh_token")) - before == 1
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        assert not account.needs_reauthorisation and account.expires_at > utcnow()
        # The token both workers got is valid at the API.
        assert VismaNetClient(account).get_json("/v1/branch")


def test_a_reused_rotated_refresh_token_needs_reauthorisation(authorised):
    app, account_id, person = authorised
    with app.app_context():
        stale_refresh_token = db.session.get(IntegrationAccount, account_id).refresh_token
        tokens.refresh(account_id, force=True)          # rotates: the old refresh token is spent
        account = db.session.get(IntegrationAccount, account_id)
        assert account.refresh_token != stale_refresh_token
        # A worker that kept a copy of the old refresh token presents it again.
        account.refresh_token = stale_refresh_token
        db.session.commit()
        with pytest.raises(ReauthorisationRequired):
            tokens.refresh(account_id, force=True)
        db.session.expire_all()
        account = db.session.get(IntegrationAccount, account_id)
        assert account.needs_reauthorisation
        assert account.access_token is None and account.refresh_token is None
        assert '"refresh_refused"' in account.last_error and "invalid_grant" in account.last_error
        assert account_problem(account) is not None
        # Every API call now says so, without calling Visma.net.
        with pytest.raises(ReauthorisationRequired):
            VismaNetClient(account).get_json("/v1/branch")
    page = person.get(f"/integrations/{account_id}").text
    assert "Authorise it again" in page and "Re-authorise" in page
    assert "Visma Connect refused the refresh token." in page and "invalid_grant" in page
    person.post("/language", {"locale": "sv"})
    page = person.get(f"/integrations/{account_id}").text
    assert "Visma Connect nekade förnyelsetoken." in page
    # The grant is revoked at Connect too: re-authorising is the way back.
    assert person.authorise(account_id).status_code == 200
    with app.app_context():
        assert not db.session.get(IntegrationAccount, account_id).needs_reauthorisation


def test_tokens_are_encrypted_with_rotatable_keys(app, runner):
    from cryptography.fernet import Fernet
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["PORTAL_ENCRYPTION_KEYS"] = old
    with app.app_context():
        account = IntegrationAccount(name="Keys")
        account.access_token = "access-secret-value"
        account.refresh_token = "refresh-secret-value"
        db.session.add(account)
        db.session.commit()
        stored = account.refresh_token_encrypted
        assert "refresh-secret-value" not in stored
        assert Fernet(old.encode()).decrypt(stored.encode()) == b"refresh-secret-value"
        # A new key first, the old one still listed: old tokens decrypt, rotation re-encrypts them.
        app.config["PORTAL_ENCRYPTION_KEYS"] = f"{new},{old}"
        assert db.session.get(IntegrationAccount, account.id).refresh_token == "refresh-secret-value"
    result = runner.invoke(args=["integrations", "rotate-keys"])
    assert result.exit_code == 0, result.output
    app.config["PORTAL_ENCRYPTION_KEYS"] = new
    with app.app_context():
        account = db.session.execute(db.select(IntegrationAccount)).scalar_one()
        assert account.refresh_token == "refresh-secret-value"
        assert account.access_token == "access-secret-value"
        app.config["PORTAL_ENCRYPTION_KEYS"] = old       # the old key alone no longer reads them
        with pytest.raises(TokenDecryptionError):
            account.refresh_token


def test_without_configured_keys_a_key_is_derived_from_the_secret_key(app):
    app.config["PORTAL_ENCRYPTION_KEYS"] = ""
    with app.app_context():
        account = IntegrationAccount(name="Derived")
        account.access_token = "derived-secret"
        assert "derived-secret" not in account.access_token_encrypted
        assert account.access_token == "derived-secret"


def test_disconnect_revokes_the_tokens_at_connect(authorised):
    app, account_id, person = authorised
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        access, refresh = account.access_token, account.refresh_token
    response = person.post(f"/integrations/{account_id}/disconnect", {"confirmed": "yes"},
                           csrf_from_path=f"/integrations/{account_id}")
    assert response.status_code == 200 and "revoked" in response.text
    with app.app_context():
        account = db.session.get(IntegrationAccount, account_id)
        assert account.access_token_encrypted is None and account.refresh_token_encrypted is None
        assert account_problem(account) is not None
        api = app.config["VISMA_NET_API_URL"] + "/v1/branch"
        token_url = app.config["VISMA_NET_TOKEN_URL"]
    # Connect no longer accepts either token.
    assert requests.get(api, headers={"Authorization": f"Bearer {access}"}, timeout=30).status_code == 401
    answer = requests.post(token_url, data={"grant_type": "refresh_token", "refresh_token": refresh},
                           auth=(app.config["VISMA_NET_CLIENT_ID"], app.config["VISMA_NET_CLIENT_SECRET"]),
                           timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
