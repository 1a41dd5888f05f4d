"""Debtor search: ``%`` and ``_`` are searched for as themselves (not LIKE's wildcards), and when more
debtors match than are shown the page says so — on SQLite and PostgreSQL."""
from portal.exporting import queries
from portal.extensions import db
from portal.models import Debtor

from tests import factories


def test_wildcards_are_text_and_more_results_are_announced(any_app):
    app = any_app
    with app.app_context():
        company = factories.company()
        names = ["100% Zorg", "Zorg_Noord", "Zorg Zuid"] + [f"Klant {i:02d}" for i in range(30)]
        db.session.add_all([Debtor(company_id=company.id, number=str(20000 + i), name=name)
                            for i, name in enumerate(names)])
        db.session.commit()
        found, more = queries.search_debtors("%", company.id)
        assert [d.name for d in found] == ["100% Zorg"] and not more
        found, more = queries.search_debtors("_", company.id)
        assert [d.name for d in found] == ["Zorg_Noord"] and not more
        found, more = queries.search_debtors("g_N", company.id)
        assert [d.name for d in found] == ["Zorg_Noord"]
        found, more = queries.search_debtors("zorg", company.id)
        assert len(found) == 3 and not more
        found, more = queries.search_debtors("Klant", company.id)
        assert len(found) == queries.DEBTOR_RESULTS and more


def test_the_page_says_when_there_are_more(app, client, auth, users):
    with app.app_context():
        company = factories.company()
        db.session.add_all([Debtor(company_id=company.id, number=str(30000 + i), name=f"Klant {i:02d}")
                            for i in range(30)])
        db.session.commit()
        company_id = company.id
    auth.login("staff")
    htmx = {"HX-Request": "true"}    # the Start export dialog's search field
    page = client.get(f"/debtors/search?company={company_id}&debtor_query=Klant", headers=htmx).get_data(as_text=True)
    assert page.count("data-debtor") == 25 and "More debtors match than are shown" in page
    page = client.get(f"/debtors/search?company={company_id}&debtor_query=%25", headers=htmx).get_data(as_text=True)
    assert "No debtor matches." in page and "More debtors match" not in page


def test_opened_on_its_own_the_search_is_a_whole_page_in_the_users_language(app, client, auth, users):
    """Without HX-Request (a link, an address typed in) the answer was the bare list of checkboxes: no
    page, no ``lang``. Now the page: the search as a form of its own, the results, where debtors are chosen."""
    with app.app_context():
        company = factories.company()
        factories.debtors(company, 3, blocked=(1,))
        company_id = company.id
    auth.login("staff")
    page = client.get(f"/debtors/search?company={company_id}&debtor_query=1000",
                      headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="sv">' in page and "<h1>Sök kunder</h1>" in page
    assert 'name="debtor_query" value="1000"' in page and f'name="company" value="{company_id}"' in page
    assert "10001 · " in page and "10003 · " in page and "Spärrad" in page
    assert 'type="checkbox"' not in page                  # nothing to tick outside the Start export form
    assert 'href="/profiles/"' in page and "väljer du dem i Starta export för en exportprofil" in page
    page = client.get("/debtors/search?debtor_query=a").get_data(as_text=True)
    assert "<html" in page and "<h1>Search debtors</h1>" in page
    page = client.get("/debtors/search?debtor_query=" + "1" * 101).get_data(as_text=True)
    assert "<h1>Search debtors</h1>" in page and "Enter at most 100 characters; this has 101." in page
