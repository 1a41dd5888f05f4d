"""Sync semantics (DESIGN §4), computed by the database with set operations against the ledger.

The ledger is append-only (``ledger_entries``, the history). What it *currently* holds for a profile:
per record key, the latest entry that counts (not rolled back); a key whose latest entry is a removal
is not in the ledger. That is kept as a table of its own, ``ledger_current`` (one row per profile and
record key), updated in the same transaction as the history: by ``append_ledger`` (a production run's
commit) and ``restore_current`` (a roll back). Comparing a run with the ledger is then an index join.
Everything here is one SQL statement over the whole run: no per-row lookups in Python.
"""
from sqlalchemy import String, and_, bindparam, false, func, insert, literal, null, select, text, true

from ..extensions import db
from ..models import utcnow
from ..models.exporting import ChangedSource, LedgerCurrent, PreparedRow
from . import debtor_selection

# The current ledger of one profile.
CURRENT = """
    SELECT c.record_key, c.fingerprint, c.window_value, c.group_key, c.company_id, c.subject_key, c.payload
    FROM ledger_current c WHERE c.profile_id = :profile
"""

# The same, derived from the history (what ``ledger_current`` must always equal; ``keys_sql`` limits it
# to some record keys).
_FROM_HISTORY = """
    SELECT l.profile_id, l.record_key, l.fingerprint, l.window_value, l.group_key, l.company_id, l.subject_key,
           l.payload, l.id, l.run_id, l.source_version
    FROM ledger_entries l
    WHERE l.profile_id = :profile AND l.removed = :false AND l.id IN (
        SELECT MAX(m.id) FROM ledger_entries m
        WHERE m.profile_id = :profile AND m.rolled_back = :false {keys}
        GROUP BY m.record_key)
"""
_CURRENT_COLUMNS = ("profile_id, record_key, fingerprint, window_value, group_key, company_id, subject_key, "
                    "payload, entry_id, run_id, source_version")


def _execute(sql, **params):
    params.setdefault("false", False)
    params.setdefault("true", True)
    return db.session.execute(text(sql), params)


def mark_mutations(run_id, profile_id, sync_type="full"):
    """Every prepared row is inserted as 'new'; those in the ledger with another fingerprint become
    'changed'. A full run also marks the rest of the ledger's records 'unchanged' (it delivers them);
    the incremental types leave them to ``drop_undelivered``, which removes them without updating."""
    _execute(f"""
        UPDATE prepared_rows SET mutation = 'changed'
        FROM ({CURRENT}) AS cur
        WHERE prepared_rows.run_id = :run AND prepared_rows.record_key = cur.record_key
          AND prepared_rows.fingerprint <> cur.fingerprint
    """, run=run_id, profile=profile_id)
    if sync_type == "full":
        _execute(f"""
            UPDATE prepared_rows SET mutation = 'unchanged'
            FROM ({CURRENT}) AS cur
            WHERE prepared_rows.run_id = :run AND prepared_rows.record_key = cur.record_key
              AND prepared_rows.fingerprint = cur.fingerprint
        """, run=run_id, profile=profile_id)


def drop_undelivered(run_id, profile_id, sync_type):
    """incremental_all keeps new and changed rows; incremental_new keeps new rows; full keeps all.
    (Run after ``add_removals``, which needs every record of the source to be present.)"""
    if sync_type == "incremental_all":
        _execute(f"""
            DELETE FROM prepared_rows WHERE run_id = :run AND mutation <> 'removed' AND EXISTS (
                SELECT 1 FROM ({CURRENT}) AS cur
                WHERE cur.record_key = prepared_rows.record_key AND cur.fingerprint = prepared_rows.fingerprint)
        """, run=run_id, profile=profile_id)
    elif sync_type == "incremental_new":
        _execute(f"""
            DELETE FROM prepared_rows WHERE run_id = :run AND EXISTS (
                SELECT 1 FROM ({CURRENT}) AS cur WHERE cur.record_key = prepared_rows.record_key)
        """, run=run_id, profile=profile_id)


