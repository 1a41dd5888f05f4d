"""One number of errors per run: a run that fails after its pass counted (the worker gave up, the disk was
full) has the error its report shows — on the run page's counts, in the overview CSV's Errors column and in
the report alike, never 0 next to a red triangle. Through the engine for real, on both databases."""
import csv
import io
import re

from portal.exporting import jobs, services
from portal.exporting.report import report
from portal.extensions import db
from portal.models.exporting import Run, RunStatus

from tests import factories


def _failed_after_prepare(app):
    with app.app_context():
        run = factories.prepared_payments(3)
        services.request_export(run.id)
        assert jobs.fail_run(run.id, "The disk is full", statuses=[RunStatus.QUEUED])
        run = db.session.get(Run, run.id)
        assert run.counts.get("errors") == 0        # the prepare's snapshot, written before the failure
        assert report(run.id, locale="en")["items"][0]["severity"] == "error"
        return run.id


def test_a_failed_run_counts_its_error_everywhere(any_app):
    run_id = _failed_after_prepare(any_app)
    client = any_app.test_client()
    factories.AuthActions(client).login("manager")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    counts = page[page.index('class="run-facts counts"'):]
    counts = counts[:counts.index("</dl>")]
    assert re.search(r"<dt>Errors</dt><dd class=\"num\">1</dd>", counts), counts
    assert "Error: 1" in page                                       # the report's badge: the same number
    assert "This export had errors" in page
    response = client.get("/overview/export.csv?status=failed")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    errors = rows[0].index("Errors")
    assert [(row[0], row[errors]) for row in rows[1:]] == [(str(run_id), "1")]
