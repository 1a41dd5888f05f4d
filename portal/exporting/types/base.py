"""What an export type declares, and the helpers every type shares.

A type reads its source through one query (paged by key, so memory stays flat), turns each row into a
*payload* (what would be delivered: JSON-able values, decimals and dates as text), and declares:
its record key, its fingerprint (a hash of the payload without the run's own parameters), the
column its time window filters on, the parameters it accepts, its validations (report items, never
crashes), and its output columns with translatable headers.
"""
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true

from ...models.exporting import Severity
from ..formats import Column


@dataclass
class Issue:
    """One validation finding. ``invalid``: the row (or the group) is not delivered."""
    severity: str
    code: str
    params: dict = field(default_factory=dict)
    record_key: str | None = None
    group_key: str | None = None
    invalid: bool = False


@dataclass
class SourceContext:
    """What one run reads: time window (inclusive dates, org time zone), company scope, parameters.
    A window of None (``without_window``): the scope whatever the time."""
    window_start: date | None
    window_end: date | None
    company_id: int | None
    params: dict
    tz: object  # ZoneInfo of the organisation

    def without_window(self):
        """The same scope and parameters, whatever the time (``ExportType.window_is_change_time``)."""
        return replace(self, window_start=None, window_end=None)

    def utc_bounds(self):
        """[start, end) of the window in naive UTC, for datetime columns."""
        start = datetime.combine(self.window_start, time(0), tzinfo=self.tz).astimezone(timezone.utc)
        end = datetime.combine(self.window_end + timedelta(days=1), time(0), tzinfo=self.tz)
        return start.replace(tzinfo=None), end.astimezone(timezone.utc).replace(tzinfo=None)

    def window_value_bounds(self, kind):
        """[low, high) as the text stored in ``window_value``, for comparing in SQL."""
        if kind == "datetime":
            low, high = self.utc_bounds()
            return window_text(low), window_text(high)
        return self.window_start.isoformat(), (self.window_end + timedelta(days=1)).isoformat()

    def local(self, value):
        """A stored UTC time as the organisation's local wall time (what files show)."""
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc).astimezone(self.tz).replace(tzinfo=None)


