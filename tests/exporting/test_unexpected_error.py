"""An unexpected error in a run (a bug: the KeyError a profile changed under its exports raised) fails the
run with a message in the run's language; the exception and its traceback go to the log, never to the
people who read the run, its report or the e-mail about it."""
import logging

import pytest
from sqlalchemy import select

from portal.exporting import engine, queries, services
from portal.extensions import db
from portal.models.exporting import Run

from tests import factories


@pytest.mark.parametrize("locale, words", [
    ("en", "An unexpected error stopped this export. The portal's log has the details (export {run})"),
    ("nl", "Een onverwachte fout heeft deze export gestopt. Het log van het portaal bevat de details (export {run})"),
], ids=["en", "nl"])
def test_an_unexpected_error_fails_the_run_with_words_not_the_exception(ctx, monkeypatch, caplog, locale, words):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="Kassabetalingen", export_type="payments", options={"format": "csv"})

    def broken(run, progress):
        raise KeyError("credit")
    monkeypatch.setattr(engine, "export", broken)
    with caplog.at_level(logging.ERROR, logger="portal.exporting.jobs"), pytest.raises(KeyError):
        factories.start_and_run(profile, "test", locale=locale)
    run = db.session.execute(select(Run).order_by(Run.id.desc())).scalars().first()
    assert run.status == "failed"
    expected = words.format(run=run.id)
    assert run.error_reason.startswith(expected)
    assert "KeyError" not in run.error_reason and "credit" not in run.error_reason
    [item] = [i for i in queries.report_items(run.id) if i.code == "run_failed"]
    assert "KeyError" not in str(item.params) and expected in item.params["reason"]
    # The detail is in the log, with the run it belongs to.
    [record] = [r for r in caplog.records if r.name == "portal.exporting.jobs" and r.exc_info]
    assert f"run {run.id}" in record.getMessage() and record.exc_info[0] is KeyError


def test_a_refusal_of_visma_net_keeps_its_own_words(ctx, monkeypatch):
    """Not unexpected: Visma.net's refusal (e.g. missing rights) is something the user can act on — its
    text, verbatim, is the run's reason."""
    from portal.integrations.visma.errors import VismaNetApiError
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="Kassabetalingen", export_type="payments", options={"format": "csv"})

    def refused(run, progress):
        raise VismaNetApiError(403, "The user has no rights to customer invoices.")
    monkeypatch.setattr(engine, "export", refused)
    with pytest.raises(VismaNetApiError):
        factories.start_and_run(profile, "test")
    run = db.session.execute(select(Run).order_by(Run.id.desc())).scalars().first()
    assert run.status == "failed"
    assert run.error_reason == "Visma.net: The user has no rights to customer invoices."
