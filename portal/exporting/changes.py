"""Incremental runs read only what changed (issue 10).

Every source table an export payload reads carries a change marker, ``row_version``, that the
database moves on every write (migration i10a_0001: the import, the demo seed, the ORM and plain SQL all
move it). When a run prepares it takes a *watermark* first: a number such that every row whose marker is
below it was committed before the run reads the source (PostgreSQL: the oldest transaction still in
progress in this database; SQLite: the next generation of ``source_clock``, advanced under SQLite's
single write lock). A production run records its watermark with every ledger entry it writes
(``ledger_entries.source_version``, and so ``ledger_current``); a roll back restores the current ledger
from the history, watermarks included, so it restores this state exactly too.

An incremental run then reads, besides the records its sync type must see anyway, only:

- incremental_all: the records whose key is not in the profile's current ledger (new, left out by an
  earlier window, unticked, rejected or invalid), or whose ledger entry is not newer than every marker
  of the rows its payload reads (the record's own row, its line's header, the company, department,
  debtor, employee… it looks up). Anything else is exactly as it was read when the ledger's entry was
  prepared: its fingerprint would be the ledger's, so it is unchanged without being built;
- incremental_new: the records whose key is not in the current ledger.

The per-entry watermark (rather than one per profile) keeps this exact whatever windows the runs
had: a record changed while it was outside a production run's window is still read by the next run
whose window holds it. Reading a record that did not change is harmless: the fingerprint decides, as
before.

incremental_all finds the rows to read *and* the removals in one pass: a full outer join of the window's
keys and markers with the current ledger's keys for the window (its range and scope, as removals are
found). A window row without a ledger entry there, or whose entry is not newer than its markers, is read
(a record whose entry lies outside the window's range is read too: harmless, as above); a ledger entry
without a window row is gone from the source: a removal (``record_key`` in ``changed_sources``,
``sync.removals_found``; a type whose window is a change time keeps only the keys the source lacks in its
scope whatever the window: ``_keep_gone``). That is PostgreSQL's plan (a hash full join: each side read
once). SQLite keeps two key-only anti-joins, one each way (the rows to read: a probe of the current
ledger's primary key per window row; the removals: ``NOT IN`` the window's keys, ``sync.removals_against``): its full outer join
runs the unmatched side as a scan of the whole ``ledger_current`` (every profile's, payloads included),
and with the ledger side as a subquery it probes it by a scan per window row — measured at 1,000,000: no
faster than the two anti-joins at best. incremental_new has no removals: one key-only anti-join against
the whole current ledger. The counts still add up: what is not read is counted unchanged (``finish``), so new +
changed + unchanged = the records in the window, counted by a key-only count.

A full run reads everything (it delivers every record).
"""
from contextlib import contextmanager

from sqlalchemy import and_, case, delete, func, insert, literal, literal_column, null, or_, select, text

from ..extensions import db
from ..models.exporting import ChangedSource, LedgerCurrent
from . import debtor_selection

INCREMENTAL = ("incremental_all", "incremental_new")
HASH_MEMORY_BYTES = 64 * 1024 * 1024


# PostgreSQL: the oldest transaction still in progress that could write this database's tables (the
# snapshot's in-progress ids, less those of backends connected to other databases and of autovacuum,
# which writes no table rows: they must not hold the watermark back; an id no backend claims — a
# prepared transaction, one just ended — is kept), else the next transaction id. A transaction in progress
# marks its rows with its own id, at or above it, even when it commits after the source was read; every
# id below it has ended (committed: the read sees it).
_PG_WATERMARK = """
    WITH snap AS (SELECT pg_current_snapshot() AS s)
    SELECT COALESCE(
        (SELECT MIN(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                           WHERE a.backend_xid IS NOT NULL
                             AND a.backend_xid::text::bigint = x::text::bigint % 4294967296
                             AND (a.datname <> current_database() OR a.backend_type = 'autovacuum worker'))),
        (SELECT pg_snapshot_xmax(snap.s)::text::bigint FROM snap))
"""


