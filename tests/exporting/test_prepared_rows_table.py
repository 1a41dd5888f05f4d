"""What the ``prepared_rows`` table is built of on PostgreSQL, for the speed of inserting a run's rows
(issue 10, benchmarks/README): no foreign key to ``runs`` (checked row by row, it was 35–40 % of the
server's work of inserting them; migration i10i_0001), and room on every page for the export's update of
``processed`` (a HOT update: fillfactor 45, no index holds the columns it writes)."""
from sqlalchemy import inspect, text

from portal.extensions import db


def test_prepared_rows_have_no_foreign_key_on_postgresql(pg_ctx):
    assert inspect(db.engine).get_foreign_keys("prepared_rows") == []
    # (the other tables that point at a run keep theirs)
    assert [fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys("report_items")] == ["runs"]


def test_the_export_s_update_of_processed_can_stay_on_the_page(pg_ctx):
    options = db.session.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'prepared_rows'")).scalar()
    assert "fillfactor=45" in options
    written = {"processed", "export_pass"}
    for index in inspect(db.engine).get_indexes("prepared_rows"):
        assert not written & set(index["column_names"]), index["name"]
