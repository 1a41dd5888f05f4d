"""A debtor selection (invoices): which debtors a run exports. Debtor numbers are unique per company only
(``UniqueConstraint(company_id, number)``): a debtor is its company *and* its number, everywhere — the
Start export picker (it posts the debtor's id), a run's and a schedule's stored parameters, the source's
scope and the removals' scope (the ledger's ``company_id`` with its ``subject_key``, the debtor number).

Stored as ``debtors``: ``[{"company_id": 1, "number": "10001"}, …]``. Parameters stored before
(``debtor_numbers``: numbers only) are read as they were meant when they were stored: those numbers in
the profile's companies (``company_id`` None in a subject: any company of the run's scope).
"""
from sqlalchemy import and_, or_, select

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Company, Debtor
from .errors import ExportError

# The keys of a run's (or schedule's) parameters that hold a debtor selection: the current one first.
PARAM = "debtors"
LEGACY_PARAM = "debtor_numbers"


def subjects(params):
    """The stored selection of ``params`` as ``[(company id or None, number)]`` (empty: every debtor)."""
    params = params or {}
    if params.get(PARAM):
        return [(int(d["company_id"]), str(d["number"])) for d in params[PARAM]]
    return [(None, str(number)) for number in params.get(LEGACY_PARAM) or []]


def stored(params):
    """The selection as ``params`` holds it, for passing on (a schedule's start): the current form, or
    the numbers of the old one."""
    params = params or {}
    return params.get(PARAM) or params.get(LEGACY_PARAM) or None


def texts(params):
    """The stored selection as a schedule's form writes it: ``CODE/number`` each (the old form: numbers)."""
    params = params or {}
    if not params.get(PARAM):
        return [str(number) for number in params.get(LEGACY_PARAM) or []]
    codes = dict(db.session.execute(select(Company.id, Company.code)).all())
    return [f"{codes.get(company, company)}/{number}" for company, number in subjects(params)]


def condition(company_column, number_column, selection):
    """SQL: a row's (company, debtor number) is one of ``selection`` (``subjects``). One ``IN`` per company."""
    per_company = {}
    for company_id, number in selection:
        per_company.setdefault(company_id, set()).add(number)
    parts = []
    for company_id, numbers in sorted(per_company.items(), key=lambda item: (item[0] is None, item[0] or 0)):
        match = number_column.in_(sorted(numbers))
        parts.append(match if company_id is None else and_(company_column == company_id, match))
    return or_(*parts)


def form_value(debtor):
    """The Start export picker's checkbox value of ``debtor``: ``<company id>:<number>``."""
    return f"{debtor.company_id}:{debtor.number}"


def from_form(values):
    """The references the picker posted (``form_value``); any other text (a page from before, which posted
    numbers) is taken as a typed reference."""
    references = []
    for value in values:
        company, colon, number = str(value).strip().partition(":")
        if colon and company.isdigit() and number.strip():
            references.append({"company_id": int(company), "number": number.strip()})
        elif str(value).strip():
            references.append(str(value).strip())
    return references


def resolve(references, company_id=None):
    """The debtors ``references`` names, within the profile's company (``company_id``; None: every company).
    A reference is a debtor's id (int), a ``{"company_id", "number"}`` (stored, or from the Start export
    picker), or a text: ``CODE/number`` (the company's code) or a number alone — refused when debtors of
    several companies have it. Returns the stored form (sorted); raises ``ExportError`` naming what is
    unknown or ambiguous."""
    found, unknown, ambiguous = _find(references, company_id)
    if unknown:
        raise ExportError(_l("Unknown debtors: %(numbers)s."), code="unknown_debtors", numbers=", ".join(unknown[:10]))
    if ambiguous:
        text, matches = ambiguous[0]
        raise ExportError(_l("Debtor %(number)s exists in more than one company: choose one of %(choices)s."),
                          code="ambiguous_debtors", number=text,
                          choices=", ".join(f"{d.company.code}/{d.number}" for d in matches))
    return [{"company_id": d.company_id, "number": d.number} for d in found]


def lookup(references, company_id=None):
    """The debtors among ``references`` that exist (the picker's *Selected debtors*), others left out."""
    return _find(references, company_id)[0]