def window_text(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def money(value):
    return None if value is None else f"{Decimal(value):.2f}"


def quantity(value):
    if value is None:
        return None
    text = f"{Decimal(value):.4f}".rstrip("0").rstrip(".")
    return text or "0"


def iso(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


def negate(value):
    if value in (None, ""):
        return value
    result = -Decimal(value)
    return format(result, "f") if result != 0 else format(Decimal(value), "f")


def marker_of(model, id_column):
    """The change marker (``row_version``) of the ``model`` row that ``id_column`` points to (NULL when it
    points nowhere): a correlated subquery, right whatever the statement joins or aliases."""
    return select(model.row_version).where(model.id == id_column).correlate_except(model.__table__) \
        .scalar_subquery()


MUTATION_COLUMN = Column("mutation", _l("Mutation"), "text")


class ExportType:
    key = ""
    label = ""
    model = None                   # the source table whose id pages the query
    window_kind = "date"           # "date" or "datetime"
    accepted_params = frozenset()  # run parameters beyond the window
    run_param_keys = frozenset()   # payload keys that come from the run, left out of the fingerprint
    required = ()                  # payload keys that must have a value
    supports_cancellation = False  # removals become cancellation lines
    # A changed record is delivered as the reversal of what was delivered (its ``cancellation``, mutation
    # ``reversal``) followed by the new version (journals: the books stay balanced per period).
    reverses_changes = False
    # The Flexybox way (DESIGN §4): the first record a provider rejects stops the delivery; the rest
    # stays unprocessed until someone resolves the problem and exports again (resumes).
    stop_on_error = False
    formats = ("csv", "jsonl", "xlsx")
    # The time window's column is a *change time* (products: ``updated_at``), not a date of the record's
    # business (a payment's time, an invoice's date): a record leaves the window by being changed again,
    # not only by going away. A ledger record of the window is then removed only when it is gone from the
    # source in the run's scope (company, debtors, routing) whatever its change time now — not when it
    # merely left the window (``engine._outside_window``; ``sync.removals_against``, ``changes``).
    window_is_change_time = False
    # Delivered in whole groups (``group_key``; journals: one per company and period, which must balance):
    # a group with an invalid row is held back whole, each other row reported with ``held_back_code``
    # (``engine._hold_back_groups``); a group with a row left unticked waits, whole, for the next export.
    whole_groups = False
    held_back_code = None

    # -- declarations ------------------------------------------------------------------------
    def columns(self):
        """Output columns (without the mutation column, which the engine adds first)."""
        raise NotImplementedError

    def output_columns(self, chosen=None):
        """The columns a profile chose, in its order (all of them, in ours, when it chose none)."""
        if not chosen:
            return self.columns()
        by_key = {column.key: column for column in self.columns()}
        return [by_key[key] for key in chosen if key in by_key]

    def takes(self, param):
        """Whether a run of this type takes ``param`` beyond its window (e.g. invoices take a booking
        date, a description and a debtor selection). The one place the start form and the engine ask."""
        return param in self.accepted_params

    def unknown_columns(self, chosen):
        known = {column.key for column in self.columns()}
        return [key for key in (chosen or []) if key not in known]

    def select(self, ctx):
        """A SELECT of the source rows in the window and scope; must label the paging id ``source_id``
        and the time-window value ``window_value``."""
        raise NotImplementedError

    def payload(self, row, ctx):
        raise NotImplementedError

    def record_key(self, payload):
        raise NotImplementedError

    def record_key_sql(self):
        """The record key as SQL over the type's source tables (equal to ``record_key``), right in any
        statement that reads them (``select``, ``sql_source``); None: not declared. A type whose window is
        a change time declares it: its removals are found by key in the source outside the window."""
        return None

    def sql_source(self, ctx, dialect):
        """The payload, record key and validations as SQL (``sql.SqlSource``), so that the engine prepares
        the run by one statement; None (the default): the engine builds payloads row by row in Python.
        The SQL payload must equal ``payload()`` value for value (tests compare them)."""
        return None

    def group_key(self, payload):
        return ""

    def subject_key(self, payload):
        return None

    # -- behaviour shared by all -------------------------------------------------------------
    def fingerprint(self, payload):
        content = {k: v for k, v in payload.items() if k not in self.run_param_keys}
        data = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def row_issues(self, payload, ctx):
        """Validations of one row. Default: the required values."""
        issues = []
        for name in self.required:
            if payload.get(name) in (None, ""):
                headers = {c.key: c.header for c in self.columns()}
                issues.append(Issue(Severity.ERROR, "missing_value",
                                    {"record": self.record_key(payload), "field": str(headers.get(name, name))},
                                    record_key=self.record_key(payload), invalid=True))
        return issues

    def set_issues(self, ctx):
        """Validations across rows, computed in SQL (e.g. overlapping hours, unbalanced journals)."""
        return []

    def check_start(self, ctx):
        """Refuse a run before it starts (raise ExportError)."""

    def route(self, stmt, finance_system):
        """``stmt`` (this type's ``select``) kept to the departments whose finance system is
        ``finance_system`` (seed 004), or None when this type is not routed per department."""
        return None

    def cancellation(self, payload):
        """The line that cancels a delivered record (types with ``supports_cancellation``)."""
        return payload

    def window_filter(self, column, ctx):
        if ctx.window_start is None:        # ``ctx.without_window()``
            return true()
        if self.window_kind == "datetime":
            low, high = ctx.utc_bounds()
            return (column >= low) & (column < high)
        return (column >= ctx.window_start) & (column <= ctx.window_end)

    def changed_since(self, stmt, changes):
        """``stmt`` (this type's ``select``, or its ``sql_source`` select) kept to the records an
        incremental run must read: ``changes.only(stmt, key=…, markers=…)`` with the record key as SQL
        (equal to ``record_key``) and the ``row_version`` change marker of every row the payload reads
        (``exporting.changes``). None (the default): the type declares no markers and every record of
        the window is read and compared. Each type declares it last in its class."""
        return None
