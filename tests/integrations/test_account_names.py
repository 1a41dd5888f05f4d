"""An integration account's name is how consultants pick it (profile forms, lists): no two accounts share
one as people read it — trimmed, whatever the case — and a name must show something (not only spaces
or a zero-width space). Refused at the name field, by the service, and by the database's unique index
on lower(name) (migration integrationname_0001, which renames existing duplicates); on SQLite and
PostgreSQL."""
import html

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.demo.seed import seed_users
from portal.extensions import db
from portal.integrations import services
from portal.models import IntegrationAccount

from tests.factories import AuthActions

TAKEN = "An integration account with this name already exists."
NO_NAME = "Enter a name for the integration account."


@pytest.fixture
def consultant(any_app):
    with any_app.app_context():
        seed_users()
        services.create_account("Visma.net Zorggroep", None)
    client = any_app.test_client()
    auth = AuthActions(client)
    auth.login("consultant")
    return any_app, client, auth


def _names(app):
    with app.app_context():
        return sorted(db.session.execute(db.select(IntegrationAccount.name)).scalars())


def _post(client, auth, name):
    answer = client.post("/integrations/new", data={"csrf_token": auth.csrf_token("/integrations/new"),
                                                    "name": name})
    return answer, html.unescape(answer.get_data(as_text=True))


@pytest.mark.parametrize("typed", ["visma.net zorggroep", "  VISMA.NET ZORGGROEP ", "Visma.net Zorggroep"])
def test_a_name_in_use_in_another_case_is_refused_at_the_name_field(consultant, typed):
    app, client, auth = consultant
    answer, page = _post(client, auth, typed)
    assert answer.status_code in (200, 400)
    field = page[page.index('id="name-errors"'):]
    assert TAKEN in field[:field.index("</ul>")]
    assert _names(app) == ["Visma.net Zorggroep"]


@pytest.mark.parametrize("typed", ["\u200b", " \u200b\u200d ", "\ufeff", "\u3164", "\u2800\u00a0"])
def test_a_name_that_shows_nothing_is_refused(consultant, typed):
    app, client, auth = consultant
    answer, page = _post(client, auth, typed)
    assert answer.status_code in (200, 400)
    field = page[page.index('id="name-errors"'):]
    assert NO_NAME in field[:field.index("</ul>")]
    assert _names(app) == ["Visma.net Zorggroep"]
    with app.app_context(), pytest.raises(services.IntegrationError, match=NO_NAME):
        services.create_account(typed, None)


def test_another_name_is_fine_and_stored_trimmed(consultant):
    app, client, auth = consultant
    answer, _page = _post(client, auth, "  Visma.net Thuiszorg\u200b Noord ")
    assert answer.status_code == 302
    assert _names(app) == ["Visma.net Thuiszorg\u200b Noord", "Visma.net Zorggroep"]


def test_the_service_refuses_it_in_any_case_and_width(consultant):
    app, _client, _auth = consultant
    with app.app_context():
        for name in ("VISMA.NET ZORGGROEP", "Ｖｉｓｍａ.net zorggroep"):
            with pytest.raises(services.IntegrationError, match=TAKEN):
                services.create_account(name, None)
    assert _names(app) == ["Visma.net Zorggroep"]


def test_the_database_refuses_a_second_account_with_the_name_in_another_case(consultant):
    """Two saves at the same moment both pass the service's check: the unique index stops the second."""
    app, _client, _auth = consultant
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(text(
                "INSERT INTO integration_accounts (name, provider, scopes, needs_reauthorisation, wizard_step, "
                "created_at, updated_at) VALUES ('visma.net ZORGGROEP', 'visma_net', '', FALSE, 'authorise', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.rollback()


def test_the_migration_renames_existing_duplicates_and_adds_the_index(any_app):
    with any_app.app_context():
        downgrade(revision="attempts_0001")
        try:
            for name in ("Visma.net Zorggroep", "visma.net zorggroep", "VISMA.NET ZORGGROEP ", "Visma.net Noord"):
                db.session.execute(text(
                    "INSERT INTO integration_accounts (name, provider, scopes, needs_reauthorisation, wizard_step, "
                    "created_at, updated_at) VALUES (:name, 'visma_net', '', FALSE, 'authorise', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"name": name})
            db.session.commit()
        finally:
            db.session.remove()
            upgrade()
        names = db.session.execute(text("SELECT name FROM integration_accounts ORDER BY id")).scalars().all()
        assert names == ["Visma.net Zorggroep", "visma.net zorggroep (2)", "VISMA.NET ZORGGROEP (3)",
                         "Visma.net Noord"]
        with pytest.raises(IntegrityError):
            db.session.execute(text(
                "INSERT INTO integration_accounts (name, provider, scopes, needs_reauthorisation, wizard_step, "
                "created_at, updated_at) VALUES ('visma.net noord', 'visma_net', '', FALSE, 'authorise', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.rollback()
