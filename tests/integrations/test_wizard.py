"""The wizard's rules without a browser: permissions, CSRF, POST only, resuming, refusals."""
import re

import pytest

from portal.extensions import db
from portal.models import AdministrationMapping, IntegrationAccount



@pytest.fixture
def account_id(app):
    with app.app_context():
        account = IntegrationAccount(name="Existing")
        db.session.add(account)
        db.session.commit()
        return account.id


def _summary(page):
    """The error summary above a refused form (``macros.error_summary``): focused, with each error linked."""
    start = page.rindex("<div", 0, page.index('id="error-summary"'))
    summary = page[start:page.index("</div>", start)]
    assert 'role="alert"' in summary and "autofocus" in summary
    return summary


@pytest.mark.parametrize("who", ["staff", "manager"])
def test_staff_and_managers_may_not_open_or_change_integrations(client, auth, account_id, who):
    auth.login(who)
    for path in ("/integrations/", "/integrations/new", f"/integrations/{account_id}",
                 f"/integrations/{account_id}/setup/authorise", "/integrations/callback?code=x&state=y"):
        assert client.get(path).status_code == 403, path
    token = auth.csrf_token("/")
    for path in ("/integrations/new", f"/integrations/{account_id}/authorise", f"/integrations/{account_id}/refresh",
                 f"/integrations/{account_id}/disconnect", f"/integrations/{account_id}/administrations",
                 f"/integrations/{account_id}/dimensions", f"/integrations/{account_id}/setup/verify/next"):
        assert client.post(path, data={"csrf_token": token, "name": "x"}).status_code == 403, path
    with client.application.app_context():
        assert db.session.execute(db.select(db.func.count(IntegrationAccount.id))).scalar() == 1


def test_the_navigation_shows_integrations_only_to_consultants(client, auth):
    auth.login("staff")
    assert "/integrations/" not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("consultant")
    assert "/integrations/" in client.get("/").get_data(as_text=True)


def test_actions_need_post_and_a_csrf_token(client, auth, account_id):
    auth.login("consultant")
    # Disconnect asks first: a GET shows its confirmation (tested in test_confirmations.py), never does it.
    assert client.get(f"/integrations/{account_id}/refresh").status_code == 405
    assert client.get(f"/integrations/{account_id}/authorise").status_code == 405
    assert client.post("/integrations/new", data={"name": "No token"}).status_code == 400
    assert client.post(f"/integrations/{account_id}/authorise").status_code == 400
    with client.application.app_context():
        assert db.session.execute(db.select(db.func.count(IntegrationAccount.id))).scalar() == 1


