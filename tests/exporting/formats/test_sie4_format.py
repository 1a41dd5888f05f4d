"""SIE 4 journals read back with the SIE 4 reader: balanced vouchers, code page 437, corrections."""
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal.exporting.formats import FormatError, get_writer
from portal.exporting.formats.sie4 import JOURNAL_COLUMNS, read_sie4, tokenize

COMPANY = {"company_code": "SE01", "company_name": "Lönebolaget Åäö AB"}


def line(period, line_no, account, debit=0, credit=0, description="", cost_centre=None, cost_unit=None,
         run="PR-2026-01", correction=False, account_name=None):
    return dict(COMPANY, journal_period=period, payroll_run_ref=run, line_no=line_no, account=account,
                account_name=account_name or f"Konto {account}", cost_centre=cost_centre,
                cost_unit=cost_unit, debit=Decimal(debit), credit=Decimal(credit),
                description=description, is_correction=correction)


JANUARY, DECEMBER = date(2026, 1, 1), date(2025, 12, 1)


@pytest.fixture
def journal():
    return [
        line(JANUARY, 1, "7010", debit="25000.00", description="Löner tjänstemän", cost_centre="100",
             cost_unit="P1", account_name="Löner till tjänstemän"),
        line(JANUARY, 2, "7510", debit="7855.00", description="Arbetsgivaravgifter", cost_centre="100"),
        line(JANUARY, 3, "2710", credit="7500.00", description="Personalskatt"),
        line(JANUARY, 4, "2731", credit="7855.00", description="Avräkning sociala avgifter"),
        line(JANUARY, 5, "1930", credit="17500.00", description='Utbetalt "netto" \\ bank'),
        # Correction lines about December, delivered with January's run: booked in December.
        line(DECEMBER, 6, "7010", debit="1200.50", description="Rättelse övertid", cost_centre="200",
             correction=True),
        line(DECEMBER, 7, "1930", credit="1200.50", description="", correction=True),
    ]


def write(path, rows, **options):
    options.setdefault("sie_generated_on", "2026-02-03")
    writer = get_writer("sie4")(path, JOURNAL_COLUMNS, options)
    writer.write_rows(rows)
    return writer.close()


def test_read_back_equals_the_source(tmp_path, journal):
    info = write(tmp_path / "journal.si", journal)
    assert info.rows == len(journal)
    document = read_sie4(tmp_path / "journal.si")

    assert document.first("#FLAGGA") == ["0"]
    assert document.first("#FORMAT") == ["PC8"]
    assert document.first("#SIETYP") == ["4"]
    assert document.first("#PROGRAM")[0] == "Export Portal"
    assert document.first("#GEN") == ["20260203"]
    assert document.first("#FNR") == ["SE01"]
    assert document.first("#FNAMN") == ["Lönebolaget Åäö AB"]
    assert document.first("#KPTYP") == ["BAS2014"]
    assert document.years == {0: (date(2026, 1, 1), date(2026, 12, 31)),
                              -1: (date(2025, 1, 1), date(2025, 12, 31))}
    assert document.accounts == {"1930": "Konto 1930", "2710": "Konto 2710", "2731": "Konto 2731",
                                 "7010": "Löner till tjänstemän", "7510": "Konto 7510"}
    assert document.dimensions == {1: ("Kostnadsställe", None), 2: ("Kostnadsbärare", 1)}
    assert document.objects == {(1, "100"): "100", (1, "200"): "200", (2, "P1"): "P1"}

    # One voucher per company and period, in period order, numbered in the series.
    assert [(v.series, v.number, v.date) for v in document.vouchers] == [
        ("A", "1", DECEMBER), ("A", "2", JANUARY)]
    transactions = {(v.date, t.account, t.amount): t for v in document.vouchers for t in v.transactions}
    assert len(transactions) == len(journal)
    for row in journal:
        transaction = transactions[(row["journal_period"], row["account"], row["debit"] - row["credit"])]
        expected_objects = [(d, o) for d, o in ((1, row["cost_centre"]), (2, row["cost_unit"])) if o]
        assert transaction.objects == expected_objects
        assert transaction.date == row["journal_period"]
        if row["is_correction"]:
            assert "PR-2026-01" in transaction.text
            assert transaction.text.startswith(row["description"])
        else:
            assert transaction.text == row["description"]


def test_every_voucher_balances_and_debit_is_positive(tmp_path, journal):
    write(tmp_path / "journal.si", journal)
    document = read_sie4(tmp_path / "journal.si")
    for voucher in document.vouchers:
        assert voucher.balance == 0
    january = document.vouchers[1]
    assert [t.amount for t in january.transactions] == [
        Decimal("25000.00"), Decimal("7855.00"), Decimal("-7500.00"), Decimal("-7855.00"),
        Decimal("-17500.00")]


