"""Pages that read at a glance: what only a browser's layout shows."""
from datetime import datetime

import pytest

from tests.browser.test_every_page import portal_data, sign_in  # noqa: F401  (the fixture is used)

pytestmark = pytest.mark.browser

LINE_BOXES = """(selector) => [...document.querySelectorAll(selector)].map(cell => {
    // The lines the cell's text takes: the distinct tops of its text's line boxes.
    const tops = new Set(), walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        if (!walker.currentNode.textContent.trim()) continue;
        const range = document.createRange(); range.selectNodeContents(walker.currentNode);
        for (const rect of range.getClientRects()) tops.add(Math.round(rect.bottom));
    }
    return [cell.innerText.trim(), tops.size];
})"""


def test_export_management_is_one_table_whose_columns_line_up_across_types(live_server, page, portal_data):
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + "/profiles/")
    assert page.locator("main table").count() == 1
    groups = page.locator("table.profiles tbody th[scope=colgroup]").all_inner_texts()
    assert len(groups) >= 3  # journal entries, invoices, payments: one group of rows each
    lefts = page.evaluate("""() => [...document.querySelectorAll('table.profiles tbody tr')]
        .filter(row => row.cells.length > 1).map(row => [...row.cells].map(c => Math.round(c.getBoundingClientRect().left)))""")
    assert len(lefts) >= 3 and all(row == lefts[0] for row in lefts), lefts


def test_scenarios_keep_dates_and_statuses_whole(app, live_server, page, portal_data):
    page.set_viewport_size({"width": 900, "height": 900})
    sign_in(page, live_server.url, "consultant")
    page.goto(live_server.url + "/scenarios?operation=roll_back")
    cells = page.evaluate(LINE_BOXES, "#scenario-table tbody td:nth-child(5), #scenario-table tbody td:nth-child(7),"
                                      " #scenario-table tbody td:nth-child(8)")
    assert cells and all(lines == 1 for text, lines in cells if text), cells
