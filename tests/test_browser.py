"""Real-browser tests: start ``streamlit run app.py`` and click through it in Debian's Chromium (Playwright).

Skipped with a message where no Chromium is installed, except under ``CI=true`` where they must run.
Screenshots are kept under ``artifacts/browser/`` (or ``$VECEXPLORE_ARTIFACTS``); each test prints its path.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from conftest import ROOT, share_models
from vecexplore.serve import server_command, wait_healthy

CHROMIUM = Path(os.environ.get("VECEXPLORE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("VECEXPLORE_ARTIFACTS", ROOT / "artifacts")) / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SLOW = 240_000  # ms: the first UMAP in a fresh server compiles numba code
STEP = 60_000

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    message = f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium) to run browser tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path_factory, prepare_home: Callable[[Path], None], warmup: bool,
                 launcher: bool = False) -> tuple[str, subprocess.Popen, IO[str]]:
    """Start ``streamlit run app.py`` (or, with ``launcher``, ``python -m vecexplore.serve``, which ``make app``
    runs) on a free port with a throw-away ``VECEXPLORE_HOME`` (set up by ``prepare_home``); returns its URL once
    it answers its health check, the process and its log."""
    port = _free_port()
    home = tmp_path_factory.mktemp("home")
    prepare_home(home)
    env = {**os.environ, "VECEXPLORE_HOME": str(home), "HF_HUB_OFFLINE": "1", "VECEXPLORE_WARMUP": str(int(warmup))}
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(server_command(port, launcher), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not wait_healthy(url):
        proc.kill()
        log.seek(0)
        pytest.fail("streamlit did not start:\n" + log.read())
    return url, proc, log


def streamlit_server(tmp_path_factory, prepare_home: Callable[[Path], None], warmup: bool) -> Iterator[str]:
    """:func:`start_server`: yields its URL, and stops it afterwards."""
    url, proc, log = start_server(tmp_path_factory, prepare_home, warmup)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # as a user gets it (warm-up on), but with the models exported by an earlier run
    yield from streamlit_server(tmp_path_factory, share_models, warmup=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(STEP)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # what the page showed when the test failed
        shot(pg, f"FAILED-{request.node.name}")
        text = pg.locator('[data-testid="stApp"]').inner_text()
        (ARTIFACTS / f"FAILED-{request.node.name}.txt").write_text(text, encoding="utf-8")
    context.close()


def shot(target, name: str, **options) -> Path:
    """Screenshot of a page or of one element (scrolled into view)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target.screenshot(path=str(path), **options)
    print(f"screenshot: {path}")
    return path


def settled(page, timeout: float = SLOW) -> None:
    """Wait until the app is connected and its script run has finished (no rerun under way or requested)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]'
                 '[data-test-connection-state="CONNECTED"]').wait_for(timeout=timeout)


def home(page, server: str) -> None:
    """Load the app and wait for the home page's run to finish."""
    page.goto(server)
    page.get_by_text("The data flow").wait_for()
    settled(page)


def open_page(page, server: str, name: str) -> None:
    """Load the app, wait for the home page, and go to page ``name`` through the sidebar navigation."""
    home(page, server)
    page.get_by_role("link", name=name).click()