def test_correction_lines_are_booked_in_the_period_they_correct(tmp_path, journal):
    write(tmp_path / "journal.si", journal)
    december = read_sie4(tmp_path / "journal.si").vouchers[0]
    assert december.date == DECEMBER
    assert [t.account for t in december.transactions] == ["7010", "1930"]
    assert december.text == "Payroll journal 2025-12, payroll run PR-2026-01"
    assert december.transactions[0].text == "Rättelse övertid (Correction, payroll run PR-2026-01)"
    assert december.transactions[1].text == "Correction, payroll run PR-2026-01"


def test_a_journal_holding_lines_of_two_runs_names_both(tmp_path):
    rows = [line(JANUARY, 1, "7010", debit="10.00", run="R2"),
            line(JANUARY, 2, "1930", credit="10.00", run="R2"),
            line(JANUARY, 3, "7010", debit="1.00", run="R1", correction=True),
            line(JANUARY, 4, "1930", credit="1.00", run="R1", correction=True)]
    write(tmp_path / "journal.si", rows)
    (voucher,) = read_sie4(tmp_path / "journal.si").vouchers
    assert voucher.text == "Payroll journal 2026-01, payroll run R1, R2"


def test_code_page_437_and_crlf(tmp_path, journal):
    rows = journal[:1] + [dict(journal[1], description="åäöÅÄÖ éü Škoda € ł")] + journal[2:5]
    write(tmp_path / "journal.si", rows)
    raw = (tmp_path / "journal.si").read_bytes()
    assert "åäöÅÄÖ".encode("cp437") == b"\x86\x84\x94\x8f\x8e\x99"
    assert b"\x86\x84\x94\x8f\x8e\x99" in raw
    assert "åäö".encode("utf-8") not in raw
    assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"}\r\n")
    texts = [t.text for v in read_sie4(tmp_path / "journal.si").vouchers for t in v.transactions]
    # Letters outside code page 437 fall back to their base letter, or '?' when there is none.
    assert "åäöÅÄÖ éü Skoda ? ?" in texts


def test_quotes_and_backslashes_survive(tmp_path, journal):
    write(tmp_path / "journal.si", journal)
    raw = (tmp_path / "journal.si").read_bytes().decode("cp437")
    assert r'"Utbetalt \"netto\" \\ bank"' in raw
    texts = [t.text for v in read_sie4(tmp_path / "journal.si").vouchers for t in v.transactions]
    assert 'Utbetalt "netto" \\ bank' in texts


def test_control_characters_cannot_break_a_record(tmp_path, journal):
    rows = [dict(journal[0], description="two\r\nlines\tand tab")] + journal[1:5]
    write(tmp_path / "journal.si", rows)
    texts = [t.text for v in read_sie4(tmp_path / "journal.si").vouchers for t in v.transactions]
    assert "two  lines and tab" in texts


def test_rows_in_any_order_are_grouped_into_their_vouchers(tmp_path, journal):
    shuffled = [journal[i] for i in (6, 2, 0, 5, 4, 1, 3)]
    write(tmp_path / "shuffled.si", shuffled)
    write(tmp_path / "ordered.si", journal)
    assert (tmp_path / "shuffled.si").read_bytes() == (tmp_path / "ordered.si").read_bytes()


def test_an_unbalanced_journal_is_refused_and_no_file_appears(tmp_path, journal):
    writer = get_writer("sie4")(tmp_path / "journal.si", JOURNAL_COLUMNS, {})
    writer.write_rows(journal[:4])
    with pytest.raises(FormatError) as caught:
        writer.close()
    assert caught.value.code == "sie_unbalanced"
    assert caught.value.params["period"] == {"month": "2026-01-01"}     # a month: each reader's words for it
    assert caught.value.params["difference"] == Decimal("17500.00")   # an amount: each reader's separators
    assert list(tmp_path.iterdir()) == []


def test_a_second_company_is_refused(tmp_path, journal):
    writer = get_writer("sie4")(tmp_path / "journal.si", JOURNAL_COLUMNS, {})
    other = dict(journal[0], company_code="SE02", company_name="Andra AB")
    with pytest.raises(FormatError) as caught:
        writer.write_rows([journal[0], other])
    assert caught.value.params == {"first": "SE01", "second": "SE02"}
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    assert get_writer("sie4").one_file_per == "company_code"


