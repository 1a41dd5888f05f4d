"""Editing a profile changes what the form changes and nothing else: the options a profile does not store
show what its files use (the writer's defaults: translated headers), and the options the form does not
show (an Excel sheet's title, SIE 4's numbering) stay as they were."""
import re
from datetime import date

from portal.exporting import services
from portal.extensions import db
from portal.models import Company
from portal.models.exporting import ExportProfile

from tests import factories
from tests.profiles.test_fixed_settings import _attrs, _form_data, site  # noqa: F401 (the fixture)


def _options(app, profile_id):
    with app.app_context():
        return dict(db.session.get(ExportProfile, profile_id).options)


def _checkbox(page, name):
    [tag] = re.findall(rf'<input[^>]* name="{name}"[^>]*>', page)
    return "checked" in _attrs(tag)


def _profile(app, name, export_type, options):
    with app.app_context():
        factories.companies()
        db.session.commit()
        return services.create_profile(name=name, export_type=export_type, options=options,
                                       sync_type="full").id


def test_a_seeded_profile_keeps_its_translated_headers_when_only_the_company_changes(site):
    app, client = site
    profile_id = _profile(app, "Payroll journals (CSV)", "journal_entries",
                          {"format": "csv", "delimiter": ";", "encoding": "utf-8-sig"})
    with app.app_context():
        zorg_id = db.session.execute(db.select(Company.id).filter_by(code="ZORG")).scalar()
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert _checkbox(page, "translated_headers") and not _checkbox(page, "skip_headers")
    endings = re.search(r'<select[^>]* name="line_terminator"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert [_attrs(tag)["value"] for tag in re.findall(r"<option[^>]*>", endings)
            if "selected" in _attrs(tag)] == ["crlf"]              # the writer's default, shown as chosen
    response = client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, company_id=str(zorg_id)))
    assert response.status_code == 302
    options = _options(app, profile_id)
    assert options["translated_headers"] is True and options["skip_headers"] is False
    assert (options["delimiter"], options["encoding"], options["line_terminator"]) == (";", "utf-8-sig", "crlf")
    with app.app_context():
        factories.journal(db.session.get(Company, zorg_id), "R-11", date(2026, 11, 1),
                          [("7010", "10.00", "0", "Salaries"), ("2910", "0", "10.00", "")])
        db.session.commit()
        run = factories.start_and_run(db.session.get(ExportProfile, profile_id))
        assert run.status == "exported", run.error_reason
        with open(factories.files_of(run)[0].path, encoding="utf-8-sig") as handle:
            header = handle.readline()
    assert header.startswith("Mutation;Company code;Company;")    # translated, not mutation;company_code;…


def test_an_excel_profile_shows_translated_headers_ticked_and_a_new_profile_does_too(site):
    app, client = site
    profile_id = _profile(app, "Invoices (Excel)", "invoices", {"format": "xlsx"})
    assert _checkbox(client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True), "translated_headers")
    assert _checkbox(client.get("/profiles/new?format=csv").get_data(as_text=True), "translated_headers")


def test_a_stored_choice_is_shown_as_stored(site):
    app, client = site
    profile_id = _profile(app, "Technisch", "payments",
                          {"format": "csv", "translated_headers": False, "skip_headers": "true"})
    page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
    assert not _checkbox(page, "translated_headers") and _checkbox(page, "skip_headers")
    client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, name="Technisch 2"))
    options = _options(app, profile_id)
    assert options["translated_headers"] is False and options["skip_headers"] is True


def test_options_the_form_does_not_show_are_kept(site):
    app, client = site
    sie = {"format": "sie4", "sie_series": "L", "sie_first_voucher_number": 100, "sie_voucher_date": "period_end",
           "sie_cost_unit_dimension": 6, "sie_fiscal_year_start_month": 7}
    sie_id = _profile(app, "Lön SIE", "journal_entries", sie)
    with app.app_context():
        excel_id = services.create_profile(name="Fakturor", export_type="invoices", sync_type="full",
                                           options={"format": "xlsx", "sheet_title": "Fakturor"}).id
    for profile_id, kept in ((sie_id, sie), (excel_id, {"format": "xlsx", "sheet_title": "Fakturor"})):
        page = client.get(f"/profiles/{profile_id}/edit").get_data(as_text=True)
        response = client.post(f"/profiles/{profile_id}/edit", data=_form_data(page, sync_type="incremental_all"))
        assert response.status_code == 302
        options = _options(app, profile_id)
        assert {key: options.get(key) for key in kept} == kept


def _fragment_data(page, fragment, **changes):
    """What the browser sends after htmx swapped ``fragment`` (the options) into ``page``."""
    from portal.profiles.forms import ProfileForm
    outer = {key: value for key, value in _form_data(page).items()
             if key not in ProfileForm.OPTION_FIELDS and not key.startswith("col_") and key != "columns_for"}
    inner = _form_data('<form id="profile-form">' + fragment + "</form>")
    inner.pop("action")
    return {**outer, **inner, **changes}


def test_switching_the_file_format_keeps_the_profiles_header_choices(site):
    """An Excel profile with translated headers (and headers skipped): switching the format to one that has
    no such options (JSON Lines, SIE 4) and back shows them as the profile has them — with JavaScript (the
    options fetched again) and without (Show the options) — and saving keeps them."""
    app, client = site
    profile_id = _profile(app, "Facturen (Excel)", "invoices",
                          {"format": "xlsx", "translated_headers": True, "skip_headers": True})
    path = f"/profiles/{profile_id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert _checkbox(page, "translated_headers") and _checkbox(page, "skip_headers")
    # With JavaScript: each change fetches the options for what is chosen, with the form's values.
    fragment = client.get("/profiles/columns", query_string=_form_data(page, format="jsonl"),
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    back = client.get("/profiles/columns", query_string=_fragment_data(page, fragment, format="xlsx"),
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _checkbox(back, "translated_headers") and _checkbox(back, "skip_headers")
    # Without JavaScript: Show the options of this format.
    for fmt in ("sie4", "csv", "jsonl", "xlsx"):
        page = client.post(path, data=_form_data(page, format=fmt, action="refresh")).get_data(as_text=True)
        if fmt in ("csv", "xlsx"):
            assert _checkbox(page, "translated_headers") and _checkbox(page, "skip_headers"), fmt
    assert client.post(path, data=_form_data(page)).status_code == 302
    options = _options(app, profile_id)
    assert options["translated_headers"] is True and options["skip_headers"] is True
