"""Helpers for the page tests: profiles, runs in any status, source data, and running a job for real."""
from datetime import date, datetime, timedelta

from portal.extensions import db
from portal.models import Company, Debtor, User
from portal.models.exporting import ExportProfile, MappingHistoryEntry, PreparedRow, ReportItem, Run, RunFile

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def user_id(role):
    return db.session.execute(db.select(User.id).filter_by(email=f"{role}@example.com")).scalar_one()


def company(code="ZORG", name="Zorggroep Rivierenland B.V.", is_test=False):
    existing = db.session.execute(db.select(Company).filter_by(code=code)).scalar()
    if existing:
        return existing
    made = Company(code=code, name=name, is_test_company=is_test)
    db.session.add(made)
    db.session.commit()
    return made


def profile(name="Payroll journals", export_type="journal_entries", fmt="csv", sync_type="full", **options):
    from portal.exporting.services import create_profile
    return create_profile(name=name, export_type=export_type, provider="file",
                          options={"format": fmt, **options}, sync_type=sync_type)


def run(profile_obj, status="exported", mode="test", started_by="staff", started_at=None, counts=None, **kw):
    """A run row in any status, straight into the table (for pages that only read)."""
    made = Run(profile_id=profile_obj.id, mode=mode, operation=kw.pop("operation", "prepare_and_export"),
               params={"window_start": NOVEMBER[0].isoformat(), "window_end": NOVEMBER[1].isoformat()},
               window_start=NOVEMBER[0], window_end=NOVEMBER[1], status=status,
               started_by_id=user_id(started_by) if started_by else None,
               started_at=started_at or datetime(2026, 11, 20, 9, 0), counts=counts or {}, **kw)
    db.session.add(made)
    db.session.commit()
    return made


def debtors(company_obj, count=3, blocked=()):
    made = [Debtor(company_id=company_obj.id, number=str(10001 + i), name=f"Debtor {i + 1}", blocked=i in blocked)
            for i in range(count)]
    db.session.add_all(made)
    db.session.commit()
    return made


def execute(run_obj):
    """The run's job in this process: the function an RQ worker calls."""
    from portal.exporting.jobs import execute_run
    execute_run(run_obj if isinstance(run_obj, int) else run_obj.id)
    db.session.expire_all()
    return db.session.get(Run, run_obj if isinstance(run_obj, int) else run_obj.id)


__all__ = ["ExportProfile", "MappingHistoryEntry", "PreparedRow", "ReportItem", "RunFile", "timedelta"]
