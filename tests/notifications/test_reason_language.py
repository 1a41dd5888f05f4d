"""A failed run's and a skipped scheduled start's reason in the reader's language (tester's finding): the
reason is stored as a message and its parameters, not as text in the starter's language, so a Swedish
manager reads it in Swedish on the run page and in the report, a Danish subscriber's mail says it in
Danish, and the SIE amount in it is written as each reader's locale writes amounts. Reasons stored as
text before (older rows) still show."""
import re
from datetime import datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale, refresh

from portal.exporting import queries, services as engine
from portal.exporting.jobs import execute_run
from portal.exporting.report import report
from portal.extensions import db
from portal.models import JournalLine, Permission, Run
from portal.models.exporting import PreparedRow
from portal.notifications import services
from portal.schedules import services as schedules
from portal.schedules.models import ScheduleStart

from tests import factories
from tests.factories import AuthActions

from .conftest import execute, use_smtp
from .test_outbox import _profile, _user

AMOUNT, ZERO = Decimal("2323.30"), Decimal("0")


def _unbalanced_sie_run(locale):
    """An SIE production run, started by a user of ``locale``, that fails: one line of a journal changed in
    its prepared data, its voucher does not balance (debit and credit differ by 2323.30)."""
    zorg, _, _ = factories.companies()
    factories.journal(zorg, "PR-1", factories.NOVEMBER[0], [("4000", "10.00", "0", "a"), ("2910", "0", "10.00", "b")])
    db.session.commit()
    profile = engine.create_profile(name="SIE", export_type="journal_entries", options={"format": "sie4"},
                                    sync_type="incremental_all", company_id=zorg.id)
    window = dict(window_start="2026-11-01", window_end="2026-11-30")
    execute(engine.start_run(profile.id, mode="production", locale=locale, **window))
    db.session.add_all([JournalLine(company_id=zorg.id, payroll_run_ref="PR-1", run_period=factories.NOVEMBER[0],
                                    about_period=factories.NOVEMBER[0], line_no=n, account=account, debit=debit,
                                    credit=credit, description="c")
                        for n, account, debit, credit in ((3, "4000", AMOUNT, ZERO), (4, "2910", ZERO, AMOUNT))])
    db.session.commit()
    run = engine.start_run(profile.id, mode="production", operation="prepare", locale=locale, **window)
    execute(run)
    [fourth] = [r for r in queries.prepared_rows(run.id, per_page=100).items if r.record_key == "PR-1/4"]
    fourth = db.session.get(PreparedRow, fourth.id)
    fourth.payload = dict(fourth.payload, credit="0.00")     # changed behind the portal's back (test_process)
    db.session.commit()
    engine.request_export(run.id)
    with pytest.raises(Exception):
        execute_run(run.id)
    db.session.expire_all()
    run = db.session.get(Run, run.id)
    assert run.status == "failed" and "niet in balans" in run.error_reason    # written in Dutch, the starter's
    return profile, run


def test_a_failed_runs_reason_is_in_each_readers_language_with_their_amounts(ctx, smtp):
    use_smtp(ctx, smtp)
    anna = _user("anna@example.com", "da")
    eve = _user("eve@example.com", "en")
    _user("sven@example.com", "sv", permissions=(Permission.VIEW_EXPORTS,))
    for user in (anna, eve):
        services.set_subscriptions(user, None, ["run_failed"])
    db.session.commit()
    profile, run = _unbalanced_sie_run("nl")

    services.tick()
    bodies = {m["to"]: m["body"] for m in smtp.received()}
    assert "balancerer ikke: debet og kredit afviger med 2.323,30" in bodies["anna@example.com"]
    assert "debit and credit differ by 2,323.30" in bodies["eve@example.com"]
    # The journal's period as each reader's language names the month, never "2026-11".
    assert "for November 2026 does not balance" in bodies["eve@example.com"]
    assert "for november 2026 balancerer ikke" in bodies["anna@example.com"]
    assert not any("for 2026-11" in body for body in bodies.values())
    assert not any("niet in balans" in body for body in bodies.values())

    with force_locale("sv"):
        assert re.search(r"Journalen för .* balanserar inte: .* skiljer sig med 2\s323,30", run.reason_text)
        assert "för november 2026 balanserar inte" in run.reason_text
        [item] = report(run.id, locale="sv")["items"]
        assert item["message"].startswith("Exporten misslyckades: Journalen för")
        assert "niet in balans" not in item["message"] and re.search(r"2\s323,30", item["message"])

    # The Swedish manager's run page.
    client = ctx.test_client()
    AuthActions(client).login("sven@example.com")
    refresh()        # the test's app context is the requests' too: forget the sign-in page's locale
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "balanserar inte" in page and "niet in balans" not in page


def test_a_skipped_starts_reason_is_in_the_recipients_language(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    eve = _user("eve@example.com", "en")
    services.set_subscriptions(eve, profile.id, ["schedule_skipped"])
    schedules.save_schedule(profile.id, now=datetime(2026, 11, 26, 12), frequency="daily", hour=23, minute=4,
                            window="previous_day", mode="production", locale="da")
    active = engine.start_run(profile.id, mode="production", window_start="2026-10-01", window_end="2026-10-31")
    [start] = schedules.run_due_schedules(now=datetime(2026, 11, 26, 22, 5))
    assert start.state == "skipped" and "allerede" in start.reason            # written in Danish, the schedule's
    services.tick()
    [mail] = smtp.received()
    assert f"A production export of Kassabetalningar is already active (export {active.id}, Queued)" in mail["body"]
    assert "allerede" not in mail["body"]
    with force_locale("sv"):
        assert f"export {active.id}" in start.reason_text and "redan" in start.reason_text


def test_reasons_stored_as_text_before_still_show(ctx, smtp):
    """A run and a skipped start from before reasons were stored as messages: their text, as it is."""
    use_smtp(ctx, smtp)
    profile = _profile()
    eve = _user("eve@example.com", "en")
    services.set_subscriptions(eve, profile.id, ["run_failed"])
    run = engine.start_run(profile.id, mode="test", window_start="2026-11-01", window_end="2026-11-30")
    run.status, run.error_reason, run.finished_at = "failed", "Disken är full", run.started_at
    db.session.commit()
    assert run.error_message is None and run.reason_text == "Disken är full"
    assert ScheduleStart(state="skipped", reason="Gammal orsak").reason_text == "Gammal orsak"
    services.tick()
    [mail] = smtp.received()
    assert "Reason: Disken är full" in mail["body"]