def add_removals(run_id, profile_id, *, seq_base, low, high, company_id=None, subjects=None, count_only=False,
                 window=None, key=None, found=False):
    """Records in the ledger for the window (and scope) that are gone from the source: removals.

    Inserted as prepared rows with mutation 'removed' and the delivered payload (the base of a
    cancellation line). Returns how many there are; ``count_only`` counts without inserting.
    Gone from the source: no prepared row has its key — or, when the run read only what changed
    (``changes``), the whole ``window``'s SELECT has no row whose ``key`` (SQL) is it; ``found``: that
    run's one pass over the window found them already (``removals_found``).
    """
    if found:
        removals = removals_found(run_id, profile_id, seq_base=seq_base)
        if count_only:
            return db.session.execute(removals["count"]).scalar()
        db.session.execute(removals["insert"])
        return _removed_count(run_id)
    if window is not None:
        return _removals_from_window(run_id, profile_id, window, key, seq_base=seq_base, low=low, high=high,
                                     company_id=company_id, subjects=subjects, count_only=count_only)
    conditions = ["cur.window_value >= :low", "cur.window_value < :high",
                  "NOT EXISTS (SELECT 1 FROM prepared_rows p WHERE p.run_id = :run "
                  "AND p.record_key = cur.record_key)"]
    params = {"run": run_id, "profile": profile_id, "low": low, "high": high, "seq_base": seq_base}
    if company_id is not None:
        conditions.append("cur.company_id = :company")
        params["company"] = company_id
    stmt_params = []
    if subjects:
        # The debtor selection: each debtor by the ledger's company and its subject (the debtor number).
        per_company = {}
        for subject_company, number in subjects:
            per_company.setdefault(subject_company, set()).add(number)
        either = []
        for position, (subject_company, numbers) in enumerate(per_company.items()):
            name = f"subjects_{position}"
            params[name] = sorted(numbers)
            stmt_params.append(bindparam(name, expanding=True))
            if subject_company is None:
                either.append(f"cur.subject_key IN :{name}")
            else:
                params[f"subject_company_{position}"] = subject_company
                either.append(f"(cur.company_id = :subject_company_{position} AND cur.subject_key IN :{name})")
        conditions.append("(" + " OR ".join(either) + ")")
    where = " AND ".join(conditions)
    if count_only:
        sql = text(f"SELECT COUNT(*) FROM ({CURRENT}) AS cur WHERE {where}").bindparams(*stmt_params)
        return db.session.execute(sql, dict(params, false=False)).scalar()
    sql = text(f"""
        INSERT INTO prepared_rows (run_id, seq, record_key, fingerprint, mutation, window_value, group_key,
                                   company_id, subject_key, payload, active, processed, invalid)
        SELECT :run, :seq_base + ROW_NUMBER() OVER (ORDER BY cur.record_key), cur.record_key, NULL, 'removed',
               cur.window_value, cur.group_key, cur.company_id, cur.subject_key, cur.payload, :true, :false, :false
        FROM ({CURRENT}) AS cur
        WHERE {where}
    """).bindparams(*stmt_params)
    return db.session.execute(sql, dict(params, false=False, true=True)).rowcount


def _removals_from_window(run_id, profile_id, window, key, *, seq_base, low, high, company_id, subjects, count_only):
    """``add_removals`` by a key-only anti-join against the window's source SELECT (one statement)."""
    removals = removals_against(run_id, profile_id, window, key, seq_base=seq_base, low=low, high=high,
                                company_id=company_id, subjects=subjects)
    if count_only:
        return db.session.execute(removals["count"]).scalar()
    db.session.execute(removals["insert"])
    return _removed_count(run_id)


def _removed_count(run_id):
    # (psycopg reports no row count for an INSERT … SELECT with a window function: counted instead)
    return db.session.execute(select(func.count()).where(
        PreparedRow.run_id == run_id, PreparedRow.mutation == "removed")).scalar()