def choose(page, label: str, option: str | re.Pattern, search: str = "", tries: int = 5) -> None:
    """Pick ``option`` in the select box labelled ``label`` (typing ``search`` first: long lists are virtual,
    and only what the filter keeps is drawn).

    Streamlit's select box is a react-aria combo box, whose list closes when its widget is redrawn (a script run
    ending) or when the page scrolls (Playwright scrolling the box into view is enough). A list opened with a
    click and then closed under the test left the old helper waiting 60 s for an option that was gone. So: open
    the list from the box's input on a settled app (ArrowDown if the click did not open it), click the option
    with a short timeout, check the box's value, and on any miss close the list and try again, settled."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    field = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.get_by_role("combobox")
    for _ in range(tries):
        settled(page)
        field.click()
        if search:
            page.keyboard.type(search)
        elif page.get_by_role("listbox").count() == 0:
            page.keyboard.press("ArrowDown")
        try:
            page.get_by_role("option", name=option).first.click(timeout=10_000)
            page.get_by_role("listbox").wait_for(state="detached", timeout=10_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        value = field.input_value()
        if option.search(value) if isinstance(option, re.Pattern) else value == option:
            return
    raise AssertionError(f"could not choose {option!r} in {label!r} after {tries} tries")


def enter(page, label: str, text: str, then: str) -> None:
    """Type ``text`` into the text box labelled ``label`` on a settled app, press Enter, and wait for ``then``."""
    settled(page)
    box = page.get_by_label(label)
    box.fill(text)
    box.press("Enter")
    page.get_by_text(then).first.wait_for()


def metric_value(page, label: str, expected: str | None = None) -> str:
    """The value of the metric called ``label`` on the settled page (after waiting, if ``expected`` is given,
    for the run that shows that value: a rerun replaces metrics one by one)."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    if expected is not None:  # the new metric may stand beside the stale one until the run ends
        value = page.locator('[data-testid="stMetricValue"]', has_text=re.compile(f"^{re.escape(expected)}$"))
        metric.filter(has=value).first.wait_for(timeout=SLOW)
    settled(page)
    assert metric.count() == 1, f"{metric.count()} metrics called {label!r}"
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_demo_corpus_umap_map(server, page):
    open_page(page, server, "Projection")
    page.get_by_text("UMAP map ready").wait_for(timeout=SLOW)
    assert metric_value(page, "Method used", expected="UMAP") == "UMAP"
    plot = page.locator(".js-plotly-plot")
    plot.wait_for()
    # WebGL points are drawn on a canvas (waited for: plotly draws it after the chart's frame appears);
    # the legend names every topic of the demo corpus.
    page.locator(".js-plotly-plot canvas").first.wait_for(state="attached")
    page.locator(".js-plotly-plot .legendtext").filter(has_text="sport").first.wait_for()
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert {"sport", "cooking", "space", "finance", "health"} <= set(legend)
    trust = float(metric_value(page, "Trustworthiness"))
    assert 0.5 < trust <= 1.0
    box = plot.bounding_box()
    assert box["width"] > 600 and box["height"] > 500
    shot(page, "projection-umap")
    shot(plot, "projection-umap-map")

    # Pick a text: its neighbours are listed and drawn on the map.
    choose(page, "Neighbours of a text", re.compile(r"^#42 · "), search="#42 ")
    page.get_by_text("Nearest neighbours (cosine, original space)").wait_for()
    page.locator(".js-plotly-plot .legendtext", has_text=re.compile("^neighbours$")).wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    shot(page.locator(".js-plotly-plot"), "projection-neighbours-map")

    # Type a new text: it is placed on the map as a diamond, with its neighbours listed.
    enter(page, "…or of a new text you type", "The striker scored a late goal", "Nearest neighbours of your text")
    page.locator(".js-plotly-plot .legendtext", has_text=re.compile("^your text$")).wait_for()
    shot(page, "projection-query")


def radio(page, label: str, option: str) -> None:
    """Click ``option`` of the radio group labelled ``label`` on a settled app."""
    settled(page)
    page.locator('[data-testid="stRadio"]').filter(has_text=label).first.get_by_text(option, exact=True).click()


