"""Reading profiles for the pages; creating, changing and archiving go through the engine's services."""
from itertools import groupby

from sqlalchemy import func, select

from ..extensions import db
from ..exporting import services as engine
from ..exporting.types import all_types
from ..models import Company, IntegrationAccount
from ..models.exporting import ExportProfile, Run
from ..runs.services import runs_with_errors


class ProfileError(ValueError):
    """A translatable refusal, tied to a form field when ``field`` is set."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def profiles_by_type(include_archived=False):
    """[(export type, [(profile, latest run or None, had errors)])] in the registry's order: 3 queries."""
    query = select(ExportProfile).order_by(ExportProfile.name, ExportProfile.id)
    if not include_archived:
        query = query.where(ExportProfile.archived.is_(False))
    profiles = db.session.execute(query).scalars().all()
    latest = {}
    if profiles:
        ids = select(func.max(Run.id)).where(Run.profile_id.in_([p.id for p in profiles])).group_by(Run.profile_id)
        latest = {r.profile_id: r for r in db.session.execute(select(Run).where(Run.id.in_(ids))).scalars()}
    errors = runs_with_errors([r.id for r in latest.values()])
    order = {t.key: i for i, t in enumerate(all_types())}
    types = {t.key: t for t in all_types()}
    profiles.sort(key=lambda p: (order.get(p.export_type, 99), p.name.lower()))
    groups = []
    for key, members in groupby(profiles, key=lambda p: p.export_type):
        rows = []
        for p in members:
            run = latest.get(p.id)
            rows.append((p, run, bool(run and (run.status == "failed" or (run.counts or {}).get("errors")
                                               or run.id in errors))))
        groups.append((types.get(key), key, rows))
    return groups


def companies():
    return db.session.execute(select(Company).order_by(Company.name)).scalars().all()


def integration_accounts():
    """The integration accounts a Visma.net profile can send through, by name."""
    return db.session.execute(select(IntegrationAccount).order_by(IntegrationAccount.name)).scalars().all()


def run_count(profile_id):
    return db.session.execute(select(func.count()).select_from(Run).where(Run.profile_id == profile_id)).scalar_one()


def delete_or_archive(profile, user):
    """A profile without runs is deleted; one with runs is archived (its history stays)."""
    if run_count(profile.id):
        engine.archive_profile(profile.id, user=user)
        return "archived"
    db.session.delete(profile)
    db.session.commit()
    return "deleted"


def restore(profile, user):
    return engine.archive_profile(profile.id, user=user, archived=False)


def save(profile, values, user):
    """Create (``profile`` None) or update through the engine, which validates every value."""
    if profile is None:
        return engine.create_profile(user=user, **values)
    return engine.update_profile(profile.id, user=user, **values)
