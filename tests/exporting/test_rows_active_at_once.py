"""Prepared data: saving the ticks of many rows is one transaction, written set-based — not a commit (and
a lock, a read and an UPDATE) per row: a page of 200 changed rows is two UPDATEs and one commit, and a
refusal saves nothing. Both databases."""
import pytest
from sqlalchemy import event

from portal.exporting import services
from portal.exporting.errors import ExportError
from portal.extensions import db
from portal.models import AuditEntry
from portal.models.exporting import PreparedRow

from tests import factories


def _prepared(count, processed=()):
    from portal.demo.seed import seed_users
    seed_users()
    profile = factories.profile("Kassa", export_type="payments", fmt="jsonl")
    run = factories.run(profile, status="prepared", mode="production")
    db.session.execute(db.insert(PreparedRow), [
        {"run_id": run.id, "seq": i, "record_key": f"R{i:03d}", "payload": {"receipt_number": f"R{i:03d}"},
         "active": i % 2 == 0, "processed": i in processed} for i in range(count)])
    db.session.commit()
    ids = dict(db.session.execute(db.select(PreparedRow.record_key, PreparedRow.id)
                                  .where(PreparedRow.run_id == run.id)).all())
    return run.id, ids


class Watch:
    """The commits and the UPDATEs of ``prepared_rows`` while it is open."""

    def __enter__(self):
        self.commits, self.updates = 0, 0
        self.engine = db.engine
        event.listen(db.session, "after_commit", self._commit)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc):
        event.remove(db.session, "after_commit", self._commit)
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def _commit(self, _session):
        self.commits += 1

    def _statement(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE PREPARED_ROWS"):
            self.updates += 1


def _active(run_id):
    db.session.expire_all()
    return dict(db.session.execute(db.select(PreparedRow.record_key, PreparedRow.active)
                                   .where(PreparedRow.run_id == run_id)).all())


def test_many_changed_rows_are_saved_in_one_transaction_with_two_statements(ctx):
    run_id, ids = _prepared(200)
    shown = list(ids.values())
    # Every row flips: the ticked ones are unticked and the others ticked.
    wanted = {ids[key] for key, active in _active(run_id).items() if not active}
    with Watch() as watch:
        assert services.set_rows_active(run_id, shown, wanted, user=factories.user_id("staff")) == 200
    assert watch.commits == 1 and watch.updates == 2
    assert _active(run_id) == {f"R{i:03d}": i % 2 == 1 for i in range(200)}
    entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "run.edit_prepared")).scalar_one()
    assert entry.details["count"] == 200 and entry.details["activated"] == 100


def test_a_row_delivered_meanwhile_refuses_the_whole_change_and_saves_nothing(ctx):
    run_id, ids = _prepared(50, processed=(36,))
    before = _active(run_id)
    with pytest.raises(ExportError) as refused:
        services.set_rows_active(run_id, list(ids.values()), set())     # untick every row, 36 among them (ticked, delivered)
    assert refused.value.code == "row_processed"
    assert _active(run_id) == before
    assert db.session.execute(db.select(db.func.count(AuditEntry.id))
                              .where(AuditEntry.action == "run.edit_prepared")).scalar() == 0
