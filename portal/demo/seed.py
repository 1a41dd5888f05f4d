"""Demo data. Idempotent: what exists is kept, so a second run changes nothing."""
from ..extensions import db
from ..models import Company, User
from ..admin.services import create_user
from .constants import COMPANIES, DEMO_PASSWORD, DEMO_USERS

def seed_users():
    for email, role, name, locale in DEMO_USERS:
        if not db.session.execute(db.select(User.id).filter_by(email=email)).first():
            create_user(email, DEMO_PASSWORD, role=role, name=name, locale=locale, allow_short_password=True)


def seed_companies():
    for code, name, is_test in COMPANIES:
        if not db.session.execute(db.select(Company.id).filter_by(code=code)).first():
            db.session.add(Company(code=code, name=name, is_test_company=is_test))
    db.session.commit()


def seed(size=None):
    seed_users()
    seed_companies()
    return {"users": db.session.query(User).count(), "companies": db.session.query(Company).count()}
