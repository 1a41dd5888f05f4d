"""Lists shown a page at a time: ``paginate`` for numbered pages (the page is counted and clamped in the
database, so that page 9999 of a short list shows its last page), ``keyset_page`` for lists that can
hold a million rows (Prepared data), where a page must not cost more the further in it lies."""
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_

from .extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(query, page, per_page, count_query, keys=None, key_column=None):
    """``query``'s rows on page ``page`` (from 1, clamped to the pages there are); ``count_query``
    counts every row (without the joins that only load related rows), or is that count already. With ``keys`` (a narrow select of
    ``key_column`` in the same order and with the same conditions), the OFFSET is taken over the keys
    and ``query`` reads only the page's rows: one statement still, deep pages skip narrow rows."""
    total = count_query if isinstance(count_query, int) else db.session.execute(count_query).scalar_one()
    page = max(1, min(page, max(1, -(-total // per_page))))
    offset = (page - 1) * per_page
    if keys is not None:
        page_keys = keys.limit(per_page).offset(offset).scalar_subquery()
        query = query.where(key_column.in_(page_keys))
    else:
        query = query.limit(per_page).offset(offset)
    items = db.session.execute(query).unique().scalars().all()
    return Page(items, page, per_page, total)


# --- keyset paging: a page of a huge list costs what a page of a short one costs ------------------------
# A page is asked for by the row it follows (``after``) or precedes (``before``), never by its number:
# no OFFSET (which reads and throws away every row before the page), and no count of the whole list
# (``count_capped`` counts at most ``cap`` + 1 rows). The order must be unique (end it with the id) and
# served by an index, so that each page is one short index range.

@dataclass
class KeysetPage:
    items: list
    per_page: int
    has_prev: bool
    has_next: bool
    total: int          # the rows of the whole list, counted up to ``cap``
    capped: bool        # True: there are more than ``total`` rows

    @property
    def first(self):
        return self.items[0] if self.items else None

    @property
    def last(self):
        return self.items[-1] if self.items else None


def count_capped(conditions_query, cap):
    """How many rows ``conditions_query`` (a select of anything, with its WHERE) has, reading at most
    ``cap`` + 1 of them: (count, True when there are more than ``cap``)."""
    limited = conditions_query.limit(cap + 1).subquery()
    count = db.session.execute(select(func.count()).select_from(limited)).scalar_one()
    return min(count, cap), count > cap


def keyset_page(query, order, per_page, *, after=None, before=None, last=False):
    """One page of ``query`` in the ascending, unique ``order`` (columns): the first page, the page after
    the key ``after`` (a tuple of the order's values), the page before the key ``before``, or the last
    page. Returns (items, has_prev, has_next). One query, two when a step back reaches the start (then
    the first page is shown whole, not the few rows left before it)."""
    key = tuple_(*order)

    def fetch(stmt, descending=False):
        stmt = stmt.order_by(*[c.desc() for c in order] if descending else order).limit(per_page + 1)
        return db.session.execute(stmt).unique().scalars().all()

    if after is not None:
        items = fetch(query.where(key > tuple_(*after)))
        if items:
            return items[:per_page], True, len(items) > per_page
        last = True  # past the end (the rows after it were removed): the last page
    if before is not None or last:
        stmt = query if last or before is None else query.where(key < tuple_(*before))
        items = fetch(stmt, descending=True)
        if len(items) > per_page:
            return items[:per_page][::-1], True, not last
        if last:
            return items[::-1], False, False
    items = fetch(query)
    return items[:per_page], False, len(items) > per_page
