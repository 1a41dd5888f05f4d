"""WTForms' own messages ("Not a valid choice." …) come in the user's language on every form."""
import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm

import portal
from portal.forms import WTFORMS_MESSAGES, PortalForm

from tests.schedules.test_pages import _setup


def _form_classes():
    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        if info.name.endswith(".forms"):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, FlaskForm) and value.__module__ == info.name:
                    yield value


def test_every_form_of_the_portal_takes_wtforms_messages_from_the_portals_catalogue():
    classes = list(_form_classes())
    assert len(classes) >= 8
    assert [cls.__name__ for cls in classes if not issubclass(cls, PortalForm)] == []


@pytest.mark.parametrize("locale", ["nl", "sv", "da"])
def test_wtforms_messages_are_translated(app, locale):
    from flask_babel import force_locale, get_translations
    with app.test_request_context("/"), force_locale(locale):
        catalogue = get_translations()  # raw, as WTForms gets it (it fills in the values itself)
        for message in WTFORMS_MESSAGES:
            args = message._args
            if len(args) == 1:
                assert catalogue.gettext(args[0]) != args[0], (locale, args[0])
            else:
                assert catalogue.ngettext(args[0], args[1], 2) != args[1], (locale, args[1])


@pytest.mark.parametrize("locale, message", [("da", "Ikke et gyldigt valg."), ("sv", "Inte ett giltigt val."),
                                             ("nl", "Geen geldige keuze.")])
def test_schedule_form_refuses_bad_choices_in_the_users_language(app, client, auth, users, locale, message):
    profile_id = _setup(app, users, locale=locale)
    auth.login("staff")
    token = auth.csrf_token(f"/profiles/{profile_id}/schedules/new")
    for field, value in (("day", "32"), ("weekday", "9"), ("frequency", "hourly")):
        data = {"csrf_token": token, "frequency": "weekly", "day": "3", "weekday": "0", "time": "06:00",
                "window": "previous_month", "mode": "test", field: value}
        page = client.post(f"/profiles/{profile_id}/schedules/new", data=data).get_data(as_text=True)
        assert message in page, field
        assert "Not a valid" not in page, field
