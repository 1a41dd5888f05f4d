"""The sandbox's Visma Connect over real HTTP: authorization code with PKCE, rotation, revocation."""
import json
from urllib.parse import parse_qs, urlsplit

import requests

from .conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SCOPE, Connect


def _query(response):
    return parse_qs(urlsplit(response.headers["Location"]).query)


def _api(base, token, path="/sandbox/api/v1/branch"):
    return requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_sign_in_page_lists_the_companies_and_preselects_the_tenant(connect):
    page, _params, _verifier = connect.authorize_page(acr_values="tenant:1000002")
    assert page.status_code == 200
    for name in ("Zorggroep Rivierenland (Visma.net)", "Thuiszorg Noord (Visma.net)", "Demo company"):
        assert name in page.text
    assert 'value="1000002" checked' in page.text
    assert "form-action 'self' http://127.0.0.1:9" in page.headers["Content-Security-Policy"]


def test_code_with_good_verifier_gives_tokens_with_the_tenant_and_state_comes_back(connect):
    code, sent_state, returned_state, verifier = connect.authorize(company="1000002")
    assert returned_state == sent_state
    answer = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                           code_verifier=verifier)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["tenant_id"] == "1000002"
    assert body["scope"] == SCOPE
    assert body["refresh_token"]
    # The access token is a JWT carrying the tenant, like Visma Connect's.
    import base64
    payload = body["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["tenant_id"] == "1000002" and claims["client_id"] == CLIENT_ID
    assert _api(connect.base, body["access_token"]).status_code == 200


def test_client_secret_post_is_accepted_too(connect):
    code, _s, _r, verifier = connect.authorize()
    answer = connect.token(auth=None, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                           code_verifier=verifier, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert answer.status_code == 200, answer.text


def test_bad_verifier_is_invalid_grant_and_spends_the_code(connect):
    code, _s, _r, verifier = connect.authorize()
    answer = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                           code_verifier="x" * 50)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    again = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                          code_verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_missing_verifier_and_wrong_redirect_uri_are_refused(connect):
    code, _s, _r, verifier = connect.authorize()
    assert connect.token(grant_type="authorization_code", code=code,
                         redirect_uri=REDIRECT_URI).json()["error"] == "invalid_grant"
    code, _s, _r, verifier = connect.authorize()
    answer = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI + "x",
                           code_verifier=verifier)
    assert answer.json()["error"] == "invalid_grant"


def test_a_code_used_twice_revokes_what_it_gave(connect):
    code, _s, _r, verifier = connect.authorize()
    first = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                          code_verifier=verifier).json()
    second = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                           code_verifier=verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert _api(connect.base, first["access_token"]).status_code == 401


