"""Sample columns and rows for the file-format tests: every kind, awkward text, negative amounts."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_babel import lazy_gettext as _l

from portal.exporting.formats import Column

from formats_samples import DANGEROUS


@pytest.fixture
def columns():
    return [
        Column("name", _l("Description")),
        Column("count", _l("Line"), "int"),
        Column("amount", _l("Debit"), "decimal"),
        Column("rate", None, "decimal", scale=4),
        Column("day", _l("Period"), "date"),
        Column("moment", None, "datetime"),
        Column("flag", _l("Correction"), "bool"),
    ]


@pytest.fixture
def rows():
    texts = ["plain", "Åsa Ørsted, \"quoted\"; semi", "line\nbreak", "", None, "€ 12,50", "#N/A",
             *DANGEROUS]
    made = []
    for number, text in enumerate(texts, 1):
        made.append({
            "name": text,
            "count": number if number % 5 else None,
            "amount": Decimal("-1234.5") if number % 2 else Decimal(number * 10),
            "rate": Decimal("0.12345") if number == 1 else (None if number == 3 else Decimal(number)),
            "day": date(2026, 1, number),
            "moment": datetime(2026, 1, number, 8, 30, 15) if number != 4 else None,
            "flag": bool(number % 3) if number != 6 else None,
            "ignored": "extra keys are not written",
        })
    return made

