"""SIE 4 for payroll journals (the Swedish standard import format of accounting programs), and a reader.

What the writer produces (SIE filformat, utgåva 4B):

    #FLAGGA 0
    #PROGRAM "Export Portal" 0.1.0
    #FORMAT PC8                       <- code page 437, CR LF line ends
    #GEN 20261121
    #SIETYP 4
    #FNR "C01"
    #FNAMN "Company AB"
    #RAR 0 20260101 20261231          <- the fiscal years the vouchers fall in, 0 = the latest
    #KPTYP BAS2014
    #DIM 1 "Kostnadsställe"           <- cost centres
    #UNDERDIM 2 "Kostnadsbärare" 1    <- cost units (SIE's reserved number 2, a sub-dimension of 1)
    #OBJEKT 1 "100" "Sales"
    #KONTO 7010 "Löner"               <- every account used
    #VER A 1 20260101 "Payroll journal 2026-01, payroll run R1" 20261121
    {
       #TRANS 7010 {1 "100" 2 "P1"} 1234.50 20260101 "Salaries"
       #TRANS 2910 {} -1234.50 20260101 "Salaries"
    }

One #VER per journal (company and period booked in); debit is positive, credit negative, and each
voucher balances. A correction line sits in the journal of the period it corrects, its text naming the
payroll run it came with. An SIE file describes one company: rows of a second company are refused
(``one_file_per`` tells the engine to write one file per company).

Rows stream into a temporary SQLite spool next to the file (disk, not memory); the accounts, objects
and journal sums are collected on the way, and ``close()`` writes the file in one ordered pass.

Options (besides the common ones, which do not apply): ``sie_series`` (default "A"),
``sie_first_voucher_number`` (1), ``sie_generated_on`` (a date; default today, UTC),
``sie_chart_of_accounts`` ("BAS2014"), ``sie_fiscal_year_start_month`` (1),
``sie_cost_unit_dimension`` (2, or 6 "Projekt" for programs that know only dimensions 1 and 6),
``sie_voucher_date`` ("period_start" or "period_end").
"""
import calendar
import codecs
import os
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from importlib import metadata

from flask_babel import lazy_gettext as _l

from . import register
from ..messages import month
from .base import Column, FileWriter, FormatError, to_bool, to_date

ENCODING = "cp437"             # SIE's "PC8": IBM PC 8-bit extended ASCII, code page 437
LINE_END = "\r\n"
PROGRAM_NAME = "Export Portal"
DIMENSION_NAMES = {1: "Kostnadsställe", 2: "Kostnadsbärare", 6: "Projekt"}   # SIE's reserved names
COST_CENTRE_DIMENSION = 1

# The rows the SIE writer takes (the journal_entries export type delivers them). The headers are what
# CSV and XLSX files of journals show when the export type uses these columns.
JOURNAL_COLUMNS = (
    Column("company_code", _l("Company code")),
    Column("company_name", _l("Company")),
    Column("journal_period", _l("Period"), "date"),
    Column("payroll_run_ref", _l("Payroll run")),
    Column("line_no", _l("Line"), "int"),
    Column("account", _l("Account")),
    Column("account_name", _l("Account name")),
    Column("cost_centre", _l("Cost centre")),
    Column("cost_unit", _l("Cost unit")),
    Column("debit", _l("Debit"), "decimal"),
    Column("credit", _l("Credit"), "decimal"),
    Column("description", _l("Description")),
    Column("is_correction", _l("Correction"), "bool"),
)
REQUIRED_KEYS = tuple(column.key for column in JOURNAL_COLUMNS)

VOUCHER_TEXT = _l("Payroll journal %(period)s, payroll run %(references)s")
CORRECTION_TEXT = _l("Correction, payroll run %(reference)s")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BARE = re.compile(r"^[A-Za-z0-9_.:/+-]+$")
_CENT = Decimal("0.01")


def _sie_replace(error):
    """Encoding fallback: a character outside code page 437 becomes its base letter, else '?'."""
    text = error.object[error.start:error.end]
    replaced = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)
        candidate = "".join(c for c in base if not unicodedata.combining(c))
        try:
            candidate.encode(ENCODING)
        except UnicodeEncodeError:
            candidate = "?"
        replaced.append(candidate or "?")
    return "".join(replaced), error.end


