"""The first picture on a freshly started server: Projection opened as soon as the server answers shows the PCA
preview of the demo corpus, then the UMAP map in its place. No timed assertion: the test waits, and records the
two times (printed, and written to ``artifacts/browser/first-picture.json``); ``bench/first_picture.py`` measures
them as a benchmark."""

from __future__ import annotations

import json
import time

from test_browser import ARTIFACTS, SLOW, browser, settled, shot, start_server  # noqa: F401  (browser: a fixture)

from conftest import share_models


def test_preview_then_umap_on_a_fresh_server(tmp_path_factory, browser):  # noqa: F811
    """A fresh server (as ``make app`` runs it, warm-up on; empty map cache, models exported by an earlier run):
    the preview map is drawn, then replaced by the UMAP map."""
    url, proc, log = start_server(tmp_path_factory, share_models, warmup=True, launcher=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(SLOW)
        opened = time.perf_counter()
        page.goto(url + "/projection")
        preview = page.locator('[data-testid="stAlert"]').filter(has_text="PCA map shown while UMAP computes")
        preview.wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        preview_s = time.perf_counter() - opened
        shot(page, "first-picture-preview")
        used = page.locator('[data-testid="stMetric"]').filter(has_text="Method used")
        used.filter(has=page.locator('[data-testid="stMetricValue"]', has_text="UMAP")).wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        umap_s = time.perf_counter() - opened
        settled(page)
        assert preview.count() == 0  # the preview and its note are gone: the UMAP map took their place
        assert page.locator(".js-plotly-plot").count() == 1
        assert page.get_by_text("UMAP map ready").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        shot(page, "first-picture-umap")
        times = {"preview_map_s": round(preview_s, 2), "umap_map_s": round(umap_s, 2)}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "first-picture.json").write_text(json.dumps(times), encoding="utf-8")
        print(f"first picture: PCA preview after {preview_s:.1f} s, UMAP map after {umap_s:.1f} s")
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