def test_amounts_with_more_than_two_decimals_are_refused(tmp_path, journal):
    writer = get_writer("sie4")(tmp_path / "journal.si", JOURNAL_COLUMNS, {})
    with pytest.raises(FormatError) as caught:
        writer.write_rows([dict(journal[0], debit=Decimal("1.005"))])
    assert caught.value.code == "sie_amount"
    writer.abort()


def test_options_series_numbers_dimension_6_voucher_date_and_fiscal_year(tmp_path, journal):
    write(tmp_path / "journal.si", journal, sie_series="L", sie_first_voucher_number=41,
          sie_cost_unit_dimension=6, sie_voucher_date="period_end", sie_fiscal_year_start_month=7,
          sie_chart_of_accounts="EUBAS97")
    document = read_sie4(tmp_path / "journal.si")
    assert [(v.series, v.number, v.date) for v in document.vouchers] == [
        ("L", "41", date(2025, 12, 31)), ("L", "42", date(2026, 1, 31))]
    assert document.dimensions == {1: ("Kostnadsställe", None), 6: ("Projekt", None)}
    assert document.vouchers[1].transactions[0].objects == [(1, "100"), (6, "P1")]
    assert document.years == {0: (date(2025, 7, 1), date(2026, 6, 30))}
    assert document.first("#KPTYP") == ["EUBAS97"]


def test_voucher_text_in_the_run_locale(app, tmp_path, journal):
    with app.app_context(), force_locale("sv"):
        write(tmp_path / "journal.si", journal)
    document = read_sie4(tmp_path / "journal.si")
    assert document.vouchers[0].text == "Lönejournal 2025-12, lönekörning PR-2026-01"
    assert document.vouchers[0].transactions[1].text == "Rättelse, lönekörning PR-2026-01"


def test_an_empty_journal_is_a_valid_file_without_vouchers(tmp_path):
    info = write(tmp_path / "journal.si", [])
    document = read_sie4(tmp_path / "journal.si")
    assert info.rows == 0 and document.vouchers == [] and document.first("#SIETYP") == ["4"]


TYPICAL = (
    '#FLAGGA 1\r\n#PROGRAM "Hogia Lön" 12.1\r\n#FORMAT PC8\r\n#GEN 20250131 ANNA\r\n#SIETYP 4\r\n'
    '#ORGNR 556677-8899\r\n#FNAMN "Kr\x84ftor & S\x94ner AB"\r\n#RAR 0 20250101 20251231\r\n'
    '#DIM 1 "Kostnadsst\x84lle"\r\n#DIM 6 Projekt\r\n#OBJEKT 1 10 "F\x94rs\x84ljning"\r\n'
    '#OBJEKT 6 "47 B" "Projekt 47 B"\r\n#KONTO 1930 "Bank"\r\n#KONTO 5611 Drivmedel\r\n'
    '#VER "B" "" 20250115 "Tankning {diesel}"\r\n{\r\n'
    '\t#TRANS 5611 {1 "10" 6 "47 B"} 400 20250115 "" 12.5 ANNA\r\n'
    '\t#TRANS 1930 {} -400.00\r\n'
    '\t#RTRANS 1930 {} -400.00 20250116 "Tillagd"\r\n'
    '}\r\n#KSUMMA 1234567\r\n'
)


def test_the_reader_reads_a_typical_sie_4_file(tmp_path):
    path = tmp_path / "typical.se"
    path.write_bytes(TYPICAL.encode("latin-1"))   # the escapes above are the file's code-page-437 bytes
    document = read_sie4(path)
    assert document.first("#FNAMN") == ["Kräftor & Söner AB"]
    assert document.first("#GEN") == ["20250131", "ANNA"]
    assert document.dimensions == {1: ("Kostnadsställe", None), 6: ("Projekt", None)}
    assert document.objects[(6, "47 B")] == "Projekt 47 B"
    assert document.accounts == {"1930": "Bank", "5611": "Drivmedel"}
    (voucher,) = document.vouchers
    assert (voucher.series, voucher.number, voucher.text) == ("B", "", "Tankning {diesel}")
    first, second, added = voucher.transactions
    assert first.objects == [(1, "10"), (6, "47 B")] and first.quantity == Decimal("12.5")
    assert first.sign == "ANNA" and first.amount == Decimal("400")
    assert second.date is None and second.text == ""
    assert added.label == "#RTRANS"
    assert voucher.balance == 0          # #RTRANS/#BTRANS lines are not part of the balance
    assert document.first("#KSUMMA") == ["1234567"]


def test_tokenize():
    assert tokenize('#TRANS 1930 {1 "1 0" 6 x} -1.00 "" "a \\"b\\" c"') == [
        "#TRANS", "1930", ["1", "1 0", "6", "x"], "-1.00", "", 'a "b" c']