def removals_against(run_id, profile_id, source, key, *, seq_base, low, high, company_id=None, subjects=None):
    """The current ledger's records in the window (``low``–``high``, and scope) whose key no row of the
    ``source`` SELECT has (``key``: its record key as SQL): one key-only anti-join, for both engines.
    {"insert": them as 'removed' prepared rows with the delivered payload (a cancellation's base),
    "count": how many}."""
    cur = LedgerCurrent.__table__.alias("cur")
    if db.session.connection().dialect.name == "postgresql":      # an anti-join (hashed or merged)
        gone = ~source.with_only_columns(literal(1)).where(key == cur.c.record_key).exists()
    else:
        # SQLite runs a correlated EXISTS once per ledger row: a scan each when the key is an expression
        # (``invoice_number || '/' || line_no``). NOT IN reads the source's keys once, into an index.
        gone = cur.c.record_key.not_in(source.with_only_columns(key).where(key.is_not(None)))
    conditions = [cur.c.profile_id == profile_id, cur.c.window_value >= low, cur.c.window_value < high, gone]
    if company_id is not None:
        conditions.append(cur.c.company_id == company_id)
    if subjects:
        conditions.append(debtor_selection.condition(cur.c.company_id, cur.c.subject_key, subjects))
    return {"insert": _removed_rows(run_id, seq_base, cur, cur, conditions),
            "count": select(func.count()).select_from(cur).where(*conditions)}


def removals_found(run_id, profile_id, *, seq_base):
    """The same as ``removals_against``, for the records an incremental_all run's one pass over its window
    found gone (``changes``: their keys in ``changed_sources``, without a source row): read from the
    current ledger by key."""
    cur = LedgerCurrent.__table__.alias("cur")
    gone = ChangedSource.__table__.alias("gone")
    is_gone = and_(gone.c.run_id == run_id, gone.c.source_id.is_(None))
    joined = gone.join(cur, and_(cur.c.profile_id == profile_id, cur.c.record_key == gone.c.record_key))
    return {"insert": _removed_rows(run_id, seq_base, cur, joined, [is_gone]),
            "count": select(func.count()).select_from(gone).where(is_gone)}


def _removed_rows(run_id, seq_base, cur, from_, conditions):
    """INSERT of the current ledger's rows ``cur`` (in ``from_``, where ``conditions``) as 'removed' prepared
    rows with the delivered payload (a cancellation's base), numbered after ``seq_base`` by key."""
    rows = select(literal(run_id), literal(seq_base) + func.row_number().over(order_by=cur.c.record_key),
                  cur.c.record_key, null(), literal("removed", String), cur.c.window_value, cur.c.group_key,
                  cur.c.company_id, cur.c.subject_key, cur.c.payload, true(), false(), false()) \
        .select_from(from_).where(*conditions)
    return insert(PreparedRow).from_select(
        ["run_id", "seq", "record_key", "fingerprint", "mutation", "window_value", "group_key", "company_id",
         "subject_key", "payload", "active", "processed", "invalid"], rows)


def append_ledger(run_id, profile_id, export_pass):
    """Production: what this export pass delivered goes into the ledger (unchanged rows add nothing),
    and the current ledger follows (same transaction: the caller commits both or neither). Each entry
    carries the watermark the run's prepare took (``changes``): the source as it was read then."""
    count = _execute("""
        INSERT INTO ledger_entries (profile_id, record_key, fingerprint, removed, window_value, group_key,
                                    company_id, subject_key, payload, run_id, rolled_back, created_at,
                                    source_version)
        SELECT :profile, p.record_key, p.fingerprint, CASE WHEN p.mutation = 'removed' THEN :true ELSE :false END,
               p.window_value, p.group_key, p.company_id, p.subject_key, p.payload, :run, :false, :now,
               (SELECT r.source_version FROM runs r WHERE r.id = :run)
        FROM prepared_rows p
        WHERE p.run_id = :run AND p.export_pass = :pass AND p.processed = :true AND p.mutation <> 'unchanged'
    """, run=run_id, profile=profile_id, now=utcnow(), **{"pass": export_pass}).rowcount
    if count:
        # The run's entries are the newest of their keys: the current ledger takes the run's latest entry
        # per key (a removal takes the key out).
        _execute("""
            DELETE FROM ledger_current WHERE profile_id = :profile AND record_key IN (
                SELECT record_key FROM ledger_entries WHERE run_id = :run)
        """, run=run_id, profile=profile_id)
        _execute(f"""
            INSERT INTO ledger_current ({_CURRENT_COLUMNS})
            SELECT l.profile_id, l.record_key, l.fingerprint, l.window_value, l.group_key, l.company_id,
                   l.subject_key, l.payload, l.id, l.run_id, l.source_version
            FROM ledger_entries l
            WHERE l.run_id = :run AND l.removed = :false AND l.rolled_back = :false AND l.id IN (
                SELECT MAX(m.id) FROM ledger_entries m WHERE m.run_id = :run GROUP BY m.record_key)
        """, run=run_id, profile=profile_id)
    return count