def test_create_refuses_an_empty_or_taken_name_in_the_users_language(client, auth, account_id):
    auth.login("consultant")
    client.post("/language", data={"locale": "da", "csrf_token": auth.csrf_token("/")})
    token = auth.csrf_token("/integrations/new")
    response = client.post("/integrations/new", data={"name": "  ", "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # Above the form too (focused when the page comes back), linked to the field.
    summary = _summary(page)
    assert "Formularen blev ikke gemt: kontrollér følgende." in summary
    assert '<a href="#name">Navn</a>: Angiv et navn til integrationskontoen.' in summary
    response = client.post("/integrations/new", data={"name": "Existing", "csrf_token": token})
    assert response.status_code == 400 and "findes allerede" in _summary(response.get_data(as_text=True))
    with client.application.app_context():
        assert db.session.execute(db.select(db.func.count(IntegrationAccount.id))).scalar() == 1


def test_the_wizard_resumes_where_the_account_stands(client, auth, account_id):
    auth.login("consultant")
    # Not authorised yet: later steps send one back to the step the account is at.
    response = client.get(f"/integrations/{account_id}/setup/dimensions")
    assert response.status_code == 302 and response.headers["Location"].endswith("/setup/authorise")
    token = auth.csrf_token(f"/integrations/{account_id}")
    response = client.post(f"/integrations/{account_id}/setup/verify/next", data={"csrf_token": token},
                           follow_redirects=True)
    assert "Authorise the integration account first." in response.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.get(IntegrationAccount, account_id).wizard_step == "authorise"


def test_a_mapping_needs_a_branch_that_exists_at_visma_net(app, consultant, companies):
    account_id = consultant.create_account()
    consultant.authorise(account_id)
    consultant.post(f"/integrations/{account_id}/setup/verify/next", csrf_from_path=f"/integrations/{account_id}")
    page = consultant.post(f"/integrations/{account_id}/administrations",
                           {"company": companies["ZORG"], "branch": "ATLANTIS"},
                           csrf_from_path=f"/integrations/{account_id}/setup/administrations")
    assert page.status_code == 400 and "Choose a branch that exists at Visma.net." in page.text
    assert 'href="#branch"' in _summary(page.text)
    # At the branch field (its errors, which the field points to), not under the company.
    errors = re.search(r'<ul class="errors" id="branch-errors">(.*?)</ul>', page.text, re.S)
    assert errors and "Choose a branch that exists at Visma.net." in errors.group(1)
    assert 'aria-describedby="branch-errors"' in page.text and 'id="company-errors"' not in page.text
    page = consultant.post(f"/integrations/{account_id}/administrations",
                           {"company": companies["ZORG"], "branch": "SOUTH"},
                           csrf_from_path=f"/integrations/{account_id}/setup/administrations")
    assert page.status_code == 200 and "SOUTH" in page.text
    with app.app_context():
        assert [m.branch_number for m in db.session.execute(db.select(AdministrationMapping)).scalars()] == ["SOUTH"]
    # A mapped company is no longer offered under New mapping; the others still are.
    offered = re.findall(r'<option value="(\d+)"', page.text.split('name="company"', 1)[1].split("</select>", 1)[0])
    assert str(companies["ZORG"]) not in offered and offered
    # A form that sends it anyway (an old page) is refused with a clear message.
    page = consultant.post(f"/integrations/{account_id}/administrations",
                           {"company": companies["ZORG"], "branch": "NORTH"},
                           csrf_from_path=f"/integrations/{account_id}/setup/administrations")
    assert page.status_code == 400 and "is already mapped in this integration account" in page.text


def test_a_dimension_that_does_not_match_names_the_ones_that_exist(app, consultant, companies):
    account_id = consultant.create_account()
    consultant.authorise(account_id)
    for step in ("verify", "administrations"):
        consultant.post(f"/integrations/{account_id}/setup/{step}/next", csrf_from_path=f"/integrations/{account_id}")
    consultant.post("/language", {"locale": "nl"})
    page = consultant.post(f"/integrations/{account_id}/dimensions",
                           {"cost_unit_enabled": "y", "cost_unit_description": "Kostendrager"},
                           csrf_from_path=f"/integrations/{account_id}/setup/dimensions")
    assert page.status_code == 400
    assert "Visma.net heeft geen dimensie met de naam “Kostendrager”" in page.text
    summary = _summary(page.text)
    assert "Het formulier is niet opgeslagen: controleer het volgende." in summary
    assert 'href="#cost_unit_description"' in summary and "“Kostendrager”" in summary
    assert "“Cost centre”, “Cost unit”" in page.text
    page = consultant.post(f"/integrations/{account_id}/dimensions",
                           {"cost_unit_enabled": "y", "cost_unit_description": ""},
                           csrf_from_path=f"/integrations/{account_id}/setup/dimensions")
    assert page.status_code == 400 and "Vul de beschrijving" in page.text


def test_account_problem_tells_profile_pages_what_is_wrong(app):
    from portal.integrations import account_problem
    with app.test_request_context():
        account = IntegrationAccount(name="x")
        assert "not authorised" in str(account_problem(account))
        account.refresh_token_encrypted = "something"
        assert account_problem(account) is None
        account.needs_reauthorisation = True
        assert "Authorise it again" in str(account_problem(account))
