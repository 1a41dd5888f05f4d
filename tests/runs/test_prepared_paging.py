"""Prepared data pages by keyset (issue 10): a page is asked for after or before a row, never by number,
so it costs the same deep in a million rows; the edges (first and last page, exactly a page of rows, no
rows, equal sort values, a filter, an edit between two page loads) on both databases."""
import re

import pytest

from portal.exporting import queries, services
from portal.extensions import db
from portal.models.exporting import ExportProfile, PreparedRow

from tests import factories


def _seed(app, rows):
    """A prepared run with ``rows``: dicts of PreparedRow columns (seq, group_key, error …)."""
    with app.app_context():
        from portal.demo.seed import seed_users
        seed_users()
        taken = db.session.execute(db.select(db.func.count(ExportProfile.id))).scalar()
        # A second run in one test: a profile of its own (names are unique among the profiles in use).
        profile = factories.profile("Kassa" if not taken else f"Kassa {taken + 1}", export_type="payments",
                                    fmt="jsonl")
        run = factories.run(profile, status="prepared", mode="production")
        if rows:
            db.session.execute(db.insert(PreparedRow), [
                {"run_id": run.id, "record_key": f"R{i}", "payload": {"receipt_number": f"R{i}"}, **row}
                for i, row in enumerate(rows)])
            db.session.commit()
        return run.id


def _page(app, run_id, per_page=5, **kwargs):
    with app.app_context():
        page = queries.prepared_rows(run_id, per_page=per_page, **kwargs)
        return [row.record_key for row in page.items], page.has_prev, page.has_next, page


def _delivery_order(app, run_id, errors_only=False):
    with app.app_context():
        stmt = db.select(PreparedRow).where(PreparedRow.run_id == run_id)
        if errors_only:
            stmt = stmt.where(queries.prepared_problem())
        rows = db.session.execute(stmt).scalars().all()
        return [r.record_key for r in sorted(rows, key=lambda r: (r.group_key, r.seq, r.id))]


def _ids(app, run_id):
    with app.app_context():
        return dict(db.session.execute(db.select(PreparedRow.record_key, PreparedRow.id)
                                       .where(PreparedRow.run_id == run_id)).all())


def _walk_forward(app, run_id, **kwargs):
    ids, seen, after = _ids(app, run_id), [], None
    while True:
        keys, has_prev, has_next, _page_ = _page(app, run_id, after=after, **kwargs)
        assert has_prev == (after is not None)
        seen.append(keys)
        if not has_next:
            return seen
        after = ids[keys[-1]]


def test_no_rows_is_one_empty_page(any_app):
    run_id = _seed(any_app, [])
    keys, has_prev, has_next, page = _page(any_app, run_id)
    assert (keys, has_prev, has_next, page.total, page.capped) == ([], False, False, 0, False)
    assert _page(any_app, run_id, last=True)[:3] == ([], False, False)


def test_exactly_a_page_of_rows_has_no_next_page(any_app):
    run_id = _seed(any_app, [{"seq": i} for i in range(1, 6)])
    keys, has_prev, has_next, page = _page(any_app, run_id)
    assert keys == ["R0", "R1", "R2", "R3", "R4"] and not has_prev and not has_next and page.total == 5
    # One row more: a second page of one row, which is also the last page.
    run_id = _seed(any_app, [{"seq": i} for i in range(1, 7)])
    ids = _ids(any_app, run_id)
    assert _page(any_app, run_id)[1:3] == (False, True)
    assert _page(any_app, run_id, after=ids["R4"])[:3] == (["R5"], True, False)
    assert _page(any_app, run_id, last=True)[:3] == (["R1", "R2", "R3", "R4", "R5"], True, False)


