"""A map file opened in Debian's Chromium with the network off: it draws its points and cluster names, fetches
nothing, the search box rings and counts the matches, and hostile texts stay text (no dialog).

The browser and the screenshots are ``test_browser.py``'s: skipped with a message where no Chromium is installed,
except under ``CI=true`` where it must run; screenshots under ``artifacts/browser/`` (or ``$VECEXPLORE_ARTIFACTS``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from test_browser import browser, shot  # noqa: F401  (the browser fixture; the module skips without Chromium)

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.maps.html import map_page, standalone_html, write_page
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import cluster_report, map_report
from vecexplore.plotting import hover

HOSTILE = ["<script>alert(1)</script> in the stadium", "<img src=x onerror=alert(1)> at the match"]
TOPICS = {"sport": ["the striker scored a late goal", "the keeper saved a penalty", "fans filled the stadium"],
          "food": ["simmer the onions in butter", "bake the bread for an hour", "season the soup with pepper"],
          "space": ["the rocket reached orbit", "a telescope found a new planet", "astronauts docked with the station"]}

RINGED = "() => { const d = document.getElementById('map').data; return d[d.length - 1].x.length }"
HOSTILE_POINT = """() => {  // where the point of the first hostile text is on the screen
  const plot = document.getElementById("map"), layout = plot._fullLayout;
  const curve = plot.data.findIndex(t => (t.hovertext || []).some(h => h.includes("&lt;script&gt;")));
  const point = plot.data[curve].hovertext.findIndex(h => h.includes("&lt;script&gt;"));
  const box = plot.getBoundingClientRect(), trace = plot._fullData[curve];
  return [box.left + layout.xaxis._offset + layout.xaxis.l2p(trace.x[point]),
          box.top + layout.yaxis._offset + layout.yaxis.l2p(trace.y[point])];
}"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def map_file(tmp_path_factory) -> tuple[Path, list[str]]:
    """A map of three topics (ten texts each) and the two hostile texts, written as one file; the cluster names."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 4
    texts, labels, vectors = [], [], []
    for (label, sentences), centre in zip(TOPICS.items(), centres, strict=True):
        for i in range(10):
            texts.append(f"{sentences[i % 3]} ({i})")
            labels.append(label)
            vectors.append(centre + rng.normal(size=8))
    texts += HOSTILE
    labels += ["sport"] * 2
    vectors += [centres[0] + rng.normal(size=8) for _ in HOSTILE]
    eset = EmbeddingSet(texts, np.array(vectors), "test-model", "1", labels)
    clusters = cluster_report(eset, n_clusters=3)
    path = tmp_path_factory.mktemp("map") / "map.html"
    write_page(path, map_page(map_report(eset, Projector("pca")), clusters))
    return path, [c["name"] for c in clusters.clusters()]


@pytest.fixture
def offline(browser):  # noqa: F811  (the browser fixture)
    """A page with the network off and every request that is not a file refused; after the test, checks that no
    such request was made, no dialog opened and no script error was thrown."""
    fetched, dialogs, errors = [], [], []
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 950})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                  else (fetched.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else fetched.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert fetched == [] and dialogs == [] and errors == []


def opened(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot canvas").count() > 0 and "WebGL" not in page.inner_text("body")


def matches(page, typed: str, shown: str) -> None:
    page.fill("#search", typed)
    page.wait_for_function(f"document.getElementById('matches').textContent === {shown!r}", timeout=10_000)


def test_map_file_offline(offline, map_file):
    path, names = map_file
    opened(offline, path)
    assert set(offline.locator(".annotation-text").all_text_contents()) == set(names)
    assert set(offline.locator(".legendtext").all_text_contents()) >= set(TOPICS)
    matches(offline, "STADIUM", "4 matches")  # case-insensitive: three sport texts and a hostile one
    assert offline.evaluate(RINGED) == 4
    offline.wait_for_timeout(500)
    shot(offline, "map-file-search")
    for typed in HOSTILE:
        matches(offline, typed[:12], "1 match")
    matches(offline, "", "")
    offline.mouse.move(*offline.evaluate(HOSTILE_POINT))
    label = offline.locator(".hoverlayer .hovertext").first.text_content()
    shot(offline, "map-file-hostile-hover")
    assert HOSTILE[0] in label and offline.locator("img").count() == 0


def test_search_reads_hover_labels(offline, tmp_path):
    """Points without corpus rows (the Domain shift page's map, or past 10,000 points) are searched in what their
    hover labels show: the escaped HTML read back as text."""
    fig = go.Figure(go.Scattergl(x=[0, 1, 2], y=[0, 1, 0], mode="markers",
                                 hovertext=[hover(t) for t in [*HOSTILE, "fish & chips " * 8]]))
    path = tmp_path / "labels.html"
    write_page(path, standalone_html(fig, "labels"))
    opened(offline, path)
    matches(offline, "<script>alert(1)</script> in", "1 match")
    matches(offline, "<img src=x onerror", "1 match")
    matches(offline, "chips fish & chips", "1 match")  # across a line break of the label
    matches(offline, "alert(1)", "2 matches")