def test_wrong_client_secret_is_invalid_client(connect):
    code, _s, _r, verifier = connect.authorize()
    answer = connect.token(auth=(CLIENT_ID, "wrong"), grant_type="authorization_code", code=code,
                           redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_unsupported_grant_type(connect):
    answer = connect.token(grant_type="password", username="a", password="b")
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"


def test_deny_redirects_back_with_access_denied_and_the_state(connect):
    page, params, _verifier = connect.authorize_page()
    answer = connect.decide(page, "deny")
    assert answer.status_code == 302
    query = _query(answer)
    assert answer.headers["Location"].startswith(REDIRECT_URI + "?")
    assert query["error"] == ["access_denied"]
    assert query["state"] == [params["state"]]
    assert "code" not in query


def test_allow_without_choosing_a_company_asks_again(connect):
    page, _params, _verifier = connect.authorize_page()
    answer = connect.decide(page, "allow", company=None)
    assert answer.status_code == 400
    assert "Choose a company." in answer.text


def test_the_consent_form_needs_its_csrf_token(connect):
    page, _params, _verifier = connect.authorize_page()
    _csrf, request_id = connect.form_fields(page)
    answer = connect.http.post(connect.base + "/sandbox/connect/authorize",
                               data={"request_id": request_id, "decision": "allow", "company": "1000001"},
                               allow_redirects=False)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_a_decision_counts_once(connect):
    page, _params, _verifier = connect.authorize_page()
    assert connect.decide(page, "allow").status_code == 302
    assert connect.decide(page, "allow").status_code == 400


def test_request_errors_go_back_to_the_client_and_unknown_clients_do_not(connect):
    answer, params, _v = connect.authorize_page(code_challenge=None)
    assert answer.status_code == 302
    assert _query(answer)["error"] == ["invalid_request"]
    assert _query(answer)["state"] == [params["state"]]
    answer, _params, _v = connect.authorize_page(code_challenge_method="plain")
    assert _query(answer)["error"] == ["invalid_request"]
    answer, _params, _v = connect.authorize_page(response_type="token")
    assert _query(answer)["error"] == ["unsupported_response_type"]
    answer, _params, _v = connect.authorize_page(scope="openid admin")
    assert _query(answer)["error"] == ["invalid_scope"]
    answer, _params, _v = connect.authorize_page(client_id="someone-else")
    assert answer.status_code == 400 and "Location" not in answer.headers
    answer, _params, _v = connect.authorize_page(redirect_uri="javascript:alert(1)")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_refresh_rotates_once_and_reuse_revokes_the_family(connect):
    first = connect.tokens()
    second = connect.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["tenant_id"] == "1000001"
    assert _api(connect.base, second["access_token"]).status_code == 200
    # The spent refresh token again: refused, and every token of the grant is revoked.
    reused = connect.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert _api(connect.base, second["access_token"]).status_code == 401
    after = connect.token(grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_no_refresh_token_without_offline_access(connect):
    code, _s, _r, verifier = connect.authorize(scope="vismanet_erp_interactive_api:read")
    body = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                         code_verifier=verifier).json()
    assert "refresh_token" not in body


def test_revoking_the_refresh_token_revokes_the_grant(connect):
    tokens = connect.tokens()
    answer = connect.revoke(tokens["refresh_token"], token_type_hint="refresh_token")
    assert answer.status_code == 200
    assert _api(connect.base, tokens["access_token"]).status_code == 401
    again = connect.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.json()["error"] == "invalid_grant"


def test_revoking_an_access_token_and_unknown_tokens(connect):
    tokens = connect.tokens()
    assert connect.revoke(tokens["access_token"]).status_code == 200
    assert _api(connect.base, tokens["access_token"]).status_code == 401
    assert connect.revoke("no-such-token").status_code == 200
    assert connect.revoke(tokens["refresh_token"], auth=(CLIENT_ID, "wrong")).status_code == 401
    # The refresh token still works: only its access token was revoked.
    assert connect.token(grant_type="refresh_token",
                         refresh_token=tokens["refresh_token"]).status_code == 200


def test_access_tokens_expire(connect, app):
    app.config["SANDBOX_ACCESS_TOKEN_SECONDS"] = 1
    tokens = connect.tokens()
    assert tokens["expires_in"] == 1
    import time
    time.sleep(1.2)
    answer = _api(connect.base, tokens["access_token"])
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_token_calls_are_recorded_without_secrets(connect, app):
    tokens = connect.tokens()
    from portal.models.sandbox import SandboxRequest
    from portal.extensions import db
    with app.app_context():
        rows = db.session.execute(db.select(SandboxRequest)).scalars().all()
    token_rows = [r for r in rows if r.path == "/sandbox/connect/token"]
    assert token_rows and token_rows[0].company_id == "1000001"
    for row in rows:
        assert CLIENT_SECRET not in (row.request_body or "")
        assert tokens["refresh_token"] not in (row.request_body or "") + (row.response_body or "")


def test_an_expired_code_is_invalid_grant(connect, app):
    app.config["SANDBOX_CODE_SECONDS"] = 0
    code, _s, _r, verifier = connect.authorize()
    answer = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                           code_verifier=verifier)
    assert answer.status_code == 400 and answer.json()["error_description"] == "The authorization code has expired."


