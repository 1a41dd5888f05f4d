"""The managers' overview: filters, sorting, paging, totals per status, CSV, permissions — and a page of
100,000 runs answered with a fixed, small number of statements (no N+1)."""
import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, insert

from portal.extensions import db
from portal.models.exporting import Run

from tests import factories

STATUSES = ["exported", "exported", "exported", "partially_processed", "failed", "cancelled", "rolled_back"]


def seed_runs(profiles, n, starters, start=datetime(2025, 11, 21)):
    """``n`` runs over a year, spread over the profiles, statuses, modes and starters, inserted in bulk."""
    step = timedelta(days=365) / n
    rows = []
    for i in range(n):
        started = start + step * i
        status = STATUSES[i % len(STATUSES)]
        # A production run that is still active holds its profile: only finished ones here.
        production = i % 4 == 0 and status != "partially_processed"
        rows.append({"profile_id": profiles[i % len(profiles)], "mode": "production" if production else "test",
                     "operation": "prepare_and_export", "params": {}, "window_start": started.date(),
                     "window_end": started.date(), "status": status, "done": 10, "total": 10,
                     "counts": {"records": 10, "processed": 10, "errors": 1 if i % 7 == 3 else 0},
                     "started_by_id": starters[i % len(starters)], "started_at": started,
                     "finished_at": started + timedelta(minutes=2), "attempts": 1, "export_passes": 1,
                     "locale": "en", "updated_at": started})
        if len(rows) == 10000:
            db.session.execute(insert(Run), rows)
            rows = []
    if rows:
        db.session.execute(insert(Run), rows)
    db.session.commit()


@pytest.fixture
def small(app, users):
    with app.app_context():
        a = factories.profile("Salarisjournaal")
        b = factories.profile("Facturen", export_type="invoices")
        seed_runs([a.id, b.id], 70, [factories.user_id("staff"), factories.user_id("consultant")])
        return {"journals": a.id, "invoices": b.id, "staff": factories.user_id("staff")}


def test_overview_lists_totals_and_pages(client, auth, small):
    auth.login("manager")
    page = client.get("/overview/").get_data(as_text=True)
    assert "70 exports match" in page and "Page 1 of 2" in page
    assert re.search(r"Exported</span> <strong>30</strong>", page)
    assert "warning-triangle" in page


def test_filters_combine(client, auth, small):
    auth.login("manager")
    page = client.get(f"/overview/?export_type=invoices&mode=production&started_by={small['staff']}").get_data(as_text=True)
    # invoices are the odd runs, production every 4th, staff the even ones: none match all three.
    assert "0 exports match" in page and "No exports match these filters." in page
    page = client.get("/overview/?export_type=invoices&status=failed").get_data(as_text=True)
    assert "5 exports match" in page


def test_date_range_and_sorting(client, auth, small):
    auth.login("manager")
    page = client.get("/overview/?date_from=2026-05-01&date_to=2026-05-31&sort=started&dir=asc").get_data(as_text=True)
    count = int(re.search(r"(\d+) exports match", page).group(1))
    assert 4 <= count <= 7
    assert 'aria-sort="ascending"' in page


