"""Payroll journals: one journal per company and period; a correction line is booked in the period it
corrects (``about_period``) and carries the reference of the payroll run it came with."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Company, CostCentre, CostUnit, Employee, JournalLine
from ...models.exporting import Severity
from ..errors import ExportError
from ..formats import Column
from . import register
from . import sql
from .base import ExportType, Issue, marker_of, money, negate


@register
class JournalEntries(ExportType):
    key = "journal_entries"
    label = _l("Journal entries")
    model = JournalLine
    window_kind = "date"
    required = ("account", "company_code")
    supports_cancellation = True
    reverses_changes = True
    # One journal per company and period, which balances: a journal with an invalid line is not delivered
    # without it — the whole journal is held back (DESIGN §4).
    whole_groups = True
    held_back_code = "journal_held_back"
    formats = ("csv", "jsonl", "xlsx", "sie4")

    def columns(self):
        return [
            Column("company_code", _l("Company code"), "text"),
            Column("company_name", _l("Company"), "text"),
            Column("journal_period", _l("Period"), "date"),
            Column("payroll_run_ref", _l("Payroll run"), "text"),
            Column("run_period", _l("Payroll period"), "date"),
            Column("line_no", _l("Line"), "int"),
            Column("account", _l("Account"), "text"),
            Column("account_name", _l("Account name"), "text"),
            Column("cost_centre", _l("Cost centre"), "text"),
            Column("cost_unit", _l("Cost unit"), "text"),
            Column("employee_number", _l("Employee number"), "text"),
            Column("debit", _l("Debit"), "decimal"),
            Column("credit", _l("Credit"), "decimal"),
            Column("description", _l("Description"), "text"),
            Column("is_correction", _l("Correction"), "bool"),
        ]

    def check_start(self, ctx):
        if ctx.company_id is not None:
            company = db.session.get(Company, ctx.company_id)
            if company is not None and company.is_test_company:
                raise ExportError(_l("Journals for %(company)s are refused: it is marked as a test company."),
                                  code="test_company_refused", company=company.name)

    def _base(self, ctx):
        condition = self.window_filter(JournalLine.run_period, ctx)
        if ctx.company_id is not None:
            condition = condition & (JournalLine.company_id == ctx.company_id)
        return condition

    def select(self, ctx):
        centre, unit = aliased(CostCentre), aliased(CostUnit)
        return (select(JournalLine.id.label("source_id"), JournalLine.run_period.label("window_value"),
                       *[c for c in JournalLine.__table__.c if c.name not in ("id", "cost_centre_id", "cost_unit_id",
                                                                               "employee_id")],
                       Company.code.label("company_code"), Company.name.label("company_name"),
                       centre.code.label("cost_centre"), unit.code.label("cost_unit"),
                       centre.name.label("cost_centre_name"), unit.name.label("cost_unit_name"),
                       Employee.number.label("employee_number"))
                .join(Company, Company.id == JournalLine.company_id)
                .outerjoin(centre, centre.id == JournalLine.cost_centre_id)
                .outerjoin(unit, unit.id == JournalLine.cost_unit_id)
                .outerjoin(Employee, Employee.id == JournalLine.employee_id)
                .where(self._base(ctx), Company.is_test_company.is_(False)))

    def sql_source(self, ctx, dialect):
        centre, unit = aliased(CostCentre), aliased(CostUnit)
        stmt = (select(JournalLine.id).select_from(JournalLine)
                .join(Company, Company.id == JournalLine.company_id)
                .outerjoin(centre, centre.id == JournalLine.cost_centre_id)
                .outerjoin(unit, unit.id == JournalLine.cost_unit_id)
                .outerjoin(Employee, Employee.id == JournalLine.employee_id)
                .where(self._base(ctx), Company.is_test_company.is_(False)))
        journal_period = sql.iso_date(JournalLine.about_period, dialect)
        run_period = sql.iso_date(JournalLine.run_period, dialect)
        return sql.SqlSource(
            select=stmt, source_id=JournalLine.id,
            record_key=sql.concat(JournalLine.payroll_run_ref, "/", JournalLine.line_no),
            window_value=run_period, company_id=JournalLine.company_id,
            # One journal per company and period (what ``set_issues`` balances and reversals keep whole).
            group_key=sql.concat(Company.code, "|", journal_period), required=self.required,
            headers={column.key: column.header for column in self.columns()},
            payload=[("company_code", Company.code), ("company_name", Company.name),
                     ("journal_period", journal_period), ("payroll_run_ref", JournalLine.payroll_run_ref),
                     ("run_period", run_period), ("line_no", JournalLine.line_no), ("account", JournalLine.account),
                     ("account_name", func.coalesce(func.nullif(JournalLine.account_name, ""), JournalLine.account)),
                     ("cost_centre", sql.text_or_empty(centre.code)), ("cost_unit", sql.text_or_empty(unit.code)),
                     ("cost_centre_name", sql.text_or_empty(centre.name)),
                     ("cost_unit_name", sql.text_or_empty(unit.name)),
                     ("employee_number", sql.text_or_empty(Employee.number)),
                     ("debit", sql.money(JournalLine.debit, dialect)),
                     ("credit", sql.money(JournalLine.credit, dialect)),
                     ("description", JournalLine.description),
                     ("is_correction", sql.json_bool(JournalLine.about_period != JournalLine.run_period, dialect)),
                     ("company_id", JournalLine.company_id)])

    def payload(self, row, ctx):
        line = row
        return {
            "company_code": row.company_code, "company_name": row.company_name,
            # Booked in the period it is about: a correction goes to the period it corrects.
            "journal_period": line.about_period.isoformat(),
            "payroll_run_ref": line.payroll_run_ref, "run_period": line.run_period.isoformat(),
            "line_no": line.line_no, "account": line.account,
            # Names from the source (SIE 4's #KONTO and #OBJEKT carry them); the code where it has none.
            "account_name": line.account_name or line.account,
            "cost_centre": row.cost_centre or "", "cost_unit": row.cost_unit or "",
            "cost_centre_name": row.cost_centre_name or "", "cost_unit_name": row.cost_unit_name or "",
            "employee_number": row.employee_number or "",
            "debit": money(line.debit), "credit": money(line.credit), "description": line.description,
            "is_correction": line.about_period != line.run_period,
            "company_id": line.company_id,
        }

    def record_key(self, payload):
        return f"{payload['payroll_run_ref']}/{payload['line_no']}"

    def group_key(self, payload):
        return f"{payload['company_code']}|{payload['journal_period']}"

    def cancellation(self, payload):
        cancelled = dict(payload)
        cancelled["debit"], cancelled["credit"] = payload["credit"], payload["debit"]
        return cancelled

    def set_issues(self, ctx):
        issues = []
        # A profile that covers every company leaves the test companies out, as it should: information,
        # not an error (nobody has to act; the red triangle means someone must).
        scope = self._base(ctx)
        tests = db.session.execute(
            select(Company.name).join(JournalLine, JournalLine.company_id == Company.id)
            .where(scope, Company.is_test_company.is_(True)).group_by(Company.name).order_by(Company.name))
        for (name,) in tests:
            issues.append(Issue(Severity.INFO, "test_company_left_out", {"company": name}))
        # One journal per company and period must balance.
        sums = db.session.execute(
            select(Company.code, JournalLine.about_period, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
            .join(Company, Company.id == JournalLine.company_id)
            .where(scope, Company.is_test_company.is_(False))
            .group_by(Company.code, JournalLine.about_period)
            # Rounded to the cent: SQLite sums money as binary floats (0.10 + 0.20 != 0.30 there).
            .having(func.round(func.sum(JournalLine.debit) - func.sum(JournalLine.credit), 2) != 0)
            .order_by(Company.code, JournalLine.about_period))
        for code, period, debit, credit in sums:
            issues.append(Issue(Severity.ERROR, "journal_unbalanced",
                                {"company": code, "period": period.isoformat(), "debit": money(debit),
                                 "credit": money(credit)},
                                group_key=f"{code}|{period.isoformat()}", invalid=True))
        return issues

    def changed_since(self, stmt, changes):
        # Incremental runs read only what changed (``exporting.changes``): the line, its company, cost
        # centre, cost unit and employee (looked up by id, whatever the statement joins or aliases).
        return changes.only(stmt, key=sql.concat(JournalLine.payroll_run_ref, "/", JournalLine.line_no),
                            markers=(JournalLine.row_version, marker_of(Company, JournalLine.company_id),
                                     marker_of(CostCentre, JournalLine.cost_centre_id),
                                     marker_of(CostUnit, JournalLine.cost_unit_id),
                                     marker_of(Employee, JournalLine.employee_id)))


__all__ = ["JournalEntries", "negate"]
