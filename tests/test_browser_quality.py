"""The Data quality page in Chromium on the demo corpus: the lens runs, its findings are listed, the map shows one
finding at a time (the rest greyed), a reviewed tick in a table is kept in the link and hides its row from the
map, and the link reopens the same view.

The server, browser and screenshots are ``test_browser.py``'s: skipped with a message where no Chromium is
installed, except under ``CI=true`` where it must run; screenshots under ``artifacts/browser/``.
"""

from __future__ import annotations

import re

import pytest
from test_browser import SLOW, browser, metric_value, page, radio, server, settled, shot  # noqa: F401

pytestmark = pytest.mark.browser

MARKED = "() => { const p = document.querySelectorAll('.js-plotly-plot')[1]; " \
         "return p && p.data && p.data.length > 1 ? p.data[1].hovertext.length : 0 }"  # rows the map colours


def marked_on_map(pg, expected: int) -> None:
    pg.wait_for_function(f"() => ({MARKED})() === {expected}", timeout=SLOW)


def test_quality_page_finds_filters_and_keeps_reviewed_rows_in_the_link(server, page):  # noqa: F811
    page.goto(server + "/quality?model=glove-6B-50d")  # a model that loads in a second
    page.get_by_text("How close is each text to its nearest other text?").wait_for(timeout=SLOW)
    settled(page)
    assert int(metric_value(page, "Duplicate groups").replace(",", "")) >= 0
    assert int(metric_value(page, "Likely label errors").replace(",", "")) > 0  # the demo corpus has labels
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator(".js-plotly-plot .annotation-text", has_text="threshold 0.95").count() == 1
    shot(page, "quality-lens", full_page=True)

    radio(page, "Show on the map", "top outliers")
    page.locator(".js-plotly-plot .legendtext", has_text=re.compile("^top outliers$")).wait_for()
    settled(page)
    marked_on_map(page, 50)
    assert "quality_show=outliers" in page.url
    shot(page.locator(".js-plotly-plot").nth(1), "quality-outliers-map")

    # Tick the first outlier as reviewed (the table is a canvas grid: a click on the checkbox of the first row, in
    # the last column), and hide reviewed rows from the map.
    grid = page.locator('[data-testid="stDataFrame"]').nth(1)
    grid.scroll_into_view_if_needed()
    settled(page)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 90, box["y"] + 53)
    page.wait_for_function("() => new URL(location.href).searchParams.has('quality_reviewed')", timeout=SLOW)
    settled(page)
    page.get_by_text("Hide rows marked reviewed").click()
    page.wait_for_function("() => new URL(location.href).searchParams.get('quality_hide_reviewed') === 'true'")
    settled(page)
    marked_on_map(page, 49)
    link = page.url
    reviewed = re.search(r"quality_reviewed=(\d+)", link).group(1)
    shot(page, "quality-reviewed-hidden", full_page=True)

    page.goto(link)  # the link reopens the same view: the finding, the reviewed row, the filter
    page.get_by_text("How close is each text to its nearest other text?").wait_for(timeout=SLOW)
    settled(page)
    marked_on_map(page, 49)
    assert f"quality_reviewed={reviewed}" in page.url and "quality_show=outliers" in page.url
    radio(page, "Show on the map", "likely label errors")
    page.locator(".js-plotly-plot .legendtext", has_text=re.compile("^likely label errors$")).wait_for()
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page.locator(".js-plotly-plot").nth(1), "quality-label-errors-map")