def test_labelled_map_faithfulness_and_a_shared_link(server, page, browser):
    """The demo's map names its clusters on the map; colouring by faithfulness explains itself; the address bar
    is a link that opens the same view in a fresh browser context."""
    page.goto(server + "/projection?method=pca")
    page.get_by_role("heading", name="Clusters").wait_for(timeout=SLOW)
    settled(page)
    plot = page.locator(".js-plotly-plot").first
    names = plot.locator(".annotation-text")
    names.first.wait_for()
    assert names.count() >= 4
    words = " ".join(names.all_text_contents()).lower()
    assert any(w in words for w in ("team", "match", "bank", "prices", "moon", "earth", "bread"))
    shot(page, "projection-labelled")
    radio(page, "Colour by", "faithfulness")
    page.get_by_text("Colour = the share of each text").wait_for()
    page.get_by_role("heading", name="Where to distrust the map").wait_for()
    settled(page)
    plot.locator(".colorbar").first.wait_for(state="attached")
    shot(page, "projection-faithfulness")

    page.get_by_text("Method, clusters and layers").click()
    radio(page, "Granularity", "fine")
    page.get_by_text("· fine ·").first.wait_for()
    settled(page)
    page.get_by_text("Filter and select").click()
    enter(page, "Text contains", "bread", "texts match")
    settled(page)
    matched = page.get_by_text(re.compile(r"Filter: \d+ of 300 texts match")).inner_text()
    link = page.url
    assert "colour=faithfulness" in link and "granularity=fine" in link and "filter_text=bread" in link
    shot(plot, "projection-before-sharing")

    from playwright.sync_api import expect

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = other.new_page()
        fresh.set_default_timeout(STEP)
        fresh.goto(link)
        fresh.get_by_role("heading", name="Where to distrust the map").wait_for(timeout=SLOW)
        settled(fresh)
        assert fresh.get_by_text(matched).count() == 1
        assert fresh.get_by_text("· fine ·").count() >= 1
        expect(fresh.get_by_label("Text contains")).to_have_value("bread", timeout=STEP)  # retried: React fills it in
        assert fresh.url == link
        fresh.locator(".js-plotly-plot .colorbar").first.wait_for(state="attached")
        shot(fresh, "projection-shared-link")
    finally:
        other.close()


def test_pasted_text_and_errors(server, page):
    home(page, server)
    page.get_by_text("Paste text").click()
    area = page.get_by_label("One text per line")
    area.fill("   ")
    area.press("Control+Enter")
    page.get_by_text("has no texts").first.wait_for()
    shot(page, "paste-empty-error")
    area.fill("\n".join(f"Sentence {i} is about {w}." for i, w in enumerate(["cats", "dogs", "markets"] * 4)))
    area.press("Control+Enter")
    page.get_by_text("12 texts").first.wait_for()
    settled(page)
    page.get_by_role("link", name="Projection").click()
    page.locator('[data-testid="stMetric"]').filter(has_text="Method used").wait_for(timeout=SLOW)
    settled(page)  # a click on a widget that a running script is redrawing can be lost
    page.get_by_role("radiogroup", name="Method").get_by_text("PCA").click()
    assert metric_value(page, "Method used", expected="PCA") == "PCA"
    assert page.locator(".js-plotly-plot").count() == 1 and page.get_by_text("12 texts").count() >= 1
    shot(page, "paste-pca")


def test_analogies_page(server, page):
    open_page(page, server, "Analogies")
    page.get_by_text("a is to b as c is to ?").wait_for()
    choose(page, "Model", "glove-6B-50d")
    page.get_by_text("GloVe vocabulary, 100,000 most frequent words").wait_for()
    assert metric_value(page, "man : king :: woman :") == "queen"
    chart = page.locator(".js-plotly-plot").first
    chart.locator(".legendtext", has_text="b − a + c").wait_for()  # plotly fills the chart after its frame
    shot(page, "analogies")
    shot(chart, "analogies-parallelogram")
    page.get_by_role("button", name="Run the evaluation").click()
    page.locator('[data-testid="stMetric"]').filter(has_text="Accuracy").wait_for(timeout=SLOW)
    accuracy = metric_value(page, "Accuracy")
    assert accuracy.endswith("%") and 0 < float(accuracy[:-1]) <= 100
    shot(page.locator(".js-plotly-plot").last, "analogies-evaluation")


def test_isotropy_page(server, page):
    open_page(page, server, "Isotropy")
    page.get_by_text("Cosine of 20,000 random pairs").wait_for()
    before = float(metric_value(page, "Mean cosine"))
    page.get_by_role("radiogroup", name="Transform (fitted on this corpus)").get_by_text("whitening (BERT)").click()
    page.get_by_text("after whitening (BERT) (PCA)").wait_for()
    after = float(metric_value(page, "Mean cosine"))
    assert abs(after) < abs(before)
    shot(page, "isotropy")
    page.get_by_role("button", name="Measure the effect").click()
    page.get_by_text("Spearman on 100 pairs").wait_for()
    shot(page.locator(".js-plotly-plot").last, "isotropy-task-effect")