def _find(references, company_id):
    """(debtors found in company-and-number order, unknown references as text, [(text, debtors)] of
    numbers several companies have)."""
    if isinstance(references, str):
        references = references.replace(";", ",").split(",")
    ids, pairs, texts = set(), set(), []
    for reference in references or ():
        if isinstance(reference, bool):
            continue
        if isinstance(reference, int):
            ids.add(reference)
        elif isinstance(reference, dict):
            pairs.add((int(reference["company_id"]), str(reference["number"]).strip()))
        elif str(reference).strip():
            texts.append(str(reference).strip())
    found, unknown, ambiguous = {}, [], []

    def scoped(stmt):
        return stmt if company_id is None else stmt.where(Debtor.company_id == company_id)

    if ids:
        for debtor in db.session.execute(scoped(select(Debtor).where(Debtor.id.in_(sorted(ids))))).scalars():
            found[debtor.id] = debtor
        unknown.extend(str(i) for i in sorted(ids - set(found)))
    if pairs:
        rows = db.session.execute(scoped(select(Debtor).where(condition(Debtor.company_id, Debtor.number,
                                                                        sorted(pairs))))).scalars().all()
        for debtor in rows:
            found[debtor.id] = debtor
        known = {(d.company_id, d.number) for d in rows}
        codes = dict(db.session.execute(select(Company.id, Company.code)).all())
        unknown.extend(sorted(f"{codes.get(company, company)}/{n}" for company, n in pairs - known))
    for text in dict.fromkeys(texts):
        matches = _by_text(text, scoped)
        if len(matches) == 1:
            found[matches[0].id] = matches[0]
        elif matches:
            ambiguous.append((text, matches))
        else:
            unknown.append(text)
    return sorted(found.values(), key=lambda d: (d.company_id, d.number)), unknown, ambiguous


def _by_text(text, scoped):
    """The debtors a typed reference names: ``CODE/number`` when a company has that code, else the
    number (in every company of the scope)."""
    code, slash, number = text.partition("/")
    if slash:
        matches = db.session.execute(scoped(select(Debtor).join(Company, Company.id == Debtor.company_id).where(
            Company.code == code.strip(), Debtor.number == number.strip()))).scalars().all()
        if matches:
            return matches
    return db.session.execute(scoped(select(Debtor).where(Debtor.number == text))
                              .order_by(Debtor.company_id)).scalars().all()


class Chosen:
    """One debtor of a stored selection, for the pages: its company's code and name, number and name
    (None when the debtor no longer exists)."""

    def __init__(self, company_code, company_name, number, name):
        self.company_code, self.company_name, self.number, self.name = company_code, company_name, number, name

    def __str__(self):
        return label(self)


def label(debtor):
    """How the pages name a debtor (``Debtor`` or ``Chosen``): ``10001 · Jansen (ZORG)`` — the number and
    name, and the company's code (two companies' debtors may have the same number)."""
    if isinstance(debtor, Debtor):
        debtor = Chosen(debtor.company.code, debtor.company.name, debtor.number, debtor.name)
    text = f"{debtor.number} · {debtor.name}" if debtor.name else debtor.number
    return f"{text} ({debtor.company_code})" if debtor.company_code else text


def chosen(params, company_id=None):
    """The debtors a stored selection covers (``Chosen``), in company-and-number order; for the old form,
    every debtor of the profile's companies with those numbers (what such a run exported)."""
    selection = subjects(params)
    if not selection:
        return []
    stmt = select(Debtor).where(condition(Debtor.company_id, Debtor.number, selection))
    if company_id is not None:
        stmt = stmt.where(Debtor.company_id == company_id)
    debtors = db.session.execute(stmt).scalars().all()
    found = {(d.company_id, d.number) for d in debtors}
    codes = {c.id: c for c in db.session.execute(select(Company)).scalars()}
    result = [Chosen(d.company.code, d.company.name, d.number, d.name) for d in debtors]
    for company, number in selection:
        if company is not None and (company, number) not in found:
            known = codes.get(company)
            result.append(Chosen(known.code if known else None, known.name if known else None, number, None))
        elif company is None and not any(n == number for _c, n in found):
            result.append(Chosen(None, None, number, None))
    return sorted(result, key=lambda c: (c.company_code or "", c.number))