codecs.register_error("sie_replace", _sie_replace)


def quote(text):
    """A quoted SIE field: control characters become spaces, backslash and quote are escaped."""
    text = _CONTROL.sub(" ", "" if text is None else str(text))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bare_or_quoted(text):
    text = "" if text is None else str(text)
    return text if _BARE.match(text) else quote(text)


def sie_date(day):
    return day.strftime("%Y%m%d")


def sie_amount(amount):
    return format(amount.quantize(_CENT), "f")


def _program_version():
    try:
        return metadata.version("export-portal")
    except metadata.PackageNotFoundError:  # running from a checkout that was not installed
        return "0"


def _account_order(account):
    return (0, int(account), account) if account.isdigit() else (1, 0, account)


def _fiscal_year(day, start_month):
    start_year = day.year if day.month >= start_month else day.year - 1
    start = date(start_year, start_month, 1)
    end_year, end_month = (start_year + 1, start_month - 1) if start_month > 1 else (start_year, 12)
    end = date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    return start, end


@register
class Sie4Writer(FileWriter):
    format_name = "sie4"
    extension = "si"      # SIE's extension for import files (type 4I: vouchers to book)
    media_type = "text/plain; charset=IBM437"
    one_file_per = "company_code"

    def _open(self):
        options = self.raw_options
        self._series = str(options.get("sie_series") or "A")
        self._first_number = int(options.get("sie_first_voucher_number") or 1)
        generated = options.get("sie_generated_on")
        self._generated_on = to_date(generated) if generated else datetime.now(timezone.utc).date()
        self._chart = str(options.get("sie_chart_of_accounts") or "BAS2014")
        self._fiscal_start = int(options.get("sie_fiscal_year_start_month") or 1)
        if not 1 <= self._fiscal_start <= 12:
            raise FormatError("bad_option", option="sie_fiscal_year_start_month", value=self._fiscal_start)
        self._unit_dimension = int(options.get("sie_cost_unit_dimension") or 2)
        if self._unit_dimension not in (2, 6):
            raise FormatError("bad_option", option="sie_cost_unit_dimension", value=self._unit_dimension)
        self._voucher_date_rule = options.get("sie_voucher_date") or "period_start"
        if self._voucher_date_rule not in ("period_start", "period_end"):
            raise FormatError("bad_option", option="sie_voucher_date", value=self._voucher_date_rule)

        self._company = None          # (code, name)
        self._org_number = None
        self._accounts = {}           # account -> name
        self._objects = {}            # (dimension, code) -> name
        self._journals = {}           # period (date) -> [balance, {references}]
        self._spool_path = f"{self.temp_path}.spool"
        self._spool = sqlite3.connect(self._spool_path, isolation_level=None)
        self._spool.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
            PRAGMA cache_size = -8000;
            CREATE TABLE line (seq INTEGER PRIMARY KEY, period TEXT NOT NULL, line_no INTEGER,
                               account TEXT NOT NULL, cost_centre TEXT, cost_unit TEXT,
                               amount TEXT NOT NULL, text TEXT, reference TEXT, correction INTEGER);
            BEGIN;
        """)

    # -- collecting -------------------------------------------------------------------------------

    def _write_batch(self, rows):
        count = 0
        batch = []
        for row in rows:
            count += 1
            batch.append(self._spooled(row, self.rows + count))
            if len(batch) >= 5000:
                self._spool.executemany("INSERT INTO line VALUES (NULL,?,?,?,?,?,?,?,?,?)", batch)
                batch.clear()
        if batch:
            self._spool.executemany("INSERT INTO line VALUES (NULL,?,?,?,?,?,?,?,?,?)", batch)
        return count

    def _spooled(self, row, number):
        for key in REQUIRED_KEYS:
            if key not in row:
                raise FormatError("missing_value", row=number, column=key)
        company = (str(row["company_code"]), str(row["company_name"] or ""))
        if self._company is None:
            self._company = company
            self._org_number = row.get("company_org_number")
        elif company[0] != self._company[0]:
            raise FormatError("sie_one_company", first=self._company[0], second=company[0])

        period = self._parse(row, number, "journal_period", to_date)
        if period is None:
            raise FormatError("missing_value", row=number, column="journal_period")
        debit = self._amount(row, number, "debit")
        credit = self._amount(row, number, "credit")
        amount = debit - credit
        account = str(row["account"] or "").strip()
        if not account:
            raise FormatError("missing_value", row=number, column="account")
        if account not in self._accounts or not self._accounts[account]:
            self._accounts[account] = str(row["account_name"] or "")
        cost_centre = self._object(row, "cost_centre", COST_CENTRE_DIMENSION)
        cost_unit = self._object(row, "cost_unit", self._unit_dimension)
        reference = str(row["payroll_run_ref"] or "")
        correction = bool(self._parse(row, number, "is_correction", to_bool))

        journal = self._journals.get(period)
        if journal is None:
            journal = self._journals[period] = [Decimal(0), set()]
        journal[0] += amount
        journal[1].add(reference)
        line_no = row["line_no"]
        return (sie_date(period), int(line_no) if line_no not in (None, "") else None, account,
                cost_centre, cost_unit, format(amount, "f"), str(row["description"] or ""),
                reference, int(correction))

    def _object(self, row, key, dimension):
        code = row[key]
        if code in (None, ""):
            return None
        code = str(code)
        if (dimension, code) not in self._objects:
            self._objects[(dimension, code)] = str(row.get(f"{key}_name") or code)
        return code

    @staticmethod
    def _parse(row, number, key, parse):
        try:
            return parse(row[key])
        except (ValueError, TypeError):
            raise FormatError("bad_value", row=number, column=key, value=row[key],
                              kind="date" if parse is to_date else "bool") from None

    @staticmethod
    def _amount(row, number, key):
        value = row[key]
        if value in (None, ""):
            return Decimal(0)
        try:
            amount = Decimal(repr(value) if isinstance(value, float) else value)
        except (InvalidOperation, TypeError, ValueError):
            raise FormatError("bad_value", row=number, column=key, value=value, kind="decimal") from None
        if not amount.is_finite():
            raise FormatError("bad_value", row=number, column=key, value=value, kind="decimal")
        if amount != amount.quantize(_CENT):
            raise FormatError("sie_amount", row=number, amount=amount)
        return amount

    # -- writing ----------------------------------------------------------------------------------

    def _finish(self):
        self._spool.execute("COMMIT")
        company_code, company_name = self._company or ("", "")
        for period, (balance, _refs) in sorted(self._journals.items()):
            if balance != 0:
                raise FormatError("sie_unbalanced", company=company_name or company_code,
                                  period=month(period), difference=abs(balance).quantize(_CENT))
        with open(self.temp_path, "w", encoding=ENCODING, errors="sie_replace", newline="",
                  buffering=1 << 20) as handle:
            write = handle.write
            for line in self._head(company_code, company_name):
                write(line + LINE_END)
            self._write_vouchers(write)
        self._close_spool()

    def _head(self, company_code, company_name):
        yield "#FLAGGA 0"
        yield f"#PROGRAM {quote(PROGRAM_NAME)} {bare_or_quoted(_program_version())}"
        yield "#FORMAT PC8"
        yield f"#GEN {sie_date(self._generated_on)}"
        yield "#SIETYP 4"
        if company_code:
            yield f"#FNR {quote(company_code)}"
        if self._org_number:
            yield f"#ORGNR {bare_or_quoted(self._org_number)}"
        yield f"#FNAMN {quote(company_name)}"
        years = sorted({_fiscal_year(period, self._fiscal_start) for period in self._journals}, reverse=True)
        if years:
            first, last = years[-1][0], years[0][0]
            index = 0
            start = last
            while start >= first:
                year = _fiscal_year(start, self._fiscal_start)
                yield f"#RAR {index} {sie_date(year[0])} {sie_date(year[1])}"
                index -= 1
                start = date(start.year - 1, start.month, 1)
        yield f"#KPTYP {bare_or_quoted(self._chart)}"
        dimensions = sorted({dimension for dimension, _code in self._objects})
        if dimensions:
            yield f"#DIM {COST_CENTRE_DIMENSION} {quote(DIMENSION_NAMES[COST_CENTRE_DIMENSION])}"
        for dimension in dimensions:
            if dimension == 2:
                yield f"#UNDERDIM 2 {quote(DIMENSION_NAMES[2])} {COST_CENTRE_DIMENSION}"
            elif dimension != COST_CENTRE_DIMENSION:
                yield f"#DIM {dimension} {quote(DIMENSION_NAMES[dimension])}"
        for (dimension, code), name in sorted(self._objects.items()):
            yield f"#OBJEKT {dimension} {quote(code)} {quote(name)}"
        for account in sorted(self._accounts, key=_account_order):
            yield f"#KONTO {bare_or_quoted(account)} {quote(self._accounts[account])}"

    def _voucher_date(self, period):
        if self._voucher_date_rule == "period_end":
            return period.replace(day=calendar.monthrange(period.year, period.month)[1])
        return period

    def _write_vouchers(self, write):
        series = bare_or_quoted(self._series)
        generated = sie_date(self._generated_on)
        number = self._first_number
        cursor = self._spool.execute(
            "SELECT period, account, cost_centre, cost_unit, amount, text, reference, correction "
            "FROM line ORDER BY period, line_no, seq")
        current = None
        day = None
        unit_dimension = self._unit_dimension
        for period_text, account, cost_centre, cost_unit, amount, text, reference, correction in cursor:
            if period_text != current:
                if current is not None:
                    write("}" + LINE_END)
                current = period_text
                period = date(int(period_text[:4]), int(period_text[4:6]), int(period_text[6:]))
                day = sie_date(self._voucher_date(period))
                references = ", ".join(sorted(r for r in self._journals[period][1] if r))
                title = str(VOUCHER_TEXT) % {"period": period.strftime("%Y-%m"), "references": references}
                write(f"#VER {series} {number} {day} {quote(title)} {generated}{LINE_END}{{{LINE_END}")
                number += 1
            objects = []
            if cost_centre is not None:
                objects.append(f"{COST_CENTRE_DIMENSION} {quote(cost_centre)}")
            if cost_unit is not None:
                objects.append(f"{unit_dimension} {quote(cost_unit)}")
            if correction:
                note = str(CORRECTION_TEXT) % {"reference": reference}
                text = f"{text} ({note})" if text else note
            write(f"   #TRANS {bare_or_quoted(account)} {{{' '.join(objects)}}} "
                  f"{sie_amount(Decimal(amount))} {day} {quote(text)}{LINE_END}")
        if current is not None:
            write("}" + LINE_END)

    def _close_spool(self):
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        try:
            os.unlink(self._spool_path)
        except FileNotFoundError:
            pass

    def _discard(self):
        self._close_spool()


# ---- the reader ----------------------------------------------------------------------------------

@dataclass
class SieTransaction:
    account: str
    objects: list            # [(dimension, object), ...]
    amount: Decimal
    date: date = None
    text: str = ""
    quantity: Decimal = None
    sign: str = ""
    label: str = "#TRANS"    # #TRANS, or #RTRANS / #BTRANS (added / removed lines)


@dataclass
class SieVoucher:
    series: str
    number: str
    date: date
    text: str = ""
    registered_on: date = None
    sign: str = ""
    transactions: list = field(default_factory=list)

    @property
    def balance(self):
        return sum((t.amount for t in self.transactions if t.label == "#TRANS"), Decimal(0))


@dataclass
class SieDocument:
    records: list = field(default_factory=list)      # every record outside vouchers: (label, fields)
    accounts: dict = field(default_factory=dict)     # account -> name
    dimensions: dict = field(default_factory=dict)   # number -> (name, parent or None)
    objects: dict = field(default_factory=dict)      # (dimension, object) -> name
    years: dict = field(default_factory=dict)        # index -> (start, end)
    vouchers: list = field(default_factory=list)

    def first(self, label):
        """The fields of the first record with ``label`` (e.g. "#FNAMN"), or None."""
        for record_label, fields in self.records:
            if record_label == label:
                return fields
        return None


class SieSyntaxError(ValueError):
    pass


def tokenize(line):
    """Split one SIE line into fields: bare words, quoted strings ("\\"" escapes), and {object lists}."""
    fields = []
    position = 0
    length = len(line)
    while position < length:
        char = line[position]
        if char in " \t":
            position += 1
        elif char == "{":
            inner, position = _object_list(line, position + 1)
            fields.append(inner)
        elif char == '"':
            text, position = _quoted(line, position + 1)
            fields.append(text)
        else:
            end = position
            while end < length and line[end] not in ' \t{"':
                end += 1
            fields.append(line[position:end])
            position = end
    return fields


def _quoted(line, position):
    out = []
    length = len(line)
    while position < length:
        char = line[position]
        if char == "\\" and position + 1 < length:
            out.append(line[position + 1])
            position += 2
        elif char == '"':
            return "".join(out), position + 1
        else:
            out.append(char)
            position += 1
    return "".join(out), position    # an unclosed quote ends with the line (lenient, like most readers)


def _object_list(line, position):
    items = []
    length = len(line)
    while position < length:
        char = line[position]
        if char in " \t":
            position += 1
        elif char == "}":
            return items, position + 1
        elif char == '"':
            text, position = _quoted(line, position + 1)
            items.append(text)
        else:
            end = position
            while end < length and line[end] not in ' \t}"':
                end += 1
            items.append(line[position:end])
            position = end
    raise SieSyntaxError(f"unclosed object list: {line!r}")


def _date(text):
    if not text:
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _pairs(items):
    if len(items) % 2:
        raise SieSyntaxError(f"object list with an odd number of fields: {items!r}")
    return [(int(items[i]), items[i + 1]) for i in range(0, len(items), 2)]


def iter_records(path, encoding=ENCODING):
    """Yield (label, fields) per record; vouchers as ("#VER", fields, [(label, fields), ...])."""
    with open(path, "r", encoding=encoding, newline="") as handle:
        voucher = None
        in_block = False
        for raw in handle:
            line = raw.rstrip("\r\n")
            stripped = line.strip()
            if not stripped:
                continue
            if stripped == "{":
                if voucher is None:
                    raise SieSyntaxError("'{' without a #VER")
                in_block = True
                continue
            if stripped == "}":
                if not in_block:
                    raise SieSyntaxError("'}' without '{'")
                yield voucher
                voucher = None
                in_block = False
                continue
            if not stripped.startswith("#"):
                raise SieSyntaxError(f"not a record: {line!r}")
            fields = tokenize(stripped)
            label, rest = fields[0].upper(), fields[1:]
            if in_block:
                voucher[2].append((label, rest))
            elif label == "#VER":
                if voucher is not None:
                    raise SieSyntaxError("#VER without a block")
                voucher = ("#VER", rest, [])
            else:
                yield (label, rest)
        if voucher is not None or in_block:
            raise SieSyntaxError("the file ends inside a voucher")


def read_sie4(path):
    """Read an SIE 4 file (PC8) into an SieDocument: identification, chart, dimensions, vouchers."""
    document = SieDocument()
    for record in iter_records(path):
        label, fields = record[0], record[1]
        if label == "#VER":
            document.vouchers.append(_voucher(fields, record[2]))
            continue
        document.records.append((label, fields))
        if label == "#KONTO":
            document.accounts[fields[0]] = fields[1] if len(fields) > 1 else ""
        elif label == "#DIM":
            document.dimensions[int(fields[0])] = (fields[1] if len(fields) > 1 else "", None)
        elif label == "#UNDERDIM":
            document.dimensions[int(fields[0])] = (fields[1], int(fields[2]))
        elif label == "#OBJEKT":
            document.objects[(int(fields[0]), fields[1])] = fields[2] if len(fields) > 2 else ""
        elif label == "#RAR":
            document.years[int(fields[0])] = (_date(fields[1]), _date(fields[2]))
    return document


def _field(fields, index, default=""):
    return fields[index] if len(fields) > index else default


def _voucher(fields, lines):
    voucher = SieVoucher(series=_field(fields, 0), number=_field(fields, 1), date=_date(_field(fields, 2)),
                         text=_field(fields, 3), registered_on=_date(_field(fields, 4)),
                         sign=_field(fields, 5))
    for label, rest in lines:
        if label not in ("#TRANS", "#RTRANS", "#BTRANS"):
            continue
        objects = rest[1] if len(rest) > 1 and isinstance(rest[1], list) else []
        quantity = _field(rest, 5)
        voucher.transactions.append(SieTransaction(
            account=rest[0], objects=_pairs(objects), amount=Decimal(rest[2]),
            date=_date(_field(rest, 3)), text=_field(rest, 4),
            quantity=Decimal(quantity) if quantity else None, sign=_field(rest, 6), label=label))
    return voucher
