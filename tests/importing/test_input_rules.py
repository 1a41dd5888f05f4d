"""The CSV import takes what the rest of the portal takes (README "Input rules"), and refuses the rest
row by row with a clear reason: a tester imported a description with a NUL (exported as ``a`` in CSV and
``ab`` in XLSX), dates in the years 0001 and 9999 (never exportable), and ``1e2``, ``١٠٠`` and ``１２`` as
numbers; ``--delimiter ';;'`` crashed with a traceback; a 20-digit line number was "a whole number from 1"."""
import pytest

from portal.extensions import db
from portal.models import InvoiceLine, JournalLine, Payment

from tests.importing.test_import import GOOD_FILES, count, load_good, problems_of, run_import, write

INVOICE_HEADER = GOOD_FILES[8][1].splitlines()[0]
GOOD_INVOICE = "ACME,10001,INV-{n},1,2026-03-02,2026-04-01,ZV-PC,{description},{quantity},62.50,156.25,0,0"


def _invoices(tmp_path, rows):
    return write(tmp_path, "invoices.csv", "\n".join([INVOICE_HEADER, *rows]) + "\n")


def test_control_characters_in_text_are_refused(any_app, tmp_path):
    with any_app.app_context():
        load_good(any_app, tmp_path, upto="journal_lines")
        path = _invoices(tmp_path, [
            GOOD_INVOICE.format(n=1, description="a\0b", quantity=1),
            GOOD_INVOICE.format(n=2, description="vertical\x0btab", quantity=1),
            GOOD_INVOICE.format(n=3, description="\x1fhidden", quantity=1),        # strip() would drop it
            GOOD_INVOICE.format(n="4\x01", description="delete\x7f", quantity=1),
            GOOD_INVOICE.format(n=5, description="a tab\tis text", quantity=1),   # tab is allowed
        ])
        result = run_import(any_app, "invoice_lines", path)
        reason = "contains a control character (such as NUL); remove it"
        assert result.exit_code == 1
        assert problems_of(result) == [[path, "2", "description", reason], [path, "3", "description", reason],
                                       [path, "4", "description", reason], [path, "5", "invoice_number", reason],
                                       [path, "5", "description", reason]]
        assert count(InvoiceLine) == 0


def test_dates_and_times_outside_the_years_1900_to_2999_are_refused(any_app, tmp_path):
    with any_app.app_context():
        load_good(any_app, tmp_path, upto="journal_lines")
        years = "must lie in the years 1900 to 2999"
        invoices = _invoices(tmp_path, [
            GOOD_INVOICE.format(n=1, description="x", quantity=1).replace("2026-03-02", "0001-01-01"),
            GOOD_INVOICE.format(n=2, description="x", quantity=1).replace("2026-04-01", "9999-12-31"),
            GOOD_INVOICE.format(n=3, description="x", quantity=1).replace("2026-03-02", "20260302"),
            GOOD_INVOICE.format(n=4, description="x", quantity=1).replace("2026-03-02", "1900-01-01"),
        ])
        assert problems_of(run_import(any_app, "invoice_lines", invoices)) == [
            [invoices, "2", "invoice_date", years], [invoices, "3", "due_date", years],
            [invoices, "4", "invoice_date", "is not a date in the form YYYY-MM-DD"]]
        payments = write(tmp_path, "payments.csv", GOOD_FILES[10][1].splitlines()[0] + "\n"
                         "ACME,,R1,1,x,CARD,1.00,0001-01-01T00:00:00+01:00\n"     # overflowed: a traceback
                         "ACME,,R2,1,x,CARD,1.00,9999-12-31T23:59:59\n"
                         "ACME,,R3,1,x,CARD,1.00,2999-12-31T23:00:00-05:00\n"     # 3000 in UTC
                         "ACME,,R4,1,x,CARD,1.00,2999-12-31T23:00:00+01:00\n")    # good
        assert problems_of(run_import(any_app, "payments", payments)) == [
            [payments, "2", "paid_at", years], [payments, "3", "paid_at", years], [payments, "4", "paid_at", years]]
        journal = write(tmp_path, "journal.csv", "company,payroll_run_ref,run_period,about_period,line_no,account\n"
                        "ACME,R1,0001-01,0001-01,1,4000\nACME,R1,2026-03,2026-W10,2,4000\n")
        assert problems_of(run_import(any_app, "journal_lines", journal)) == [
            [journal, "2", "run_period", years], [journal, "2", "about_period", years],
            [journal, "3", "about_period", "is not a period in the form YYYY-MM"]]
        assert count(InvoiceLine) == count(Payment) == count(JournalLine) == 0


