"""Run directories and file names: profile, P/T, window, version."""
from datetime import date, datetime, timedelta, timezone

import pytest

from portal.exporting.storage import file_name, file_path, run_directory, slug


def test_run_directory_is_created_under_the_storage_root(tmp_path):
    directory = run_directory(tmp_path, 42)
    assert directory == tmp_path / "42" and directory.is_dir()
    assert run_directory(tmp_path, "42") == directory     # again: no error


@pytest.mark.parametrize("run_id", ["../etc", "a/b", "", ".."])
def test_unsafe_run_ids_are_refused(tmp_path, run_id):
    with pytest.raises(ValueError):
        run_directory(tmp_path, run_id)


def test_file_name_says_profile_mode_window_and_version():
    name = file_name("Løn – Nord/Øst «Åland»", "production", date(2026, 1, 1), date(2026, 1, 31),
                     datetime(2026, 11, 21, 15, 14, 0), ".CSV")
    assert name == "lon-nord-ost-aland_P_20260101-20260131_20261121T151400Z.csv"
    assert name.isascii()


def test_test_runs_say_t_and_aware_versions_are_converted_to_utc():
    amsterdam = timezone(timedelta(hours=1))
    name = file_name("Hours", "test", datetime(2026, 3, 1, 0, 0), "2026-03-31",
                     datetime(2026, 3, 1, 10, 0, 5, tzinfo=amsterdam), "xlsx")
    assert name == "hours_T_20260301-20260331_20260301T090005Z.xlsx"


def test_slug_falls_back_and_is_bounded():
    assert slug("€€€") == "export"
    assert slug("Straße Æble Łódź") == "strasse-aeble-lodz"
    assert len(slug("x" * 500)) == 60


@pytest.mark.parametrize("extension", ["c/sv", "", "a b"])
def test_unsafe_extensions_are_refused(extension):
    with pytest.raises(ValueError):
        file_name("P", "test", date(2026, 1, 1), date(2026, 1, 2), datetime(2026, 1, 1), extension)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        file_name("P", "staging", date(2026, 1, 1), date(2026, 1, 2), datetime(2026, 1, 1), "csv")


def test_file_path_keeps_files_inside_the_run_directory(tmp_path):
    assert file_path(tmp_path, 7, "a.csv") == tmp_path / "7" / "a.csv"
    for bad in ("../a.csv", ".hidden", "x/y.csv"):
        with pytest.raises(ValueError):
            file_path(tmp_path, 7, bad)