def test_an_expired_refresh_token_is_invalid_grant(connect, app):
    app.config["SANDBOX_REFRESH_TOKEN_SECONDS"] = 0
    tokens = connect.tokens()
    answer = connect.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_sign_in_page_left_open_too_long_cannot_be_answered(connect, app):
    app.config["SANDBOX_AUTHORIZATION_REQUEST_SECONDS"] = 0
    page, _params, _verifier = connect.authorize_page()
    answer = connect.decide(page, "allow")
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "has expired or was already answered" in answer.text


def test_overlong_state_tenant_and_redirect_uri_get_an_oauth_error_not_a_server_error(any_live_server):
    """On PostgreSQL these once failed the insert (StringDataRightTruncation): a 500 instead of an answer."""
    connect = Connect(any_live_server.url)
    long_state = "s" * 1001
    answer, _params, _v = connect.authorize_page(state=long_state)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT_URI + "?")
    assert _query(answer)["error"] == ["invalid_request"] and _query(answer)["state"] == [long_state]
    answer, params, _v = connect.authorize_page(tenant="1" * 21)
    assert answer.status_code == 302
    assert _query(answer)["error"] == ["invalid_request"] and _query(answer)["state"] == [params["state"]]
    answer, _params, _v = connect.authorize_page(acr_values="tenant:" + "1" * 21)
    assert _query(answer)["error"] == ["invalid_request"]
    # Not a registered redirect_uri (whatever its length): the sandbox's page, nothing sent there.
    answer, _params, _v = connect.authorize_page(redirect_uri=REDIRECT_URI + "?x=" + "x" * 2000)
    assert answer.status_code == 400 and "Location" not in answer.headers
    # The longest ones it keeps are fine, and a scope named many times is granted once.
    answer, _params, _v = connect.authorize_page(state="s" * 1000, tenant="1" * 20,
                                                 scope=" ".join(["openid"] * 300 + ["offline_access"]))
    assert answer.status_code == 200, answer.text


def test_only_a_registered_redirect_uri_gets_the_code(connect, live_server):
    for other in ("https://evil.example/cb", REDIRECT_URI + "/", REDIRECT_URI + "?next=x",
                  "http://127.0.0.1:10/callback", live_server.url + "/integrations/callback/x"):
        answer, _params, _v = connect.authorize_page(redirect_uri=other)
        assert answer.status_code == 400 and "Location" not in answer.headers, other
        assert "not registered for it (redirect_uri)" in answer.text
        assert "request_id" not in answer.text
    # Registered: the portal's callback at PORTAL_BASE_URL (and the sandbox tests' own).
    answer, _params, _v = connect.authorize_page(redirect_uri=live_server.url + "/integrations/callback")
    assert answer.status_code == 200 and 'name="request_id"' in answer.text


def test_the_demo_registers_both_loopback_spellings_of_the_portal(app):
    from portal.sandbox.connect import registered_redirect_uris
    app.config.update(PORTAL_BASE_URL="http://127.0.0.1:5057/", SANDBOX_REDIRECT_URIS="")
    with app.app_context():
        assert registered_redirect_uris() == ["http://127.0.0.1:5057/integrations/callback",
                                              "http://localhost:5057/integrations/callback"]
        app.config.update(PORTAL_BASE_URL="https://portal.example.org",
                          SANDBOX_REDIRECT_URIS="http://a.example/cb, http://b.example/cb")
        assert registered_redirect_uris() == ["https://portal.example.org/integrations/callback",
                                              "http://a.example/cb", "http://b.example/cb"]


def test_non_ascii_client_credentials_and_code_challenge_are_refused_not_a_server_error(connect):
    """``hmac.compare_digest`` takes ASCII text only: these were a TypeError, a 500."""
    answer, _params, _v = connect.authorize_page(client_id="é")
    assert answer.status_code == 400 and "Location" not in answer.headers
    answer = connect.token(auth=("é", "ø"), grant_type="refresh_token", refresh_token="x")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    answer = connect.token(auth=(CLIENT_ID, "ø"), grant_type="refresh_token", refresh_token="x")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    code, _s, _r, verifier = connect.authorize(code_challenge="é" * 43)
    answer = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                           code_verifier=verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
