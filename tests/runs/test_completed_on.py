"""A run exported again (a prepared or partially processed run's export) has no "Completed on" while it is
queued or exporting: the time its prepare (or previous pass) ended is not when this export completed. The
run page, Show exports and the overview CSV agree; once the pass ends, its own time shows. Both databases."""
import csv
import io
import re
from datetime import timedelta

from portal.exporting import services
from portal.extensions import db
from portal.models.exporting import Run

from tests import factories


def _completed_on(client, run_id, profile_id):
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    facts = page[page.index('class="run-facts"'):]
    facts = facts[:facts.index("</dl>")]
    on_page = re.search(r"<dt>Completed on</dt><dd>([^<]*)</dd>", facts)
    rows = list(csv.reader(io.StringIO(client.get("/overview/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    column = rows[0].index("Completed on")
    in_csv = {row[0]: row[column] for row in rows[1:]}[str(run_id)]
    return on_page.group(1) if on_page else None, in_csv


def test_completed_on_is_empty_while_the_run_exports_again(any_app):
    with any_app.app_context():
        run = factories.prepared_payments(1)
        # Prepared long ago (the time must differ from the export's, to the minute the page shows).
        run.finished_at = run.finished_at - timedelta(days=3)
        db.session.commit()
        run_id, profile_id = run.id, run.profile_id
    client = any_app.test_client()
    factories.AuthActions(client).login("manager")
    prepared_on = _completed_on(client, run_id, profile_id)
    assert prepared_on[0] and prepared_on[1]                       # prepared: its prepare completed
    with any_app.app_context():
        services.request_export(run_id)                             # queued again
    assert _completed_on(client, run_id, profile_id) == (None, "")
    with any_app.app_context():                                     # the worker took it: exporting
        db.session.execute(db.update(Run).where(Run.id == run_id).values(status="exporting", phase="exporting"))
        db.session.commit()
    assert _completed_on(client, run_id, profile_id) == (None, "")
    listed = client.get(f"/profiles/{profile_id}/runs").get_data(as_text=True)
    assert prepared_on[0] not in listed
    with any_app.app_context():
        db.session.execute(db.update(Run).where(Run.id == run_id).values(status="queued", phase=None))
        db.session.commit()
        assert factories.run_job(run_id).status == "exported"
    exported_on = _completed_on(client, run_id, profile_id)
    assert exported_on[0] and exported_on != prepared_on