def roll_back_ledger(run_id, profile_id):
    """A roll back: the run's entries stop counting, and the current ledger of the keys they touched is
    derived again from the history (what counted before the run). Returns how many entries stopped."""
    count = _execute("UPDATE ledger_entries SET rolled_back = :true WHERE run_id = :run AND rolled_back = :false",
                     run=run_id).rowcount
    restore_current(profile_id, run_id=run_id)
    return count


def restore_current(profile_id, run_id=None):
    """Derive the current ledger of a profile again from the history: of the keys a run touched, or (no
    ``run_id``) of every key."""
    keys = "AND m.record_key IN (SELECT k.record_key FROM ledger_entries k WHERE k.run_id = :run)" if run_id else ""
    if run_id:
        _execute("""
            DELETE FROM ledger_current WHERE profile_id = :profile AND record_key IN (
                SELECT record_key FROM ledger_entries WHERE run_id = :run)
        """, run=run_id, profile=profile_id)
    else:
        _execute("DELETE FROM ledger_current WHERE profile_id = :profile", profile=profile_id)
    params = {"profile": profile_id}
    if run_id:
        params["run"] = run_id
    _execute(f"INSERT INTO ledger_current ({_CURRENT_COLUMNS}) {_FROM_HISTORY.format(keys=keys)}", **params)


def current_from_history(profile_id):
    """{record key: (fingerprint, window value, group, entry id, source version)} as the history says it is
    now (for tests: ``ledger_current`` must always equal it)."""
    rows = _execute(f"SELECT * FROM ({_FROM_HISTORY.format(keys='')}) AS h", profile=profile_id)
    return {row.record_key: (row.fingerprint, row.window_value, row.group_key, row.id, row.source_version)
            for row in rows}


def current_table(profile_id):
    """The same as ``current_from_history``, read from ``ledger_current``."""
    rows = _execute("SELECT record_key, fingerprint, window_value, group_key, entry_id, source_version "
                    "FROM ledger_current WHERE profile_id = :profile", profile=profile_id)
    return {row.record_key: (row.fingerprint, row.window_value, row.group_key, row.entry_id, row.source_version)
            for row in rows}


def mutation_counts(run_id):
    rows = _execute("SELECT mutation, COUNT(*) FROM prepared_rows WHERE run_id = :run GROUP BY mutation",
                    run=run_id)
    return {mutation: count for mutation, count in rows}


def current_ledger_count(profile_id):
    return _execute(f"SELECT COUNT(*) FROM ({CURRENT}) AS cur", profile=profile_id).scalar()


def current_ledger(profile_id):
    """{record key: fingerprint} of what counts now (for tests and diagnostics; small profiles only)."""
    rows = _execute(f"SELECT cur.record_key, cur.fingerprint FROM ({CURRENT}) AS cur", profile=profile_id)
    return dict(rows.all())


def delivered_payloads(profile_id, record_keys):
    """{record key: payload} of what the ledger holds now for ``record_keys`` (what was delivered: the
    base of a reversal when a record changed)."""
    if not record_keys:
        return {}
    sql = text(f"SELECT cur.record_key, cur.payload FROM ({CURRENT}) AS cur WHERE cur.record_key IN :keys") \
        .bindparams(bindparam("keys", expanding=True))
    rows = db.session.execute(sql, {"profile": profile_id, "keys": list(record_keys), "false": False})
    result = {}
    for key, payload in rows:
        if isinstance(payload, str):
            import json
            payload = json.loads(payload)
        result[key] = payload
    return result
