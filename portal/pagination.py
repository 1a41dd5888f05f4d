"""Lists shown a page at a time: one ``paginate`` for every paged query (the page is counted and
clamped in the database, so that page 9999 of a short list shows its last page)."""
from dataclasses import dataclass

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


def paginate(query, page, per_page, count_query):
    """``query``'s rows on page ``page`` (from 1, clamped to the pages there are); ``count_query``
    counts every row (without the joins that only load related rows)."""
    total = db.session.execute(count_query).scalar_one()
    page = max(1, min(page, max(1, -(-total // per_page))))
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).unique().scalars().all()
    return Page(items, page, per_page, total)