def test_search_page(server, page):
    open_page(page, server, "Search")
    page.get_by_role("button", name="Index the corpus").wait_for(timeout=SLOW)
    settled(page)
    page.get_by_role("button", name="Index the corpus").click()
    enter(page, "Query", "how to keep bread fresh", "The hits ringed on a PCA map")
    page.locator(".js-plotly-plot .legendtext", has_text=re.compile("^hits$")).wait_for()
    settled(page)
    page.get_by_text("Hybrid (dense + BM25)").click()
    page.get_by_text("Keyword half: Qdrant BM25 (english").wait_for()
    choose(page, "Filter on", "label")
    settled(page)
    multiselect = page.locator('[data-testid="stMultiSelect"]').filter(has_text="label is any of")
    multiselect.get_by_role("combobox").click()
    page.get_by_role("option", name="cooking").first.click()
    page.get_by_text("not cosines. Filter: label = cooking.").wait_for()
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    shot(page, "search")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Measure compression").click()
    page.locator(".js-plotly-plot .legendtext", has_text="scalar int8 + rescoring").wait_for(timeout=SLOW)
    settled(page)
    page.get_by_text("bytes are the codes' nominal size").scroll_into_view_if_needed()
    shot(page, "search-compression", full_page=True)


def test_compare_page(server, page):
    open_page(page, server, "Compare")
    page.get_by_text("Where the models disagree most").wait_for(timeout=SLOW)
    maps = page.locator(".js-plotly-plot")
    maps.nth(2).wait_for()
    assert maps.count() == 3  # the two maps and the Jaccard histogram
    for i in range(2):
        maps.nth(i).locator("canvas").first.wait_for(state="attached")  # WebGL points
        assert maps.nth(i).bounding_box()["width"] > 300
    assert "aligned to the left" in maps.nth(1).locator(".gtitle").text_content()
    shot(page, "compare")


def test_shift_page(server, page):
    open_page(page, server, "Domain shift")
    page.get_by_text("The two corpora on one map").wait_for(timeout=SLOW)
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.get_by_text("B is clearly separated from A").count() >= 1
    shot(page, "shift")


def test_choose_page_builds_a_card_and_downloads_it(server, page, tmp_path):
    open_page(page, server, "Choose a model")
    page.get_by_role("button", name="Build the report card").wait_for(timeout=SLOW)
    settled(page)
    page.get_by_role("button", name="Build the report card").click()
    page.get_by_text("Best overall:").first.wait_for(timeout=SLOW)
    settled(page)
    charts = page.locator(".js-plotly-plot")
    charts.nth(1).wait_for()
    assert charts.count() == 2 and "Quality against speed" in charts.nth(1).locator(".gtitle").text_content()
    assert page.get_by_text("Costs, measured in this run").count() == 1
    assert "choose_models=" in page.url  # the candidates are in the link
    page.get_by_text("Best overall:").first.scroll_into_view_if_needed()
    shot(page, "choose-verdict")
    charts.nth(1).scroll_into_view_if_needed()
    shot(page, "choose-pictures")
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the card (Markdown)").click()
    card = Path(got.value.path()).read_text(encoding="utf-8")
    assert card.startswith("# Which model for these texts?") and "## Ranking: classification" in card
    shot(page, "choose", full_page=True)


BIG = 200_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """200,000 distinct texts (three demo sentences of one topic each), as a user's upload."""
    import pandas as pd

    from vecexplore.files.corpus import load_demo

    big = load_demo("topics").recombined(BIG)
    path = tmp_path_factory.mktemp("big") / "big_topics.csv"
    pd.DataFrame({"text": big.texts, "label": big.labels}).to_csv(path, index=False)
    return path


def upload_big(page, server: str, big_csv: Path, model: str | None = None, query: str = "") -> None:
    page.goto(server + query)
    page.get_by_text("The data flow").wait_for()
    settled(page)
    if model:
        choose(page, "Model", model)
    settled(page)
    page.get_by_text("Upload file").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big_csv))
    page.get_by_text("Label column (optional)").wait_for()
    settled(page)
    limit = page.get_by_label("Max texts (a seeded sample above this)")
    limit.fill(str(BIG))
    limit.press("Enter")
    page.get_by_text(f"{BIG:,} texts").first.wait_for()


