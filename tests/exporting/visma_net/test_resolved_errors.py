"""Errors resolved by a later successful delivery no longer count as the run's errors: the report keeps them
(marked resolved), but the run's error count, its report's counts, the status badge's warning and the red
triangle tell the truth; a row rejected in two export passes is one error. Journals to the sandbox over
real HTTP (a closed period, then reopened), on SQLite and PostgreSQL."""
from flask_babel import force_locale

from portal.exporting import queries, services
from portal.exporting.report import report, report_csv
from portal.extensions import db
from portal.models import Run

from .conftest import WINDOW, assert_valid, companies, execute, faults, payroll, rows, run_now


def _has_errors_in_lists(run):
    """The red triangle as the overview and the profile lists load it (``report_has_errors``)."""
    db.session.expire_all()
    return db.session.execute(db.select(Run).options(db.undefer(Run.report_has_errors))
                              .where(Run.id == run.id)).scalar().has_errors


def _rejected_in_a_closed_period(vctx):
    """A production run of one journal (4 lines, period 202611) that Visma.net rejects: period closed."""
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payroll(zorg)
    db.session.commit()
    profile = vctx.profile("journal_entries")
    faults(close_period="202611")
    return run_now(profile, **WINDOW)


def test_a_later_successful_export_resolves_the_rejections_of_earlier_passes(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payroll(zorg)                                        # one journal of 4 lines, period 202611
    db.session.commit()
    profile = vctx.profile("journal_entries")
    faults(close_period="202611")

    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed", run.error_reason
    assert [r.processed for r in rows(run)] == [False] * 4 and all(r.error for r in rows(run))
    assert run.counts["errors"] == 4 and run.has_errors and _has_errors_in_lists(run)

    # Exported again while the period is still closed: rejected again, still 4 errors (each row once).
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "partially_processed"
    assert run.counts["errors"] == 4 and queries.report_counts(run.id)["error"] == 4
    assert [i["code"] for i in report(run.id)["items"]].count("provider_rejected") == 8

    # The period is reopened: the export delivers every row; the rejections are history, not errors.
    faults(open_period="202611")
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "exported", run.error_reason
    assert all(r.processed and r.error is None for r in rows(run))
    assert run.counts["errors"] == 0 and run.counts["processed"] == 4
    assert not run.has_errors and not _has_errors_in_lists(run)
    assert not queries.report_counts(run.id).get("error")
    items = [i for i in report(run.id)["items"] if i["code"] == "provider_rejected"]
    assert len(items) == 8 and all(i["resolved"] for i in items)
    assert all(item.resolved for item in queries.report_items(run.id) if item.code == "provider_rejected")
    with force_locale("nl"):
        assert "Opgelost: geleverd door een latere export." in report_csv(run.id, locale="nl")
    assert_valid(openapi, run)


def test_the_run_page_marks_resolved_errors_and_shows_no_error_count(vctx):
    from portal.demo.seed import seed_users
    from tests.factories import AuthActions
    run = _rejected_in_a_closed_period(vctx)
    faults(open_period="202611")
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "exported"
    seed_users()
    db.session.commit()
    client = vctx.app.test_client()
    AuthActions(client).login("staff")
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert page.count("Resolved: delivered by a later export.") == 4
    assert "badge-error" not in page


def test_resolved_errors_stay_resolved_after_a_roll_back(vctx):
    """A roll back removes the run's prepared rows; the errors a later pass resolved stay resolved (they
    counted again: a red triangle on a rolled-back export that had delivered every row)."""
    run = _rejected_in_a_closed_period(vctx)
    assert run.counts["errors"] == 4
    faults(open_period="202611")
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "exported" and not _has_errors_in_lists(run)

    services.roll_back(run.id)
    run = db.session.get(Run, run.id)
    assert run.status == "rolled_back" and not rows(run)
    assert not run.has_errors and not _has_errors_in_lists(run)
    assert not queries.report_counts(run.id).get("error")
    items = [i for i in report(run.id)["items"] if i["code"] == "provider_rejected"]
    assert len(items) == 4 and all(i["resolved"] for i in items)


def test_an_error_still_standing_after_a_roll_back_still_counts(vctx):
    """A row never delivered keeps its error through a roll back."""
    run = _rejected_in_a_closed_period(vctx)
    assert run.status == "partially_processed"
    services.roll_back(run.id)
    run = db.session.get(Run, run.id)
    assert run.status == "rolled_back" and run.has_errors and _has_errors_in_lists(run)
    assert queries.report_counts(run.id)["error"] == 4
    assert not any(i["resolved"] for i in report(run.id)["items"])
