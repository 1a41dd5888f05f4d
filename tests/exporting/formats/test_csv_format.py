"""CSV read back with the csv module: values, formula neutralisation, encodings, options, headers."""
import csv
import io

import pytest
from flask_babel import force_locale

from portal.exporting.formats import get_writer

from formats_samples import DANGEROUS, expected_text, rounded


def write(path, columns, rows, **options):
    writer = get_writer("csv")(path, columns, options)
    writer.write_rows(rows)
    return writer.close()


def read(path, encoding="utf-8", **dialect):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, **dialect))


def expected_line(row):
    amount = row["amount"]
    rate = row["rate"]
    return [
        expected_text(row["name"]),
        "" if row["count"] is None else str(row["count"]),
        str(rounded(amount, 2)),
        "" if rate is None else str(rounded(rate, 4)),
        row["day"].isoformat(),
        "" if row["moment"] is None else row["moment"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "" if row["flag"] is None else ("true" if row["flag"] else "false"),
    ]


def test_read_back_equals_the_source(tmp_path, columns, rows):
    info = write(tmp_path / "out.csv", columns, rows, translated_headers=False)
    lines = read(tmp_path / "out.csv")
    assert lines[0] == ["name", "count", "amount", "rate", "day", "moment", "flag"]
    assert lines[1:] == [expected_line(row) for row in rows]
    assert info.rows == len(rows)


def test_decimals_have_a_dot_and_a_fixed_scale_and_negatives_stay_numbers(tmp_path, columns, rows):
    write(tmp_path / "out.csv", columns, rows, delimiter=";")
    lines = read(tmp_path / "out.csv", delimiter=";")
    assert lines[1][2] == "-1234.50"      # a negative amount is a number, not neutralised text
    assert lines[2][2] == "20.00"
    assert lines[1][3] == "0.1235"        # scale 4, half up


@pytest.mark.parametrize("dangerous", DANGEROUS)
def test_formula_like_text_is_neutralised(tmp_path, columns, rows, dangerous):
    write(tmp_path / "out.csv", columns, [dict(rows[0], name=dangerous)])
    cell = read(tmp_path / "out.csv")[1][0]
    assert cell == "'" + dangerous
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_harmless_text_is_left_alone(tmp_path, columns, rows):
    write(tmp_path / "out.csv", columns, [dict(rows[0], name="a=1"), dict(rows[0], name="'quoted")])
    assert [line[0] for line in read(tmp_path / "out.csv")[1:]] == ["a=1", "'quoted"]


def test_utf8_has_no_bom_and_utf8_sig_has_one(tmp_path, columns, rows):
    write(tmp_path / "plain.csv", columns, rows)
    write(tmp_path / "excel.csv", columns, rows, encoding="utf-8-sig")
    plain = (tmp_path / "plain.csv").read_bytes()
    excel = (tmp_path / "excel.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel.startswith(b"\xef\xbb\xbf")
    assert excel[3:] == plain
    assert "Åsa Ørsted".encode("utf-8") in plain
    assert read(tmp_path / "excel.csv", encoding="utf-8-sig") == read(tmp_path / "plain.csv")


@pytest.mark.parametrize("terminator", ["\r\n", "\n"])
def test_line_terminator(tmp_path, columns, rows, terminator):
    write(tmp_path / "out.csv", columns, rows[:2], line_terminator=terminator)
    data = (tmp_path / "out.csv").read_bytes()
    assert data.count(terminator.encode()) == 3
    if terminator == "\n":
        assert b"\r" not in data


def test_delimiter_and_quote_character(tmp_path, columns, rows):
    write(tmp_path / "out.csv", columns, rows, delimiter=";", quotechar="'")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].count(";") == len(columns) - 1
    lines = read(tmp_path / "out.csv", delimiter=";", quotechar="'")
    assert lines[1:] == [expected_line(row) for row in rows]


def test_tab_delimiter(tmp_path, columns, rows):
    write(tmp_path / "out.tsv", columns, rows, delimiter="\t")
    assert read(tmp_path / "out.tsv", delimiter="\t")[1:] == [expected_line(row) for row in rows]


def test_skip_headers(tmp_path, columns, rows):
    write(tmp_path / "out.csv", columns, rows, skip_headers=True)
    lines = read(tmp_path / "out.csv")
    assert lines == [expected_line(row) for row in rows]


def test_no_rows_is_a_file_with_only_headers(tmp_path, columns):
    info = write(tmp_path / "out.csv", columns, [])
    assert info.rows == 0
    assert len(read(tmp_path / "out.csv")) == 1


@pytest.mark.parametrize("locale, headers", [
    ("en", ["Description", "Line", "Debit", "rate", "Period", "moment", "Correction"]),
    ("nl", ["Beschrijving", "Regel", "Debet", "rate", "Periode", "moment", "Correctie"]),
    ("sv", ["Beskrivning", "Rad", "Debet", "rate", "Period", "moment", "Rättelse"]),
    ("da", ["Beskrivelse", "Linje", "Debet", "rate", "Periode", "moment", "Korrektion"]),
])
def test_translated_headers_follow_the_locale(app, tmp_path, columns, rows, locale, headers):
    with app.app_context(), force_locale(locale):
        write(tmp_path / "out.csv", columns, rows)
        write(tmp_path / "technical.csv", columns, rows, translated_headers=False)
    assert read(tmp_path / "out.csv")[0] == headers
    assert read(tmp_path / "technical.csv")[0] == [column.key for column in columns]


def test_batches_stream_into_one_file(tmp_path, columns, rows):
    writer = get_writer("csv")(tmp_path / "out.csv", columns, {"skip_headers": True})
    for row in rows:
        writer.write_rows((r for r in [row]))
    writer.close()
    assert read(tmp_path / "out.csv") == [expected_line(row) for row in rows]


def test_embedded_newlines_survive_quoting(tmp_path, columns, rows):
    write(tmp_path / "out.csv", columns, rows)
    raw = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert '"line\nbreak"' in raw
    with io.open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        assert any(line[0] == "line\nbreak" for line in csv.reader(handle))