def test_200k_density_map_with_hover_and_zoom(server, page, big_csv):
    """200k texts in the browser: GloVe embeds them, the PCA map (asked for in the link) is a density image of
    every text rendered on the server with a clickable sample on top; hovering a point shows its text, and a box
    drawn on the map zooms (the window is redrawn from every text in it)."""
    upload_big(page, server, big_csv, "glove-6B-50d", query="/?method=pca")
    settled(page)
    page.get_by_role("link", name="Projection").click()
    note = page.get_by_text(f"The shading counts all {BIG:,} texts")
    note.wait_for(timeout=SLOW)
    settled(page)
    assert page.get_by_text(f"{BIG:,} encoded").count() == 1
    assert metric_value(page, "Method used") == "PCA"
    assert "10,000 of them (a seeded sample) are drawn" in note.inner_text()
    plot = page.locator(".js-plotly-plot").first
    plot.locator("image").first.wait_for(state="attached")  # the density image, under the points
    plot.locator(".annotation-text").first.wait_for()  # cluster names on the map
    shot(page, "projection-200k-density")
    box = plot.locator(".nsewdrag").first.bounding_box()
    hovered = False
    for fx, fy in ((0.5, 0.5), (0.45, 0.55), (0.55, 0.45), (0.4, 0.4), (0.6, 0.6), (0.5, 0.3), (0.3, 0.5)):
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        try:
            plot.locator(".hoverlayer .hovertext").first.wait_for(timeout=2_000)
            hovered = True
            break
        except Exception:  # noqa: BLE001 (no point under this pixel: try another)
            continue
    assert hovered, "no hover label over the densest part of the map"
    assert plot.locator(".hoverlayer .hovertext").first.text_content().strip()
    shot(plot, "projection-200k-hover")
    x0, y0 = box["x"] + 0.35 * box["width"], box["y"] + 0.35 * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 0.3 * box["width"], y0 + 0.3 * box["height"], steps=8)
    page.mouse.up()
    page.get_by_role("button", name="Show the whole map").wait_for(timeout=STEP)
    settled(page)
    zoomed = page.get_by_text("of them in this window").first.inner_text()
    assert f"The shading counts all {BIG:,} texts" in zoomed
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "projection-200k-zoomed")


def test_cancel_embedding(server, page, big_csv):
    """A long embedding shows Cancel beside its progress bar; cancelling stops it and offers to resume."""
    upload_big(page, server, big_csv)  # the default model, all-MiniLM-L6-v2 (~20 min for 200k texts here)
    settled(page)
    page.get_by_role("link", name="Projection").click()
    page.get_by_text("Embedding with all-MiniLM-L6-v2:").wait_for(timeout=SLOW)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("was cancelled").wait_for()
    page.get_by_role("button", name="Resume embedding").wait_for()
    assert page.get_by_text("Embedding with all-MiniLM-L6-v2:").count() == 0  # the progress bar is gone
    shot(page, "embedding-cancelled")


HOSTILE_LINES = [
    "![img](http://127.0.0.1:9/track.png) **s** $x^2$ first",
    '<b>bold</b> <img src="http://127.0.0.1:9/i.png"> <a href="javascript:alert(1)">js</a> second',
    "[click](javascript:alert(2)) :red[red] :smile: $$\\\\frac{1}{2}$$ third",
    "<script>alert(3)</script> <svg onload=alert(4)> fourth",
    "mail a@b.co or www.example.com or http://127.0.0.1:9/x fifth",
    *(f"An ordinary sentence about topic {i}." for i in range(7)),
]


