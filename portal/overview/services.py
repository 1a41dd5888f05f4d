"""The overview query: every run across profiles, filtered, sorted and paged in the database.

One query for the page (runs joined with their profile and starter), one for the count, one for the
totals per status, one for the error triangles: four statements whatever the page size. The filters
use the indexes on ``runs`` (see ``portal/models/overview.py``).
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..i18n import org_timezone
from ..models import User
from ..models.exporting import ExportProfile, Run
from ..pagination import paginate
from ..runs.services import runs_with_errors

PER_PAGE = 50
SORTS = {
    "started": Run.started_at, "finished": Run.finished_at, "profile": ExportProfile.name,
    "status": Run.status, "mode": Run.mode, "window": Run.window_start,
}


@dataclass
class Filters:
    profile_id: int | None = None
    export_type: str | None = None
    company_id: int | None = None
    mode: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    started_by_id: int | None = None
    sort: str = "started"
    direction: str = "desc"
    errors: list = field(default_factory=list)

    def conditions(self, with_status=True):
        conditions = []
        if self.profile_id:
            conditions.append(Run.profile_id == self.profile_id)
        if self.export_type:
            conditions.append(ExportProfile.export_type == self.export_type)
        if self.company_id:
            conditions.append(ExportProfile.company_id == self.company_id)
        if self.mode in ("test", "production"):
            conditions.append(Run.mode == self.mode)
        if with_status and self.status:
            conditions.append(Run.status == self.status)
        tz = org_timezone()
        if self.date_from:
            conditions.append(Run.started_at >= _utc(self.date_from, tz))
        if self.date_to:
            conditions.append(Run.started_at < _utc(self.date_to + timedelta(days=1), tz))
        if self.started_by_id:
            conditions.append(Run.started_by_id == self.started_by_id)
        return conditions

    def needs_profile_join(self):
        return bool(self.export_type or self.company_id) or self.sort == "profile"


def _nulls_last(column, order):
    """Only a nullable column needs NULLS LAST; on a NOT NULL one it would keep PostgreSQL from walking
    the index backwards (and make it sort 100,000 runs for a page of 50)."""
    return order.nulls_last() if column.nullable else order


def _utc(day, tz):
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def _base(filters, with_status=True):
    query = select(Run).join(Run.profile).outerjoin(Run.started_by)
    return query.where(*filters.conditions(with_status))


def overview_page(filters, page=1, per_page=PER_PAGE):
    column = SORTS.get(filters.sort, Run.started_at)
    order = column.desc() if filters.direction == "desc" else column.asc()
    tie = Run.id.desc() if filters.direction == "desc" else Run.id.asc()
    query = (_base(filters).options(contains_eager(Run.profile), contains_eager(Run.started_by))
             .order_by(_nulls_last(column, order), tie))
    count = select(func.count()).select_from(Run)
    if filters.needs_profile_join():
        count = count.join(Run.profile)
    count = count.where(*filters.conditions())
    shown = paginate(query, page, per_page, count)
    return shown, runs_with_errors([r.id for r in shown.items])


def totals_per_status(filters):
    """{status: count} with every filter but the status one (so the totals show the whole spread)."""
    query = select(Run.status, func.count()).select_from(Run)
    if filters.needs_profile_join():
        query = query.join(Run.profile)
    return dict(db.session.execute(query.where(*filters.conditions(with_status=False))
                                   .group_by(Run.status)).all())


def rows_for_csv(filters, batch=2000):
    """Every filtered run, streamed in the page's order (memory stays flat for 100,000 runs)."""
    column = SORTS.get(filters.sort, Run.started_at)
    order = column.desc() if filters.direction == "desc" else column.asc()
    query = (_base(filters).options(contains_eager(Run.profile), contains_eager(Run.started_by))
             .order_by(_nulls_last(column, order), Run.id.desc()).execution_options(yield_per=batch))
    yield from db.session.execute(query).scalars()


def filter_choices():
    profiles = db.session.execute(select(ExportProfile.id, ExportProfile.name).order_by(ExportProfile.name)).all()
    # Every user (a small table), not "who ever started a run": that would scan 100,000 runs per page.
    starters = db.session.execute(select(User.id, User.name, User.email).order_by(User.name)).all()
    from ..models import Company
    companies = db.session.execute(select(Company.id, Company.name).order_by(Company.name)).all()
    return {"profiles": profiles, "starters": starters, "companies": companies}
