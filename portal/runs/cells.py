"""Prepared data's cells for reading: the payload keeps the files' exact values (ISO dates, UTC
date-times, dot decimals); the page shows them in the user's locale and the organisation's time zone,
as every other page does (``formats()``). Only Active can be changed on the page, by row id, so what a
cell shows is never posted back."""
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel import numbers as babel_numbers
from flask_babel import gettext


def _decimal_text(locale, raw):
    # As many decimals as the file has, in the locale's symbols and grouping ("4.00" → "4,00"): no
    # rounding and no padding.
    number = Decimal(raw)
    places = max(0, -number.as_tuple().exponent) if number.is_finite() else 0
    return babel_numbers.format_decimal(number, "#,##0" + ("." + "0" * places if places else ""), locale=locale)


def cell(f, kind, value):
    """``value`` of a column of ``kind`` as text for the page, with ``f`` the page's ``formats()``. A value
    that is not what its kind says (an old row, a hand-edited source) is shown as it is."""
    if value is None or value == "":
        return ""
    try:
        if kind == "datetime":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            return f.datetime(moment, "short")   # stored in UTC, shown in the organisation's zone
        if kind == "date":
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            return f.date(day, "short")
        if kind == "bool":
            # JSON true/false (or the text a file holds for it), as a word of the user's language.
            if value is True or str(value).lower() == "true":
                return f.once(gettext, "Yes")
            if value is False or str(value).lower() == "false":
                return f.once(gettext, "No")
            return value
        if kind == "decimal" and f.locale is not None:
            return f.once(_decimal_text, f.locale, str(value))
    except (ValueError, TypeError, InvalidOperation):
        return value
    return value


def record_label(f, label_columns, row):
    """What names a prepared row for a person (its Active checkbox's label): the values of the export
    type's label columns as the page shows them (an employee and a start time), else its record key
    (an invoice number and line) — never an internal sequence number."""
    payload = row.payload or {}
    parts = [str(cell(f, column.kind, payload.get(column.key))) for column in label_columns or ()]
    parts = [part for part in parts if part]
    return ", ".join(parts) if parts else (row.record_key or "")
