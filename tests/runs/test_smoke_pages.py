"""Every page renders for the people who may see it."""
import pytest


from tests import factories


@pytest.fixture
def data(app, users):
    with app.app_context():
        c = factories.company()
        factories.debtors(c, 3, blocked=(1,))
        journals = factories.profile()
        invoices = factories.profile("Invoices to Visma", export_type="invoices")
        r = factories.run(journals, counts={"records": 3, "processed": 3, "errors": 1})
        return {"journals": journals.id, "invoices": invoices.id, "run": r.id}


@pytest.mark.parametrize("path", ["/profiles/", "/profiles/{journals}", "/profiles/{journals}/start",
                                  "/profiles/{invoices}/start", "/runs/{run}", "/profiles/{journals}/runs",
                                  "/scenarios", "/runs/{run}/prepared", "/profiles/{journals}/history",
                                  "/runs/{run}/roll-back", "/debtors/search?debtor_query=Debt"])
def test_pages_render_for_consultant(client, auth, data, path):
    auth.login("consultant")
    response = client.get(path.format(**data))
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]


def test_overview_renders_for_manager(client, auth, data):
    auth.login("manager")
    assert client.get("/overview/").status_code == 200
    assert client.get("/overview/export.csv").status_code == 200


def test_profile_form_renders(client, auth, data):
    auth.login("consultant")
    assert client.get("/profiles/new").status_code == 200
    assert client.get(f"/profiles/{data['journals']}/edit").status_code == 200