def test_filtering_keeps_the_sort_and_a_first_click_sorts_names_a_to_z_and_dates_newest_first(client, auth, small):
    auth.login("manager")
    page = client.get("/overview/?sort=profile&dir=asc").get_data(as_text=True)
    # The filter form (outside the region a header click swaps) sends the table's sort with the filters.
    assert '<input type="hidden" name="sort" value="profile" form="overview-filters">' in page
    assert '<input type="hidden" name="dir" value="asc" form="overview-filters">' in page
    fragment = client.get("/overview/?sort=profile&dir=asc&status=failed",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="sort" value="profile"' in fragment and 'aria-sort="ascending"' in fragment
    links = dict(re.findall(r'href="/overview/\?([^"]*)"[^>]*>([^<]+)<', client.get("/overview/").get_data(as_text=True)))
    by_label = {label.strip(): query.replace("&amp;", "&") for query, label in links.items()}
    assert "sort=profile" in by_label["Export profile"] and "dir=asc" in by_label["Export profile"]
    assert "sort=finished" in by_label["Completed on"] and "dir=desc" in by_label["Completed on"]
    assert "sort=started" in by_label["Started on"] and "dir=asc" in by_label["Started on"]  # sorted: turns


@pytest.mark.parametrize("locale, message", [("en", "is not a date"), ("sv", "är inte ett datum")])
def test_a_bad_date_says_so_and_is_ignored(client, auth, small, locale, message):
    auth.login("manager")
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/")})
    page = client.get("/overview/?date_from=31-13-2026").get_data(as_text=True)
    assert message in page and "70" in page


def test_swedish_overview_and_htmx_fragment(client, auth, small):
    auth.login("manager")
    client.post("/language", data={"locale": "sv", "csrf_token": auth.csrf_token("/")})
    page = client.get("/overview/").get_data(as_text=True)
    assert "Översikt över alla exporter" in page and "Tidsperiod" in page and "Exporterad" in page
    fragment = client.get("/overview/?status=failed", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="results">') and "<html" not in fragment


def test_csv_download_follows_the_filters(client, auth, small):
    auth.login("manager")
    response = client.get("/overview/export.csv?status=failed")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Export", "Export profile", "Export type", "P/T", "Status"]
    assert len(rows) == 1 + 10 and {r[4] for r in rows[1:]} == {"Failed"}


@pytest.mark.parametrize("who, status", [("manager", 200), ("consultant", 200), ("staff", 403)])
def test_who_sees_the_overview(client, auth, small, who, status):
    auth.login(who)
    assert client.get("/overview/").status_code == status
    assert client.get("/overview/export.csv").status_code == status


def test_100000_runs_page_without_n_plus_one(any_app):
    """A deep page of 100,000 runs, filtered and sorted, costs the same few statements as a page of one."""
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        profiles = [factories.profile(f"Profiel {i}", export_type=t).id
                    for i, t in enumerate(["journal_entries", "invoices", "hours", "payments"])]
        seed_runs(profiles, 100_000, [factories.user_id("staff"), factories.user_id("consultant"),
                                      factories.user_id("admin")])
        engine = db.engine
    client = any_app.test_client()
    from tests.factories import AuthActions
    AuthActions(client).login("manager")
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def statements_for(url):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements), response.get_data(as_text=True)

    full, page = statements_for("/overview/?page=1000&sort=profile&dir=asc")
    assert "100,000 exports match" in page and "Page 1,000 of 2,000" in page
    assert page.count('<tr>') >= 50
    one_row, page = statements_for("/overview/?page=1&mode=production&status=failed&date_from=2026-11-20")
    assert full == one_row <= 12, statements


def test_pages_sorted_by_profile_show_every_run_once_in_a_unique_order(any_app):
    """Two profiles with the same name (one archived: a name is free again once its profile is archived):
    sorted by profile, their runs come profile by profile (ties by the profile's id, then the run's), and
    the pages (taken over the runs' ids only) neither repeat nor skip a run; the count shown is the sum of
    the totals per status."""
    from portal.exporting import queries, services
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        archived = factories.profile("Zelfde naam").id
        services.archive_profile(archived)
        profiles = [archived, factories.profile("Zelfde naam").id, factories.profile("Aardig").id]
        seed_runs(profiles, 130, [factories.user_id("staff")])
        runs = db.session.execute(db.select(Run.id, Run.profile_id, Run.status)).all()
        rank = {profiles[2]: 0, min(profiles[:2]): 1, max(profiles[:2]): 2}
        for direction, reverse in (("asc", False), ("desc", True)):
            expected = [r.id for r in sorted(runs, key=lambda r: (rank[r.profile_id], r.id), reverse=reverse)]
            filters = queries.OverviewFilters(sort="profile", direction=direction)
            totals = queries.overview_totals(filters)
            shown = []
            for number in (1, 2, 3):
                page = queries.overview_page(filters, page=number, totals=totals)
                assert page.total == 130 and page.pages == 3
                shown += [run.id for run in page.items]
            assert shown == expected
        failed = queries.OverviewFilters(status="failed")
        page = queries.overview_page(failed, totals=queries.overview_totals(failed))
        assert page.total == sum(1 for r in runs if r.status == "failed") == len(page.items)


def test_pages_sorted_by_profile_with_filters_keep_the_order_of_the_sort(any_app):
    """Sorted by profile with filters on the profile (export type) and on the runs (mode, period, status):
    the pages give exactly the matching runs in (name, profile id, run id) order, both directions — on
    PostgreSQL the ids come from a nested loop over the profiles (LATERAL), not from an ORDER BY."""
    from datetime import date
    from portal.exporting import queries
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        from portal.exporting import services
        made = [factories.profile("Beta", export_type="invoices"), factories.profile("Alfa", export_type="invoices")]
        for earlier in made:      # a name is free again once its profile is archived (names are unique in use)
            services.archive_profile(earlier.id)
        made += [factories.profile("Beta", export_type="invoices"), factories.profile("Alfa")]
        profiles = [p.id for p in made]
        seed_runs(profiles, 400, [factories.user_id("staff")])
        runs = db.session.execute(db.select(Run.id, Run.profile_id, Run.mode, Run.status, Run.started_at)).all()
        name = {p.id: p.name for p in made}
        invoices = {p.id for p in made if p.export_type == "invoices"}
        cases = [
            (dict(export_type="invoices"), lambda r: r.profile_id in invoices),
            (dict(export_type="invoices", mode="test", date_from=date(2026, 2, 1), date_to=date(2026, 7, 31)),
             lambda r: r.profile_id in invoices and r.mode == "test"
             and datetime(2026, 1, 31, 23) <= r.started_at < datetime(2026, 7, 31, 22)),
            (dict(status="exported", mode="test"), lambda r: r.status == "exported" and r.mode == "test"),
            (dict(profile_id=profiles[2]), lambda r: r.profile_id == profiles[2]),
        ]
        for conditions, matches in cases:
            for direction, reverse in (("asc", False), ("desc", True)):
                expected = [r.id for r in sorted((r for r in runs if matches(r)),
                                                 key=lambda r: (name[r.profile_id], r.profile_id, r.id),
                                                 reverse=reverse)]
                filters = queries.OverviewFilters(sort="profile", direction=direction, **conditions)
                totals = queries.overview_totals(filters)
                first = queries.overview_page(filters, page=1, per_page=37, totals=totals)
                assert first.total == len(expected), conditions
                shown = []
                for number in range(1, first.pages + 1):
                    shown += [run.id for run in queries.overview_page(filters, page=number, per_page=37,
                                                                      totals=totals).items]
                assert shown == expected, (conditions, direction)


ROW_EXPECTED = {  # window, records, started (the hour that happens twice: told apart), finished
    # (a failed export's Completed on says "Failed on", in the language: FAILED_ON)
    "en": ("29/03/2026 – 31/03/2026", "1,234,567", "25/10/2026, 02:30 (GMT+02:00)", "25/10/2026, 02:30 (GMT+01:00)"),
    "nl": ("29-03-2026 – 31-03-2026", "1.234.567", "25-10-2026, 02:30 (GMT+02:00)", "25-10-2026, 02:30 (GMT+01:00)"),
    "sv": ("2026-03-29 – 2026-03-31", "1\xa0234\xa0567", "2026-10-25 02:30 (GMT+02:00)", "2026-10-25 02:30 (GMT+01:00)"),
    "da": ("29.03.2026 – 31.03.2026", "1.234.567", "25.10.2026 02.30 (GMT+02:00)", "25.10.2026 02.30 (GMT+01:00)"),
}
FAILED_ON = {"en": "Failed on", "nl": "Mislukt op", "sv": "Misslyckad den", "da": "Fejlet den"}


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_rows_are_written_in_the_viewers_language_and_time_zone(app, client, auth, users, locale):
    """The overview's and Show exports' rows format their dates, times and numbers once per page (the
    locale looked up once, a badge or label rendered once): the text is still each language's, in the
    organisation's time zone, and every row carries its own status and badge."""
    from datetime import date
    from flask_babel import force_locale, gettext
    from portal.exporting.messages import STATUS_LABELS
    from portal.models import User
    with app.app_context():
        profile = factories.profile("Salarisjournaal")
        for status, mode in (("failed", "production"), ("exported", "test"), ("failed", "test")):
            db.session.add(Run(profile_id=profile.id, mode=mode, operation="prepare_and_export", params={},
                               window_start=date(2026, 3, 29), window_end=date(2026, 3, 31), status=status,
                               started_by_id=factories.user_id("staff"), counts={"processed": 1234567},
                               started_at=datetime(2026, 10, 25, 0, 30), finished_at=datetime(2026, 10, 25, 1, 30)))
        db.session.execute(db.update(User).where(User.email == "manager@example.com").values(locale=locale))
        db.session.commit()
        with app.test_request_context("/"), force_locale(locale if locale != "en" else "en_GB"):
            failed, exported = str(STATUS_LABELS["failed"]), str(STATUS_LABELS["exported"])
            production, test = gettext("Production export"), gettext("Test export")
        profile_id = profile.id
    auth.login("manager")
    window, records, started, finished = ROW_EXPECTED[locale]
    for url in ("/overview/?sort=status&dir=asc", f"/profiles/{profile_id}/runs"):
        page = client.get(url).get_data(as_text=True)
        rows = re.findall(r"<tr[^>]*>\s*<td><abbr.*?</tr>", page, re.S)
        assert len(rows) == 3, url
        for row in rows:
            assert f"<td>{window}</td>" in row and f'<td class="num">{records}</td>' in row
            status = re.search(r'class="nowrap"><a [^>]*>([^<]*)</a>', row).group(1)
            ended = f"{FAILED_ON[locale]} {finished}" if status == failed else finished
            assert f"<td>{started}</td>" in row and f"<td>{ended}</td>" in row
        statuses = sorted(re.search(r'class="nowrap"><a [^>]*>([^<]*)</a>', row).group(1) for row in rows)
        assert statuses == sorted([failed, failed, exported]), url
        assert [("warning-triangle" in row) for row in rows].count(True) == 2
        assert sum(f'title="{production}"' in row for row in rows) == 1
        assert sum(f'title="{test}"' in row for row in rows) == 2


def _runs_that_ended(app, locale, *ended):
    """A profile with runs that ended (``(status, attempts)``) at 10:05 on 2 March 2026, Amsterdam time,
    and an exported run completed at 09:30 that day; the manager reads in ``locale``.
    Returns (profile id, the ended runs' ids, the exported run's id)."""
    from portal.models import User
    with app.app_context():
        profile = factories.profile("Salarisjournaal")
        ids = [factories.run(profile, status=status, attempts=attempts, started_at=datetime(2026, 3, 2, 9),
                             finished_at=datetime(2026, 3, 2, 9, 5)).id for status, attempts in ended]
        exported = factories.run(profile, status="exported", attempts=1, started_at=datetime(2026, 3, 2, 8),
                                 finished_at=datetime(2026, 3, 2, 8, 30)).id
        db.session.execute(db.update(User).where(User.email == "manager@example.com").values(locale=locale))
        db.session.commit()
        return profile.id, ids, exported


@pytest.mark.parametrize("locale, cancelled_on", [("en", "Cancelled on 02/03/2026, 10:05"),
                                                   ("nl", "Geannuleerd op 02-03-2026, 10:05")])
def test_a_cancelled_export_is_not_shown_as_completed(app, client, auth, users, locale, cancelled_on):
    """Completed on, in the overview, Show exports and the overview's CSV: an export that was cancelled
    (after it ran a while, or before it ever ran) did not complete; its row says when it was cancelled,
    and the column still sorts by when each export ended."""
    profile_id, cancelled, exported = _runs_that_ended(app, locale, ("cancelled", 1), ("cancelled", 0))
    auth.login("manager")
    completed = {"en": "02/03/2026, 09:30", "nl": "02-03-2026, 09:30"}[locale]
    for url in ("/overview/?sort=finished&dir=desc", f"/profiles/{profile_id}/runs"):
        page = client.get(url).get_data(as_text=True)
        rows = {int(re.search(r'href="/runs/(\d+)"', row).group(1)): row
                for row in re.findall(r"<tr[^>]*>\s*<td><abbr.*?</tr>", page, re.S)}
        for run_id in cancelled:
            assert f"<td>{cancelled_on}</td>" in rows[run_id], url
        assert f"<td>{completed}</td>" in rows[exported], url
        if "sort=finished" in url:
            assert list(rows) == [*reversed(cancelled), exported]   # newest end first (ties: newest), as before
    rows = list(csv.reader(io.StringIO(client.get("/overview/export.csv?sort=finished&dir=desc")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    completed_at, cancelled_at = header.index({"en": "Completed on", "nl": "Voltooid op"}[locale]), \
        header.index({"en": "Cancelled on", "nl": "Geannuleerd op"}[locale])
    by_id = {int(row[0]): row for row in rows[1:]}
    for run_id in cancelled:
        assert by_id[run_id][completed_at] == "" and by_id[run_id][cancelled_at] == "2026-03-02T10:05:00+01:00"
    assert by_id[exported][completed_at] == "2026-03-02T09:30:00+01:00" and by_id[exported][cancelled_at] == ""


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_a_failed_export_is_not_shown_as_completed(app, client, auth, users, locale):
    """A failed export did not complete either: the overview's and Show exports' Completed on cell says
    when it failed ("Failed on …", sorted by when it ended), the run page says "Failed on", and the CSV
    leaves Completed on empty and gives the time under Failed on (its last column)."""
    profile_id, (failed,), exported = _runs_that_ended(app, locale, ("failed", 3))
    auth.login("manager")
    when = {"en": "02/03/2026, 10:05", "nl": "02-03-2026, 10:05", "sv": "2026-03-02 10:05",
            "da": "02.03.2026 10.05"}[locale]
    completed = {"en": "02/03/2026, 09:30", "nl": "02-03-2026, 09:30", "sv": "2026-03-02 09:30",
                 "da": "02.03.2026 09.30"}[locale]
    for url in ("/overview/?sort=finished&dir=desc", f"/profiles/{profile_id}/runs"):
        page = client.get(url).get_data(as_text=True)
        rows = {int(re.search(r'href="/runs/(\d+)"', row).group(1)): row
                for row in re.findall(r"<tr[^>]*>\s*<td><abbr.*?</tr>", page, re.S)}
        assert f"<td>{FAILED_ON[locale]} {when}</td>" in rows[failed], url
        assert f"<td>{completed}</td>" in rows[exported], url
        if "sort=finished" in url:
            assert list(rows) == [failed, exported]
    completed_on = {"en": "Completed on", "nl": "Voltooid op", "sv": "Slutförd den", "da": "Fuldført den"}[locale]
    page = client.get(f"/runs/{failed}").get_data(as_text=True)
    assert f"<dt>{FAILED_ON[locale]}</dt><dd>{when}</dd>" in page and f"<dt>{completed_on}</dt>" not in page
    page = client.get(f"/runs/{exported}").get_data(as_text=True)
    assert f"<dt>{completed_on}</dt><dd>{completed}</dd>" in page and f"<dt>{FAILED_ON[locale]}</dt>" not in page
    rows = list(csv.reader(io.StringIO(client.get("/overview/export.csv?sort=finished&dir=desc")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[-1] == FAILED_ON[locale]
    completed_at = header.index(completed_on)
    by_id = {int(row[0]): row for row in rows[1:]}
    assert by_id[failed][completed_at] == "" and by_id[failed][-1] == "2026-03-02T10:05:00+01:00"
    assert by_id[exported][completed_at] == "2026-03-02T09:30:00+01:00" and by_id[exported][-1] == ""


@pytest.mark.parametrize("sort", ["finished", "window"])
def test_pages_sorted_by_completed_on_or_time_window_keep_a_unique_order(any_app, sort):
    """Sorted by Completed on (runs not finished last, both directions) or by Time window, with ties
    (runs that finished at the same moment, windows that start on the same day): ties by the run's id in
    the sort's direction, and the pages (walked along ``ix_runs_finished_at`` / ``ix_runs_window_start``)
    neither repeat nor skip a run, also with a filter."""
    from portal.exporting import queries
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        profiles = [factories.profile("Een").id, factories.profile("Twee").id]
        seed_runs(profiles, 120, [factories.user_id("staff")])
        ids = db.session.execute(db.select(Run.id).order_by(Run.id)).scalars().all()
        # Ties: every third run finished at the same moment and its window starts on the same day;
        # every seventh is still working (not finished).
        db.session.execute(db.update(Run).where(Run.id.in_(ids[::3]))
                           .values(finished_at=datetime(2026, 3, 1, 12), window_start=datetime(2026, 3, 1).date()))
        db.session.execute(db.update(Run).where(Run.id.in_(ids[::7])).values(finished_at=None))
        db.session.commit()
        runs = db.session.execute(db.select(Run.id, Run.finished_at, Run.window_start, Run.mode)).all()
        column = {"finished": "finished_at", "window": "window_start"}[sort]
        for conditions, matches in (({}, lambda r: True), ({"mode": "test"}, lambda r: r.mode == "test")):
            for direction in ("asc", "desc"):
                present = sorted((r for r in runs if matches(r) and getattr(r, column) is not None),
                                 key=lambda r: (getattr(r, column), r.id), reverse=direction == "desc")
                missing = sorted((r for r in runs if matches(r) and getattr(r, column) is None),
                                 key=lambda r: r.id, reverse=direction == "desc")
                expected = [r.id for r in present + missing]
                filters = queries.OverviewFilters(sort=sort, direction=direction, **conditions)
                totals = queries.overview_totals(filters)
                first = queries.overview_page(filters, page=1, per_page=17, totals=totals)
                assert first.total == len(expected)
                shown = []
                for number in range(1, first.pages + 1):
                    shown += [r.id for r in queries.overview_page(filters, page=number, per_page=17,
                                                                  totals=totals).items]
                assert shown == expected, (sort, direction, conditions)


@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_sorted_by_completed_on_follows_what_the_column_shows(any_app, direction):
    """Completed on sorts by what its cells show: a prepared export that is exported again (queued or
    exporting: its finish time is still its prepare's, which the cell does not show) and an export that
    waits or works show nothing and come last in both directions; cancelled and failed exports by the time
    their cell gives. The page walks ``ix_runs_completed_on``, not a sort of every run. Both databases."""
    from portal.exporting import queries
    with any_app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        profile = factories.profile("Salarisjournaal")
        day = datetime(2026, 3, 2)
        made = {name: factories.run(profile, status=status, attempts=1, started_at=day,
                                    finished_at=day + timedelta(hours=hours) if hours is not None else None).id
                for name, status, hours in (
                    ("exported", "exported", 10), ("again", "queued", 12), ("exporting", "exporting", 13),
                    ("failed", "failed", 9), ("cancelled", "cancelled", 8), ("waiting", "queued", None),
                    ("partly", "partially_processed", 11))}
        filters = queries.OverviewFilters(sort="finished", direction=direction)
        shown = [run.id for run in queries.overview_page(filters, per_page=50).items]
        ended = ["cancelled", "failed", "exported", "partly"]
        empty = sorted(made[name] for name in ("again", "exporting", "waiting"))
        expected = [made[name] for name in (ended if direction == "asc" else ended[::-1])] \
            + (empty if direction == "asc" else empty[::-1])
        assert shown == expected
        # The database walks the expression's index rather than sorting the runs.
        ids = (db.select(Run.id).order_by(*queries._overview_order(filters)).limit(50))
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in db.session.execute(
                db.text("EXPLAIN QUERY PLAN " + str(ids.compile(db.engine, compile_kwargs={"literal_binds": True})))))
            assert "ix_runs_completed_on" in plan and "TEMP B-TREE" not in plan, plan
        else:
            db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in db.session.execute(
                db.text("EXPLAIN " + str(ids.compile(db.engine, compile_kwargs={"literal_binds": True})))))
            assert "ix_runs_completed_on" in plan and "Sort" not in plan, plan
            db.session.rollback()
