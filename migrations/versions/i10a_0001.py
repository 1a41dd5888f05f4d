"""Change markers on the source tables, so that an incremental run reads only what changed (issue 10).

Every source table an export payload reads gets ``row_version``: a number that grows with every write,
maintained by the database itself (whoever writes: the import, the demo seed, the ORM, plain SQL):

- PostgreSQL: the writing transaction's id (``pg_current_xact_id()``, 64 bits, never wraps): the
  column's default on INSERT, a BEFORE UPDATE trigger on UPDATE. A run's watermark is the lowest id of
  the transactions in progress (in this database) when it prepares (``exporting.changes.watermark``),
  so a transaction that commits after the watermark always carries a marker at or above it.
- SQLite: a generation counter (``source_clock``, one row). Writers mark rows with the current
  generation (AFTER INSERT/UPDATE triggers, or the bulk loader directly); a run takes its watermark by
  advancing the counter under SQLite's single write lock, so every earlier writer has committed.

A kit component's change moves its product's marker (the product's payload counts its components).
The run's watermark is kept on the run and on the ledger entries it records (``source_version``);
ledger entries from before this migration have none, so their records are read once more, as before.

Revision ID: i10a_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "i10a_0001"
down_revision = "i10d_0001"
branch_labels = None
depends_on = None

# The source tables whose rows an export payload reads (kit components: through their product).
MARKED = ("companies", "departments", "debtors", "employees", "cost_centres", "cost_units", "suppliers",
          "journal_lines", "invoice_lines", "time_registrations", "payments", "purchase_orders",
          "purchase_order_lines", "products")
PG_XID = "(pg_current_xact_id()::text::bigint)"
SQLITE_NOW = "(SELECT value FROM source_clock WHERE id = 1)"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("runs", "ledger_entries", "ledger_current"):
        op.add_column(table, sa.Column("source_version", sa.BigInteger(), nullable=True))
    if not postgres:
        op.execute("CREATE TABLE source_clock (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)")
        op.execute("INSERT INTO source_clock (id, value) VALUES (1, 1)")
    for table in MARKED:
        # Existing rows: 0 (older than any watermark; the ledger's existing entries have none, so they
        # are read once more anyway). No table rewrite on PostgreSQL: the default changes afterwards.
        op.add_column(table, sa.Column("row_version", sa.BigInteger(), nullable=False, server_default="0"))
    if postgres:
        op.execute(f"""
            CREATE FUNCTION portal_mark_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.row_version := {PG_XID}; RETURN NEW; END $$""")
        op.execute("""
            CREATE FUNCTION portal_mark_kit_product() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN UPDATE products SET row_version = 0 WHERE id = OLD.product_id; END IF;
                IF TG_OP <> 'DELETE' THEN UPDATE products SET row_version = 0 WHERE id = NEW.product_id; END IF;
                RETURN NULL;
            END $$""")
        for table in MARKED:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN row_version SET DEFAULT {PG_XID}")
            op.execute(f"CREATE TRIGGER {table}_row_version BEFORE UPDATE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION portal_mark_row()")
        op.execute("CREATE TRIGGER kit_components_mark_product AFTER INSERT OR UPDATE OR DELETE ON kit_components "
                   "FOR EACH ROW EXECUTE FUNCTION portal_mark_kit_product()")
        return
    for table in MARKED:
        # A writer that sets the marker itself (the bulk loader) is left alone.
        op.execute(f"""
            CREATE TRIGGER {table}_row_version_insert AFTER INSERT ON {table} FOR EACH ROW
            WHEN NEW.row_version = 0
            BEGIN UPDATE {table} SET row_version = {SQLITE_NOW} WHERE rowid = NEW.rowid; END""")
        op.execute(f"""
            CREATE TRIGGER {table}_row_version_update AFTER UPDATE ON {table} FOR EACH ROW
            WHEN NEW.row_version = OLD.row_version
            BEGIN UPDATE {table} SET row_version = {SQLITE_NOW} WHERE rowid = NEW.rowid; END""")
    for event, ids in (("INSERT", "NEW.product_id"), ("UPDATE", "OLD.product_id, NEW.product_id"),
                       ("DELETE", "OLD.product_id")):
        op.execute(f"""
            CREATE TRIGGER kit_components_mark_product_{event.lower()} AFTER {event} ON kit_components
            FOR EACH ROW
            BEGIN UPDATE products SET row_version = {SQLITE_NOW} WHERE id IN ({ids}); END""")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER kit_components_mark_product ON kit_components")
        for table in MARKED:
            op.execute(f"DROP TRIGGER {table}_row_version ON {table}")
        op.execute("DROP FUNCTION portal_mark_kit_product()")
        op.execute("DROP FUNCTION portal_mark_row()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER kit_components_mark_product_{event}")
        for table in MARKED:
            op.execute(f"DROP TRIGGER {table}_row_version_insert")
            op.execute(f"DROP TRIGGER {table}_row_version_update")
        op.execute("DROP TABLE source_clock")
    for table in MARKED:
        op.drop_column(table, "row_version")
    for table in ("runs", "ledger_entries", "ledger_current"):
        op.drop_column(table, "source_version")
