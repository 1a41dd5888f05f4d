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