def test_hostile_text_is_never_rendered_or_fetched(server, page, hostile):
    """Markdown, HTML, LaTeX, javascript: links and autolinks in the corpus and a typed query, through the
    sidebar, Home, Projection (picked text, typed text, tables, hover) and Search: the browser fetches nothing
    from the addresses in the text, opens no dialog, and draws no image, link, formula or bold."""
    fetched, dialogs = [], []
    page.on("request", lambda r: fetched.append(r.url) if r.url.startswith("http://127.0.0.1:9/") else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    home(page, server)
    page.get_by_text("Paste text").click()
    area = page.get_by_label("One text per line")
    area.fill("\n".join(HOSTILE_LINES))
    area.press("Control+Enter")
    page.get_by_text(f"{len(HOSTILE_LINES)} texts").first.wait_for()
    settled(page)
    page.get_by_role("link", name="Projection").click()
    page.locator('[data-testid="stMetric"]').filter(has_text="Method used").wait_for(timeout=SLOW)
    settled(page)
    page.get_by_role("radiogroup", name="Method").get_by_text("PCA").click()
    metric_value(page, "Method used", expected="PCA")
    choose(page, "Neighbours of a text", re.compile(r"^#0 · "), search="#0 ")
    page.get_by_text("Nearest neighbours (cosine, original space)").wait_for()
    enter(page, "…or of a new text you type", HOSTILE_LINES[1], "Nearest neighbours of your text")
    settled(page)
    main = page.locator('[data-testid="stMain"]')
    assert f"#0 — {HOSTILE_LINES[0]}" in main.inner_text().replace("\u2060", "")  # shown literally
    shot(page, "hostile-text-projection")
    page.get_by_role("link", name="Search").click()
    page.get_by_role("button", name="Index the corpus").wait_for()
    settled(page)
    page.get_by_role("button", name="Index the corpus").click()
    enter(page, "Query", HOSTILE_LINES[0], "The hits ringed on a PCA map")
    settled(page)
    shot(page, "hostile-text-search")
    for selector in ('img[src*="127.0.0.1:9"]', ".katex", 'a[href^="javascript"]', 'a[href*="127.0.0.1"]',
                     'a[href^="mailto"]', 'a[href*="example.com"]', "script:not([src])", "strong:text-is('s')"):
        assert page.locator(f'[data-testid="stMain"] {selector}').count() == 0, selector
    assert fetched == [] and dialogs == []
    hostile("browser: sidebar paste → Projection → Search", "lines and a query with Markdown images, HTML, LaTeX, "
            "javascript: links, <script>, autolinks", "the text literally; no request to 127.0.0.1:9, no dialog, "
            "no image, link, formula or bold drawn")


EVIL_LINK = "/projection?method=pca&filter_regex=true&filter_text=(\\w%2B\\s?)*$"


def test_a_catastrophic_regex_link_freezes_no_one_and_sigterm_stops_the_server(tmp_path_factory, browser, hostile):
    """Session 1 opens a link whose filter ``(\\w+\\s?)*$`` Python's re would backtrack on for hours, holding the
    GIL (every session froze, SIGTERM was ignored). While it is open, session 2 loads the app and settles; both
    show their map. Then SIGTERM stops the server as ``make app`` runs it (``python -m vecexplore.serve``)."""
    url, proc, log = start_server(tmp_path_factory, share_models, warmup=False, launcher=True)
    contexts = []
    try:
        one, two = (browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2))
        contexts += [one, two]
        first, second = one.new_page(), two.new_page()
        for pg in (first, second):
            pg.set_default_timeout(STEP)
        first.goto(url + EVIL_LINK)
        # The sidebar is drawn before the page runs. (A session that connects before a fresh server's first run
        # has called st.navigation gets Streamlit's old pages/ folder view: no sidebar, no corpus.)
        first.get_by_text("1 · Corpus").wait_for()
        second.goto(url + "/projection?method=pca")
        for pg in (second, first):  # the second session settles while the first is open
            pg.locator('[data-testid="stMetric"]').filter(has_text="Method used").wait_for(timeout=SLOW)
            settled(pg)
            pg.locator(".js-plotly-plot canvas").first.wait_for(state="attached")
        assert first.get_by_label("Text contains").input_value() == r"(\w+\s?)*$"
        assert first.locator('[data-testid="stException"]').count() == 0
        shot(first, "hostile-regex-link-session-1")
        shot(first.locator(".js-plotly-plot").first, "hostile-regex-link-session-1-map")  # below the fold
        shot(second, "hostile-regex-link-session-2")

        asked = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the server was still running 30 s after SIGTERM")
        stopped = time.perf_counter() - asked
        print(f"SIGTERM → server stopped in {stopped:.2f} s (exit status {proc.returncode})")
        assert proc.returncode == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
        hostile("browser: Projection link, two sessions", f"{EVIL_LINK} opened while a second session loads",
                "both sessions draw their map (RE2 matches every text in linear time); SIGTERM then stops the server")
    finally:
        for context in contexts:
            context.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
