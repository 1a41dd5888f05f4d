"""JSON Lines read back with json: one object per line, UTF-8, exact decimals, ISO dates."""
import json
from decimal import Decimal

from portal.exporting.formats import get_writer

from formats_samples import rounded


def test_read_back_equals_the_source(tmp_path, columns, rows):
    writer = get_writer("jsonl")(tmp_path / "out.jsonl", columns, {"skip_headers": False})
    writer.write_rows(rows)
    info = writer.close()
    data = (tmp_path / "out.jsonl").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "Åsa Ørsted".encode("utf-8") in data          # UTF-8, not \u escapes
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(rows) == info.rows
    for line, row in zip(lines, rows):
        record = json.loads(line, parse_float=Decimal)
        assert list(record) == [column.key for column in columns]   # technical keys, column order
        assert record == {
            "name": row["name"],                                    # JSON is not a spreadsheet: as is
            "count": row["count"],
            "amount": rounded(row["amount"], 2),
            "rate": None if row["rate"] is None else rounded(row["rate"], 4),
            "day": row["day"].isoformat(),
            "moment": None if row["moment"] is None else row["moment"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "flag": row["flag"],
        }


def test_decimals_keep_their_scale_in_the_text(tmp_path, columns, rows):
    writer = get_writer("jsonl")(tmp_path / "out.jsonl", columns, {})
    writer.write_rows(rows[:2])
    writer.close()
    first, second = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert '"amount":-1234.50' in first and '"rate":0.1235' in first
    assert '"amount":20.00' in second


def test_text_with_newlines_and_quotes_stays_on_one_line(tmp_path, columns, rows):
    writer = get_writer("jsonl")(tmp_path / "out.jsonl", columns, {})
    writer.write_rows([dict(rows[0], name='a\nb "c"\u2028')])
    writer.close()
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").split("\n")
    assert len(lines) == 2
    assert json.loads(lines[0])["name"] == 'a\nb "c"\u2028'
