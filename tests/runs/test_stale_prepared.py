"""Prepared data shown in a tab opened before the run was exported (another tab, a colleague, Scenarios):
a tick changed there must be refused with a clear message, never dropped in silence — the user would
believe the row was left out while it was delivered. Through the engine for real, on both databases."""
import re

from portal.exporting import services
from portal.extensions import db
from portal.models.exporting import PreparedRow

from tests import factories


def _prepared_payments(app):
    """A production run of four payments, prepared by the real job; its id."""
    with app.app_context():
        return factories.prepared_payments(4).id


def _open_prepared(app, run_id):
    client = app.test_client()
    factories.AuthActions(client).login("staff")
    dialog = client.get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    return client, re.findall(r'name="shown" value="(\d+)"', dialog), factories.csrf_from(dialog)


def _export(app, run_id, *, untick=()):
    """Tab B: untick ``untick`` and export, as the run page's Export does; the run as it ends."""
    with app.app_context():
        for row_id in untick:
            services.set_row_active(run_id, row_id, False)
        services.request_export(run_id)
        return factories.run_job(run_id).status


def _rows(app, run_id):
    with app.app_context():
        return {row.id: (row.active, row.processed) for row in db.session.execute(
            db.select(PreparedRow).where(PreparedRow.run_id == run_id)).scalars()}


def test_unticking_in_a_tab_opened_before_the_export_is_refused(any_app):
    run_id = _prepared_payments(any_app)
    client, shown, csrf = _open_prepared(any_app, run_id)   # tab A
    assert len(shown) == 4
    assert _export(any_app, run_id) == "exported"              # tab B: Export
    # Tab A unticks the first row and presses Close.
    response = client.post(f"/runs/{run_id}/prepared", follow_redirects=True,
                           data={"csrf_token": csrf, "shown": shown, "active": shown[1:], "action": "close"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rows can only be changed while the export is prepared or partially processed." in page
    assert "Your selections were saved." not in page
    assert all(processed for _active, processed in _rows(any_app, run_id).values())


def test_unticking_a_row_delivered_by_a_later_pass_is_refused_and_nothing_is_saved(any_app):
    """The run is partially processed (a row left out) and stays editable; tab B ticks the left row and
    exports it. Tab A, opened in between, unticks a delivered row and ticks nothing else: refused."""
    run_id = _prepared_payments(any_app)
    ids = sorted(int(i) for i in _rows(any_app, run_id))
    assert _export(any_app, run_id, untick=[ids[0]]) == "partially_processed"
    client, shown, csrf = _open_prepared(any_app, run_id)   # tab A: row 0 unticked, the others delivered
    with any_app.app_context():                                # tab B: tick row 0 and export it
        services.set_row_active(run_id, ids[0], True)
        assert services.request_export(run_id) and factories.run_job(run_id).status == "exported"
    # Tab A still shows row 0 unticked and editable; the user ticks it — and unticks nothing: no change
    # of a delivered row, so nothing to refuse (row 0 is delivered and active, as tab A asks).
    response = client.post(f"/runs/{run_id}/prepared", follow_redirects=True,
                           data={"csrf_token": csrf, "shown": shown, "active": shown, "action": "close"})
    assert "Rows can only be changed" not in response.get_data(as_text=True)
    # Tab A leaves row 0 unticked (as it shows it): row 0 was delivered meanwhile — refused, not silent.
    response = client.post(f"/runs/{run_id}/prepared", follow_redirects=True,
                           data={"csrf_token": csrf, "shown": shown, "active": [str(i) for i in ids[1:]],
                                 "action": "close"})
    assert "Rows can only be changed while the export is prepared or partially processed." in \
        response.get_data(as_text=True)
    assert _rows(any_app, run_id)[ids[0]] == (True, True)


def test_a_row_delivered_while_the_run_stays_editable_is_refused(any_app):
    """Partially processed, tab A opened; tab B ticks the left row and exports; a third row is left out
    by tab B so that the run stays partially processed (editable). Tab A's change to the delivered row is
    refused with its own message, and its other change is not saved either."""
    run_id = _prepared_payments(any_app)
    ids = sorted(int(i) for i in _rows(any_app, run_id))
    assert _export(any_app, run_id, untick=[ids[0], ids[1]]) == "partially_processed"
    client, shown, csrf = _open_prepared(any_app, run_id)   # tab A: rows 0 and 1 unticked
    with any_app.app_context():                                # tab B: tick row 0 and export it; 1 stays left
        services.set_row_active(run_id, ids[0], True)
        services.request_export(run_id)
        assert factories.run_job(run_id).status == "partially_processed"
    # Tab A ticks row 1 and keeps row 0 unticked (as it shows it): row 0 has been delivered meanwhile.
    response = client.post(f"/runs/{run_id}/prepared", follow_redirects=True,
                           data={"csrf_token": csrf, "shown": shown, "active": [str(i) for i in ids[1:]],
                                 "action": "close"})
    page = response.get_data(as_text=True)
    assert "Your selections were not saved: a row you changed was delivered in the meantime." in page
    rows = _rows(any_app, run_id)
    assert rows[ids[0]] == (True, True) and rows[ids[1]] == (False, False)   # row 1's tick not saved either
