"""An integration account that is not authorised (tester's finding): a test run through it said only that
each record's company was not mapped (95 errors); it now says first that the account is not authorised
and where to authorise it. A production run does not start, with the same words."""
import pytest

from portal.exporting import services as engine
from portal.exporting.errors import ExportError
from portal.exporting.report import report
from portal.extensions import db
from portal.integrations import services as integrations

from .conftest import WINDOW, companies, payments, run_now


def _codes(run, locale="en"):
    return [(i["severity"], i["code"]) for i in report(run.id, locale=locale)["items"]]


def test_a_test_run_through_a_never_authorised_account_says_so_first(vctx):
    zorg, _thuis, _test = companies()
    payments(zorg, 3)
    db.session.commit()
    vctx.account = integrations.create_account("Visma.net Zorggroep", None)      # never authorised
    profile = vctx.profile("payments")

    run = run_now(profile, mode="test", **WINDOW)
    codes = _codes(run)
    assert codes[0] == ("error", "visma_account_not_authorised")
    assert codes[1:] == [("error", "visma_not_mapped")] * 3                       # after it, not instead
    first = report(run.id, locale="en")["items"][0]["message"]
    assert first.startswith("Integration account Visma.net Zorggroep is not authorised at Visma.net")
    assert "Authorise it under Integration accounts → Visma.net Zorggroep → Authorise." in first
    swedish = report(run.id, locale="sv")["items"][0]["message"]
    assert "inte auktoriserat" in swedish and "Integrationskonton → Visma.net Zorggroep → Auktorisera" in swedish

    with pytest.raises(ExportError) as refused:
        engine.start_run(profile.id, mode="production", **WINDOW)
    assert refused.value.code == "account_problem"
    assert str(refused.value).startswith("payments cannot send to Visma.net: Integration account Visma.net "
                                         "Zorggroep is not authorised")
    assert "Integration accounts → Visma.net Zorggroep → Authorise" in str(refused.value)


def test_a_test_run_through_an_account_whose_authorisation_lapsed_says_so_first(vctx):
    zorg, _thuis, _test = companies()
    payments(zorg, 2)
    db.session.commit()
    account = vctx.authorise()
    vctx.map(zorg)
    account.needs_reauthorisation = True
    db.session.commit()

    run = run_now(vctx.profile("payments"), mode="test", **WINDOW)
    assert _codes(run) == [("error", "visma_account_reauthorise")]                # its companies are mapped
    [item] = report(run.id, locale="da")["items"]
    assert "Integrationskonti → Visma.net Zorggroep → Autoriser igen" in item["message"]