def watermark():
    """The watermark for a prepare that is about to read the source: every row whose marker is below it
    was committed before, so the read sees it as it is."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.execute(text(_PG_WATERMARK)).scalar()
    # SQLite has one writer at a time: holding the write lock, no writer is half-way. Rows written before
    # carry an older generation; rows written from now on carry this one (or a later one).
    connection.execute(text("UPDATE source_clock SET value = value + 1 WHERE id = 1"))
    return connection.execute(text("SELECT value FROM source_clock WHERE id = 1")).scalar()


class Changes:
    """What one prepare reads. ``only`` keeps a source SELECT to the records that may have changed (each
    export type calls it from its ``changed_since``, naming its record key and markers); ``finish``
    counts the rest of the window as unchanged. ``scope``: (low, high, company id, subjects) of the
    removals, for incremental_all (the ledger's records of the window: ``sync.removals_against``)."""

    def __init__(self, run, sync_type, dialect, scope=None, outside=None):
        self.run = run
        self.profile_id = run.profile_id
        self.sync_type = sync_type
        self.dialect = dialect
        self.scope = scope
        self.key = None          # the record key expression the type named (for removals by key)
        self.newest = None       # the newest of its markers, as SQL
        self.window = None       # the unfiltered SELECT of the window (None: nothing was left out)
        self.window_count = None
        self.removals_found = False     # the removals are in ``changed_sources`` (``sync.removals_found``)
        # A type whose window is a change time: (the source in scope whatever the window, its key as SQL). A
        # record the window lacks is gone only when this lacks it too (``engine._outside_window``).
        self.outside = outside

    def read(self, export_type, source, source_id):
        """``source`` as the run must read it (unchanged for a full run or a type without markers); the
        window's record count is taken here, before the read, by a key-only count."""
        if self.sync_type not in INCREMENTAL:
            return source
        filtered = export_type.changed_since(source, self)
        if filtered is None:
            return source
        self.window = source
        self.window_count = db.session.execute(select(func.count()).select_from(
            source.with_only_columns(source_id).subquery())).scalar()
        # The rows to read, found once and then read by id: the planner sees how few they are (it cannot
        # tell from the join, and would plan the rest of the statement for the whole window).
        run_id = self.run.id
        db.session.execute(delete(ChangedSource).where(ChangedSource.run_id == run_id))
        if self.sync_type == "incremental_all" and self.scope is not None and self.dialect == "postgresql":
            with self._hash_memory():
                db.session.execute(self._one_pass(source, source_id))
            if self.outside is not None:
                self._keep_gone(run_id)
            self.removals_found = True
        else:
            db.session.execute(insert(ChangedSource).from_select(
                ["run_id", "source_id"], filtered.with_only_columns(literal(run_id), source_id)))
        if self.dialect == "postgresql":
            db.session.execute(text("ANALYZE changed_sources"))
        return source.where(source_id.in_(select(ChangedSource.source_id).where(
            ChangedSource.run_id == run_id, ChangedSource.source_id.is_not(None))))

    @contextmanager
    def _hash_memory(self):
        """PostgreSQL: the one pass hashes the window's ledger keys (~64 MB at 1,000,000): with the default
        ``work_mem`` (4 MB) in eight batches written to disk and read back (~1 s of 3.4 at 1,000,000). For
        that statement only, in this transaction, at least 64 MB."""
        previous = db.session.execute(text(
            "SELECT current_setting('work_mem'), pg_size_bytes(current_setting('work_mem'))")).one()
        if previous[1] < HASH_MEMORY_BYTES:
            db.session.execute(text("SELECT set_config('work_mem', :value, true)"),
                               {"value": f"{HASH_MEMORY_BYTES // 1024}kB"})
        yield
        db.session.execute(text("SELECT set_config('work_mem', :value, true)"), {"value": previous[0]})

    def _one_pass(self, source, source_id):
        """incremental_all: one full outer join of the window (id, key, newest marker) with the current
        ledger's keys and watermarks of the window's range and scope, into ``changed_sources``: the rows
        to read (by id) and the records gone (by key), at once."""
        low, high, company_id, subjects = self.scope
        window = source.with_only_columns(source_id.label("source_id"), self.key.label("record_key"),
                                          self.newest.label("newest")).subquery("w")
        current = LedgerCurrent.__table__
        conditions = [current.c.profile_id == self.profile_id, current.c.window_value >= low,
                      current.c.window_value < high]
        if company_id is not None:
            conditions.append(current.c.company_id == company_id)
        if subjects:      # the debtor selection: by the ledger's company and subject (debtor number)
            conditions.append(debtor_selection.condition(current.c.company_id, current.c.subject_key, subjects))
        known = select(current.c.record_key, current.c.source_version).where(*conditions).subquery("known")
        joined = window.outerjoin(known, known.c.record_key == window.c.record_key, full=True)
        found = select(literal(self.run.id), window.c.source_id,
                       case((window.c.source_id.is_(None), known.c.record_key), else_=null())) \
            .select_from(joined).where(or_(
                window.c.source_id.is_(None),              # gone from the source: a removal
                known.c.record_key.is_(None),              # not in the ledger (for this window): read
                known.c.source_version.is_(None),          # an entry from before change markers: read
                known.c.source_version <= window.c.newest))   # changed since its entry was prepared: read
        return insert(ChangedSource).from_select(["run_id", "source_id", "record_key"], found)

    def _keep_gone(self, run_id):
        """A change-time window (``outside``): of the keys the one pass found without a window row, those the
        source still has in scope left the window by a later change — not removals (nor read: the run whose
        window holds their new change time delivers them). One semi-join, only when there are such keys."""
        candidates = and_(ChangedSource.run_id == run_id, ChangedSource.source_id.is_(None))
        if db.session.execute(select(literal(1)).where(candidates).limit(1)).first() is None:
            return
        source, key = self.outside
        db.session.execute(delete(ChangedSource).where(
            candidates, ChangedSource.record_key.in_(source.with_only_columns(key).where(key.is_not(None)))))

    def removals_against(self, window, key):
        """What a ledger record of the window is removed against, when this run's one pass did not find the
        removals (``removals_found``): the (SELECT, record key as SQL) that no longer has its key. A type
        whose window is a change time: the source in scope whatever the window (``outside``); else
        ``window``, ``key`` (the run's whole window; None, None: the run's prepared rows)."""
        return self.outside if self.outside is not None else (window, key)

    def only(self, stmt, key, markers):
        """``stmt`` kept to the records an incremental run must read (module docstring). ``key``: the
        record key as SQL (equal to the type's ``record_key``); ``markers``: the ``row_version`` of every
        row the payload reads, joined in ``stmt`` (an outer join's may be NULL)."""
        self.key = key
        marks = [func.coalesce(marker, 0) for marker in markers]
        self.newest = marks[0] if len(marks) == 1 else (
            func.greatest(*marks) if self.dialect == "postgresql" else func.max(*marks))
        current = LedgerCurrent.__table__.alias("known")
        profile = current.c.profile_id
        if self.dialect == "sqlite":
            # SQLite would probe the primary key (unique) and then read the row for its watermark: ``+ 0``
            # keeps it off the primary key, so it probes ``ix_ledger_current_key`` and reads nothing else
            # (1.0 → 0.6 s of CPU at 1,000,000).
            profile = profile + literal_column("0")
        known = and_(profile == self.profile_id, current.c.record_key == key)
        if self.sync_type == "incremental_all":
            known = and_(known, current.c.source_version > self.newest)
        return stmt.where(~select(literal(1)).select_from(current).where(known).exists())

    def window_keys(self):
        """The record keys of the whole window (for removals: a key-only anti-join), or None."""
        if self.window is None:
            return None
        return self.window.with_only_columns(self.key.label("record_key"))

    def finish(self, removed):
        """After the prepare: the records of the window that were not read are unchanged (counted, so
        that new + changed + unchanged still add up to the records in the window)."""
        counts = dict(self.run.counts or {})
        read = counts.get("records", 0)
        counts["read"] = read
        if self.window is not None:
            db.session.execute(delete(ChangedSource).where(ChangedSource.run_id == self.run.id))
            unread = max(self.window_count - read, 0)
            counts.update(records=read + unread, unchanged=counts.get("unchanged", 0) + unread)
        self.run.counts = counts
        return removed
