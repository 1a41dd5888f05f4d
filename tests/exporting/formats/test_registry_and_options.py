"""The registry, the options' checks, the atomic rename and the FileInfo figures."""
import hashlib
import os

import pytest

from portal.exporting.formats import Column, FormatError, format_names, get_writer


def test_every_format_is_registered():
    assert format_names() == ("csv", "jsonl", "sie4", "xlsx")
    assert get_writer("csv").extension == "csv"
    assert get_writer("sie4").extension == "si"


def test_an_unknown_format_is_a_format_error_with_a_message(app):
    with pytest.raises(FormatError) as caught:
        get_writer("pdf")
    assert caught.value.code == "unknown_format"
    with app.test_request_context():
        assert "pdf" in caught.value.message


def test_a_column_kind_must_be_known():
    with pytest.raises(ValueError):
        Column("x", None, "money")


@pytest.mark.parametrize("options, option", [
    ({"delimiter": ";;"}, "delimiter"),
    ({"delimiter": "\n"}, "delimiter"),
    ({"quotechar": ","}, "quotechar"),
    ({"encoding": "latin-1"}, "encoding"),
    ({"line_terminator": "\r"}, "line_terminator"),
    ({"skip_headers": "perhaps"}, "skip_headers"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path, columns, options, option):
    with pytest.raises(FormatError) as caught:
        get_writer("csv")(tmp_path / "out.csv", columns, options)
    assert caught.value.params["option"] == option
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "xlsx"])
def test_the_file_appears_only_on_close_with_its_size_and_hash(tmp_path, columns, rows, format_name):
    target = tmp_path / f"out.{format_name}"
    writer = get_writer(format_name)(target, columns, {})
    writer.write_rows(rows[:3])
    writer.write_rows(iter(rows[3:]))
    assert not target.exists()
    info = writer.close()
    assert target.exists()
    data = target.read_bytes()
    assert info.size == len(data) == os.path.getsize(target)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.rows == len(rows)
    assert info.name == target.name and info.format == format_name
    assert [p.name for p in tmp_path.iterdir()] == [target.name]   # no temporary file left
    assert writer.close() is info


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "xlsx"])
def test_a_failure_inside_the_with_block_leaves_no_file(tmp_path, columns, rows, format_name):
    target = tmp_path / f"out.{format_name}"
    with pytest.raises(RuntimeError):
        with get_writer(format_name)(target, columns, {}) as writer:
            writer.write_rows(rows)
            raise RuntimeError("the worker died")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "xlsx"])
def test_a_bad_value_names_its_row_and_column(tmp_path, columns, rows, format_name):
    writer = get_writer(format_name)(tmp_path / f"out.{format_name}", columns, {})
    broken = dict(rows[0], amount="twelve")
    with pytest.raises(FormatError) as caught:
        writer.write_rows([rows[0], rows[1], broken])
    assert caught.value.code == "bad_value"
    assert caught.value.params["row"] == 3
    assert caught.value.params["column"] == "amount"
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_missing_column_names_its_row(tmp_path, columns, rows):
    writer = get_writer("csv")(tmp_path / "out.csv", columns, {})
    incomplete = dict(rows[0])
    del incomplete["moment"]
    with pytest.raises(FormatError) as caught:
        writer.write_rows([incomplete])
    assert (caught.value.code, caught.value.params["column"], caught.value.params["row"]) == \
        ("missing_value", "moment", 1)
    writer.abort()


def test_same_rows_give_the_same_bytes(tmp_path, columns, rows):
    """Test runs and production runs must produce the same files: formatting is deterministic."""
    digests = set()
    for name in ("a", "b"):
        writer = get_writer("csv")(tmp_path / f"{name}.csv", columns, {})
        writer.write_rows(rows)
        digests.add(writer.close().sha256)
    assert len(digests) == 1


def test_options_as_a_form_sends_them(tmp_path, columns, rows):
    from portal.exporting.formats import FormatOptions
    options = FormatOptions.from_mapping({"skip_headers": "true", "translated_headers": "0",
                                          "line_terminator": "LF", "format": "csv", "other": 1})
    assert (options.skip_headers, options.translated_headers, options.line_terminator) == (True, False, "\n")