def test_rows_with_equal_group_and_seq_are_each_shown_once_in_both_directions(any_app):
    """Rows that sort equal (same group, same seq) are told apart by their id: none is skipped or shown
    twice, forwards or backwards, even when a page boundary falls among them."""
    rows = [{"group_key": g, "seq": s} for g in ("B", "A", "") for s in (3, 1, 1, 1, 2, 2, 1)]
    run_id = _seed(any_app, rows)
    order = _delivery_order(any_app, run_id)
    pages = _walk_forward(any_app, run_id)
    assert [k for p in pages for k in p] == order and [len(p) for p in pages] == [5, 5, 5, 5, 1]
    # Backwards from the last page: Previous until the first page.
    ids, seen, before = _ids(any_app, run_id), [], None
    keys, has_prev, has_next, _p = _page(any_app, run_id, last=True)
    assert keys == order[-5:] and has_prev and not has_next
    seen = keys
    while has_prev:
        keys, has_prev, has_next, _p = _page(any_app, run_id, before=ids[seen[0]])
        assert has_next
        seen = keys + [k for k in seen if k not in keys]
    # A step back that reaches the start shows the whole first page, not the one row left before it.
    assert keys == order[:5] and seen == order


def test_errors_only_pages_over_the_rows_with_a_problem(any_app):
    rows = [{"seq": i, "error": "Refused" if i % 3 == 0 else None, "invalid": i % 7 == 0} for i in range(40)]
    run_id = _seed(any_app, rows)
    problems = _delivery_order(any_app, run_id, errors_only=True)
    assert len(problems) == 18
    pages = _walk_forward(any_app, run_id, errors_only=True)
    assert [k for p in pages for k in p] == problems
    assert _page(any_app, run_id, errors_only=True)[3].total == 18


def test_an_edit_between_two_page_loads_neither_repeats_nor_skips_a_row(any_app):
    """Page 1 of "errors only" is shown; then the provider refuses a row that lies before the page's end
    (and a person unticks one). Next continues right after the last row shown: with OFFSET it would
    show that row again."""
    run_id = _seed(any_app, [{"seq": i, "error": "Refused" if i % 2 else None} for i in range(30)])
    ids = _ids(any_app, run_id)
    first, _prev, has_next, _p = _page(any_app, run_id, errors_only=True)
    assert first == ["R1", "R3", "R5", "R7", "R9"] and has_next
    with any_app.app_context():
        db.session.execute(db.update(PreparedRow).where(PreparedRow.id == ids["R2"]).values(error="Refused"))
        db.session.commit()
        assert services.set_rows_active(run_id, [ids["R3"]], set()) == 1
    second = _page(any_app, run_id, errors_only=True, after=ids["R9"])[0]
    assert second == ["R11", "R13", "R15", "R17", "R19"]
    # The count is read again: it follows the edit.
    assert _page(any_app, run_id, errors_only=True)[3].total == 16


def test_the_count_stops_at_the_cap(any_app, monkeypatch):
    monkeypatch.setattr(queries, "PREPARED_COUNT_CAP", 12)
    run_id = _seed(any_app, [{"seq": i} for i in range(13)])
    page = _page(any_app, run_id)[3]
    assert (page.total, page.capped) == (12, True)
    run_id = _seed(any_app, [{"seq": i} for i in range(12)])
    page = _page(any_app, run_id)[3]
    assert (page.total, page.capped) == (12, False)


def test_a_row_of_another_run_is_no_page_token(any_app):
    other = _seed(any_app, [{"seq": 1}])
    run_id = _seed(any_app, [{"seq": 1}])
    with any_app.app_context(), pytest.raises(queries.UnknownPageToken):
        queries.prepared_rows(run_id, after=_ids(any_app, other)["R0"])


# --- through the page -----------------------------------------------------------------------------------

def _client(app, who):
    client = app.test_client()
    factories.AuthActions(client).login(who)
    return client


def _shown(html):
    return re.findall(r"<td>(R\d+)</td>", html)


