"""Registered hours (roster). Overlapping registrations of one employee are reported, both rows named."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, case, literal, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Company, CostCentre, Employee, TimeRegistration
from ...models.exporting import Severity
from ..formats import Column
from . import register
from . import sql
from .base import ExportType, Issue, iso, marker_of


@register
class Hours(ExportType):
    key = "hours"
    label_columns = ("employee_name", "starts_at")    # the record key is the registration's id (H123)
    label = _l("Hours")
    model = TimeRegistration
    window_kind = "datetime"
    required = ("employee_number", "activity")

    def columns(self):
        return [
            Column("company_code", _l("Company"), "text"),
            Column("registration_id", _l("Registration"), "int"),
            Column("employee_number", _l("Employee number"), "text"),
            Column("employee_name", _l("Employee"), "text"),
            Column("date", _l("Date"), "date"),
            Column("starts_at", _l("Start"), "datetime"),
            Column("ends_at", _l("End"), "datetime"),
            Column("hours", _l("Hours"), "decimal"),
            Column("activity", _l("Activity"), "text"),
            Column("cost_centre", _l("Cost centre"), "text"),
        ]

    def _scope(self, table, ctx):
        condition = self.window_filter(table.starts_at, ctx)
        if ctx.company_id is not None:
            condition = condition & (table.company_id == ctx.company_id)
        return condition

    def select(self, ctx):
        return (select(TimeRegistration.id.label("source_id"), TimeRegistration.starts_at.label("window_value"),
                       TimeRegistration.company_id, TimeRegistration.starts_at,
                       TimeRegistration.ends_at, TimeRegistration.activity, Company.code.label("company_code"),
                       Employee.number.label("employee_number"), Employee.name.label("employee_name"),
                       CostCentre.code.label("cost_centre"))
                .join(Company, Company.id == TimeRegistration.company_id)
                .join(Employee, Employee.id == TimeRegistration.employee_id)
                .outerjoin(CostCentre, CostCentre.id == TimeRegistration.cost_centre_id)
                .where(self._scope(TimeRegistration, ctx)))

    def sql_source(self, ctx, dialect):
        stmt = (select(TimeRegistration.id).select_from(TimeRegistration)
                .join(Company, Company.id == TimeRegistration.company_id)
                .join(Employee, Employee.id == TimeRegistration.employee_id)
                .outerjoin(CostCentre, CostCentre.id == TimeRegistration.cost_centre_id)
                .where(self._scope(TimeRegistration, ctx)))
        starts_at = sql.iso_datetime(TimeRegistration.starts_at, dialect)
        seconds = sql.whole_seconds(TimeRegistration.starts_at, TimeRegistration.ends_at, dialect)
        return sql.SqlSource(
            select=stmt, source_id=TimeRegistration.id, record_key=sql.concat("H", TimeRegistration.id),
            window_value=starts_at, company_id=TimeRegistration.company_id, required=self.required,
            headers={column.key: column.header for column in self.columns()},
            payload=[("company_code", Company.code), ("registration_id", TimeRegistration.id),
                     ("employee_number", Employee.number), ("employee_name", Employee.name),
                     # The day in the organisation's time zone; the times as stored (UTC), as ``payload``.
                     ("date", sql.local_date(TimeRegistration.starts_at, ctx, dialect)),
                     ("starts_at", starts_at), ("ends_at", sql.iso_datetime(TimeRegistration.ends_at, dialect)),
                     ("hours", sql.hours_text(seconds, dialect)), ("activity", TimeRegistration.activity),
                     ("cost_centre", sql.text_or_empty(CostCentre.code)),
                     ("company_id", TimeRegistration.company_id)])

    def payload(self, row, ctx):
        reg = row
        starts = ctx.local(reg.starts_at)
        seconds = Decimal(int((reg.ends_at - reg.starts_at).total_seconds()))
        return {
            "company_code": row.company_code, "registration_id": row.source_id,
            "employee_number": row.employee_number, "employee_name": row.employee_name,
            "date": starts.date().isoformat(), "starts_at": iso(reg.starts_at),
            "ends_at": iso(reg.ends_at), "hours": f"{seconds / 3600:.2f}",
            "activity": reg.activity, "cost_centre": row.cost_centre or "", "company_id": reg.company_id,
        }

    def record_key(self, payload):
        return f"H{payload['registration_id']}"

    def set_issues(self, ctx):
        # Overlapping pairs, found by the database: for each registration, the employee's registrations that
        # start while it runs (a range of the index on employee and start, not every pair of the employee's
        # rows). Every overlapping pair is found once so: from the one that starts first (at the same start,
        # from the lower id). Named, as always, lower id first, ordered by its start.
        # The second's window is implied (it starts after the first, before the window's end), so that the
        # database has one lower and one upper bound for its index range, not the window's.
        first, second = aliased(TimeRegistration), aliased(TimeRegistration)
        _low, high = ctx.utc_bounds()
        until = case((first.ends_at < high, first.ends_at), else_=literal(high, DateTime))
        condition = ((second.employee_id == first.employee_id) & (second.starts_at >= first.starts_at)
                     & (second.starts_at < until) & (first.starts_at < second.ends_at)
                     & ((second.starts_at > first.starts_at) | (second.id > first.id)))
        if ctx.company_id is not None:
            condition = condition & (second.company_id == ctx.company_id)
        found = db.session.execute(
            select(Employee.number, first.id, first.starts_at, first.ends_at, second.id, second.starts_at,
                   second.ends_at)
            .join(first, first.employee_id == Employee.id)
            .join(second, condition)
            .where(self._scope(first, ctx)))
        pairs = []
        for number, a_id, a_starts, a_ends, b_id, b_starts, b_ends in found:
            one, other = (a_id, a_starts, a_ends), (b_id, b_starts, b_ends)
            if b_id < a_id:
                one, other = other, one
            pairs.append((number, *one, *other))
        pairs.sort(key=lambda pair: (pair[2], pair[1], pair[4]))
        issues = []
        for number, id1, s1, e1, id2, s2, e2 in pairs:
            # The times as stored (UTC, ISO): the report writes them in its reader's locale and the
            # organisation's zone ("H241 (02-10-2026, 08:00–12:00)", messages._localised).
            issues.append(Issue(Severity.WARNING, "hours_overlap",
                                {"employee": number, "first": f"H{id1}", "first_starts": iso(s1),
                                 "first_ends": iso(e1), "second": f"H{id2}", "second_starts": iso(s2),
                                 "second_ends": iso(e2)},
                                record_key=f"H{id1}"))
        return issues

    def changed_since(self, stmt, changes):
        # Incremental runs read only what changed (``exporting.changes``): the registration, its company,
        # employee and cost centre (looked up by id, whatever the statement joins).
        return changes.only(stmt, key=sql.concat("H", TimeRegistration.id),
                            markers=(TimeRegistration.row_version, marker_of(Company, TimeRegistration.company_id),
                                     marker_of(Employee, TimeRegistration.employee_id),
                                     marker_of(CostCentre, TimeRegistration.cost_centre_id)))
