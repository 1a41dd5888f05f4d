"""What the sandbox received: one row per API and token-endpoint request, newest first on its page."""
from flask import current_app
from sqlalchemy import delete

from ..extensions import db
from ..models.sandbox import SandboxRequest

MAX_BODY = 20000     # an answer (a listing) is kept up to this; a request body is always kept whole


def _clip(text):
    if text is None:
        return None
    return text if len(text) <= MAX_BODY else text[:MAX_BODY] + "…"


def record(method, path, company_id, status, request_body, response_body):
    # The request body whole: what the portal sent is what the tests and the page compare with.
    row = SandboxRequest(method=method, path=path[:2000], company_id=company_id, status=status,
                         request_body=request_body, response_body=_clip(response_body))
    db.session.add(row)
    db.session.commit()
    keep = int(current_app.config.get("SANDBOX_KEEP_REQUESTS", 20000))
    if row.id % 500 == 0 and row.id > keep:
        # The list (and the rate-limit window, which counts it) needs only the recent requests.
        db.session.execute(delete(SandboxRequest).where(SandboxRequest.id <= row.id - keep))
        db.session.commit()


def latest(company_id=None, limit=200):
    query = db.select(SandboxRequest).order_by(SandboxRequest.id.desc()).limit(limit)
    if company_id:
        query = query.where(SandboxRequest.company_id == company_id)
    return db.session.execute(query).scalars().all()


def reset():
    db.session.execute(delete(SandboxRequest))
    db.session.commit()