@pytest.mark.parametrize("quantity", ["1e2", "١٠٠", "１２", "1_000", "Infinity", "NaN", "0x10", "+-1", "1.2.3"])
def test_numbers_are_ascii_digits_with_a_point(app, tmp_path, quantity):
    with app.app_context():
        load_good(app, tmp_path, upto="journal_lines")
        path = _invoices(tmp_path, [GOOD_INVOICE.format(n=1, description="x", quantity=quantity)])
        assert problems_of(run_import(app, "invoice_lines", path)) == [
            [path, "2", "quantity", "is not a number (use a point for decimals, e.g. 1234.56)"]]


def test_good_numbers_still_load(app, tmp_path):
    with app.app_context():
        load_good(app, tmp_path, upto="journal_lines")
        path = _invoices(tmp_path, [GOOD_INVOICE.format(n=n, description="x", quantity=q)
                                    for n, q in enumerate(["2", "2.5", "-1.25", "+3", ".5", "7."], 1)])
        result = run_import(app, "invoice_lines", path)
        assert result.exit_code == 0, result.stderr
        assert count(InvoiceLine) == 6


@pytest.mark.parametrize("line_no, reason", [
    ("99999999999999999999", "must be a whole number from 1 to 2,000,000,000"),
    ("2000000001", "must be a whole number from 1 to 2,000,000,000"),
    ("0", "must be a whole number from 1 to 2,000,000,000"),
    ("١", "is not a whole number"), ("１２", "is not a whole number"), ("1_0", "is not a whole number"),
    ("-1", "must be a whole number from 1 to 2,000,000,000"), ("1.0", "is not a whole number"),
])
def test_whole_numbers_say_their_range(app, tmp_path, line_no, reason):
    with app.app_context():
        load_good(app, tmp_path, upto="journal_lines")
        path = _invoices(tmp_path, [GOOD_INVOICE.format(n=1, description="x", quantity=1)
                                    .replace("INV-1,1,", f"INV-1,{line_no},")])
        assert problems_of(run_import(app, "invoice_lines", path)) == [[path, "2", "line_no", reason]]


def test_the_range_is_written_in_the_chosen_language(app, tmp_path):
    with app.app_context():
        load_good(app, tmp_path, upto="journal_lines")
        path = _invoices(tmp_path, [GOOD_INVOICE.format(n=1, description="x", quantity=1)
                                    .replace("INV-1,1,", "INV-1,0,")])
        result = run_import(app, "--locale", "nl", "invoice_lines", path)
        assert problems_of(result) == [[path, "2", "line_no", "moet een geheel getal van 1 tot 2.000.000.000 zijn"]]


@pytest.mark.parametrize("delimiter", [";;", "", '"', "\n", "\0"])
def test_a_delimiter_of_other_than_one_character_is_a_problem_not_a_traceback(app, tmp_path, delimiter):
    with app.app_context():
        path = write(tmp_path, "companies.csv", "code;name\nNORD;Nord A/S\n")
        result = run_import(app, "--delimiter", delimiter, "companies", path)
        assert result.exit_code == 1 and (result.exception is None or isinstance(result.exception, SystemExit))
        [[file, line, column, reason]] = problems_of(result)
        assert (file, line, column) == (path, "", "")
        assert reason == (f"the delimiter {delimiter!r} cannot be used: give one character that is not a quote "
                          "or a line break (e.g. ';')")
        assert "Traceback" not in result.output + result.stderr