def test_a_manager_pages_with_links_that_keep_the_filter(any_app):
    run_id = _seed(any_app, [{"seq": i, "error": "Refused" if i % 2 else None} for i in range(130)])
    client = _client(any_app, "manager")
    page = client.get(f"/runs/{run_id}/prepared?errors=1").get_data(as_text=True)
    assert "65 rows" in page and len(_shown(page)) == 50 and "disabled" in page
    assert "First page" not in page and 'rel="prev"' not in page
    after = re.search(r'href="([^"]*after=\d+[^"]*)" rel="next"', page).group(1).replace("&amp;", "&")
    last = re.search(r'href="([^"]*page=last[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "errors=1" in after and "errors=1" in last
    page = client.get(after).get_data(as_text=True)
    assert _shown(page) == [f"R{i}" for i in range(101, 130, 2)] and "First page" in page and 'rel="prev"' in page
    assert 'rel="next"' not in page
    page = client.get(last).get_data(as_text=True)
    assert _shown(page) == [f"R{i}" for i in range(31, 130, 2)] and 'rel="next"' not in page


def test_paging_as_staff_saves_the_ticks_first_with_and_without_htmx(any_app):
    run_id = _seed(any_app, [{"seq": i} for i in range(120)])
    ids = _ids(any_app, run_id)
    client = _client(any_app, "staff")
    page = client.get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert "120 rows" in page and f'name="after" value="{ids["R49"]}"' in page
    shown = [str(ids[f"R{i}"]) for i in range(50)]
    csrf = factories.csrf_from(page)
    # Without JavaScript: untick R0, press Next; the answer is a redirect to the page after R49.
    response = client.post(f"/runs/{run_id}/prepared", data={
        "csrf_token": csrf, "shown": shown, "active": shown[1:], "after": str(ids["R49"])})
    assert response.status_code == 302 and f"after={ids['R49']}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _shown(page)[0] == "R50" and "Your selections were saved." in page
    with any_app.app_context():
        assert not db.session.get(PreparedRow, ids["R0"]).active
    # With htmx: the fragment of the page before R50 (the first page), with R0 unticked.
    response = client.post(f"/runs/{run_id}/prepared", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf, "shown": [str(ids[f"R{i}"]) for i in range(50, 100)],
        "active": [str(ids[f"R{i}"]) for i in range(50, 100)], "before": str(ids["R50"])})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert _shown(fragment)[0] == "R0" and f'name="active" value="{ids["R0"]}" aria-label' in fragment
    assert f'value="{ids["R0"]}" aria-label="Active: R0" checked' not in fragment
    # Last page, then Close: back to the run.
    response = client.post(f"/runs/{run_id}/prepared", data={"csrf_token": csrf, "goto": "last"})
    assert response.headers["Location"].endswith(f"/runs/{run_id}/prepared?page=last")
    assert _shown(client.get(response.headers["Location"]).get_data(as_text=True))[-1] == "R119"
    response = client.post(f"/runs/{run_id}/prepared", data={"csrf_token": csrf, "action": "close"})
    assert response.headers["Location"].endswith(f"/runs/{run_id}")


@pytest.mark.parametrize("token", ["abc", "1e3", "-5", "0", "²", "9" * 19, "9" * 5000, "12345678"])
def test_a_bad_page_token_is_not_found(any_app, token):
    run_id = _seed(any_app, [{"seq": i} for i in range(3)])
    client = _client(any_app, "manager")
    for name in ("after", "before"):
        assert client.get(f"/runs/{run_id}/prepared", query_string={name: token}).status_code == 404
    staff = _client(any_app, "staff")
    csrf = factories.csrf_token(staff, f"/runs/{run_id}/prepared")
    # Pressed as a button (saving the ticks first): the page it leads to is not found either.
    response = staff.post(f"/runs/{run_id}/prepared", data={"csrf_token": csrf, "after": token},
                          follow_redirects=True)
    assert response.status_code == 404


def test_a_nul_in_a_page_token_is_refused_with_a_message(any_app):
    run_id = _seed(any_app, [{"seq": 1}])
    response = _client(any_app, "manager").get(f"/runs/{run_id}/prepared?after=1%00")
    assert response.status_code == 400 and "<html" in response.get_data(as_text=True)


def test_the_count_of_a_huge_run_says_more_than(any_app, monkeypatch):
    monkeypatch.setattr(queries, "PREPARED_COUNT_CAP", 100)
    run_id = _seed(any_app, [{"seq": i} for i in range(101)])
    page = _client(any_app, "manager").get(f"/runs/{run_id}/prepared").get_data(as_text=True)
    assert "More than 100 rows" in page
