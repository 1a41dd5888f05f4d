"""The production confirmation repeats what was chosen besides the period — the booking date (in the
user's date format), the description and the chosen debtors by number, name and company — before Yes."""
from tests.runs.test_start_export import _form, _runs, profiles  # noqa: F401  (the fixture)


def test_the_confirmation_repeats_booking_date_description_and_debtors(app, client, auth, profiles):  # noqa: F811
    auth.login("staff")
    path = f"/profiles/{profiles['invoices']}/start"
    _, fields = _form(client, path)
    data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="production",
                booking_date="2026-11-30", description="November invoices", debtor_scope="selected",
                debtors=[f"{profiles['company']}:10001", f"{profiles['company']}:10003"])
    page = client.post(path, data=data, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    choices = page[page.index('id="production-choices"'):page.index('id="production-preview"')]
    assert "<dd>30-11-2026</dd>" in choices                      # Dutch date format
    assert "<dd>November invoices</dd>" in choices
    assert "<dd>10001 · Debtor 1 (ZORG), 10003 · Debtor 3 (ZORG)</dd>" in choices     # each with its company
    assert _runs(app) == []


def test_without_choices_the_confirmation_has_no_empty_list(app, client, auth, profiles):  # noqa: F811
    auth.login("staff")
    path = f"/profiles/{profiles['payments']}/start"
    _, fields = _form(client, path)
    data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="production")
    page = client.post(path, data=data).get_data(as_text=True)
    assert "What will be recorded" in page and 'id="production-choices"' not in page


def test_the_confirmation_counts_the_chosen_debtors_records_only(any_app):
    """Already recorded for this period: with a debtor selection, the records of the chosen debtors — by
    company and number (THUIS's debtor 10001 is not ZORG's) — not every debtor's. Both databases."""
    from portal.demo.seed import seed_users
    from portal.exporting import services
    from portal.extensions import db
    from portal.models import Debtor
    from tests import factories
    from tests.factories import AuthActions, execute
    client = any_app.test_client()
    with any_app.app_context():
        seed_users()
        zorg, thuis, _ = factories.companies()
        jansen = Debtor(company_id=zorg.id, number="10001", name="Jansen")
        de_vries = Debtor(company_id=zorg.id, number="10002", name="De Vries")
        nobody = Debtor(company_id=zorg.id, number="10003", name="Nieuw")
        pietersen = Debtor(company_id=thuis.id, number="10001", name="Pietersen")
        db.session.add_all([jansen, de_vries, nobody, pietersen])
        db.session.flush()
        factories.invoice_lines(zorg, [jansen], 2, start=1)
        factories.invoice_lines(zorg, [de_vries], 3, start=3)
        factories.invoice_lines(thuis, [pietersen], 4, start=6)
        db.session.commit()
        profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                          sync_type="incremental_all")
        run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
        execute(run)
        profile_id, zorg_id, thuis_id = profile.id, zorg.id, thuis.id
    AuthActions(client).login("staff")
    path = f"/profiles/{profile_id}/start"

    def confirmation(**choice):
        _, fields = _form(client, path)
        data = dict(fields, preset="custom", window_start="2026-11-01", window_end="2026-11-30", mode="production",
                    **choice)
        page = client.post(path, data=data).get_data(as_text=True)
        preview = page[page.index('id="production-preview"'):]
        return " ".join(preview[:preview.index("</p>", preview.index("</p>") + 1)].split())

    assert "Already recorded for this period: 9 records from 1 earlier production export." \
        in confirmation(debtor_scope="all")
    assert "Already recorded for this period and the chosen debtors: 2 records from 1 earlier production export." \
        in confirmation(debtor_scope="selected", debtors=[f"{zorg_id}:10001"])
    assert "the chosen debtors: 6 records" in confirmation(debtor_scope="selected",
                                                           debtors=[f"{zorg_id}:10001", f"{thuis_id}:10001"])
    assert "Nothing is recorded for this period and the chosen debtors yet." \
        in confirmation(debtor_scope="selected", debtors=[f"{zorg_id}:10003"])
    assert _runs(any_app)[-1].mode == "production" and len(_runs(any_app)) == 1      # nothing started
