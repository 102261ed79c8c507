"""A map as one file (:mod:`vecexplore.maps.html`): plotly inlined, nothing fetched, cluster names, the search box,
hostile texts kept as text, the size of a 100k-point map, and ``vecexplore project --html``."""

import json
import re
import time
from importlib import resources

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from vecexplore.cli import main
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.drawing import map_figure, map_notes
from vecexplore.maps.html import map_page, standalone_html
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import cluster_report, map_report

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
TOPICS = {"sport": "the striker scored a late goal in the match", "food": "simmer the onions and garlic in butter",
          "space": "the rocket carried a satellite into orbit"}


def topic_set(per_topic: int = 20, extra: list[str] = HOSTILE) -> EmbeddingSet:
    """Three topics of texts, each around its own centre in 8-d, and the ``extra`` texts near the first."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(len(TOPICS), 8)) * 4
    texts, labels, vectors = [], [], []
    for (label, words), centre in zip(TOPICS.items(), centres, strict=True):
        for i in range(per_topic):
            texts.append(f"{words} number {i}")
            labels.append(label)
            vectors.append(centre + rng.normal(size=8))
    texts += extra
    labels += ["sport"] * len(extra)
    vectors += [centres[0] + rng.normal(size=8) for _ in extra]
    return EmbeddingSet(texts, np.array(vectors), "test-model", "1", labels)


def without_plotlyjs(page: str) -> str:
    """The page without the inlined plotly.js (whose code holds link strings that are never fetched)."""
    assert page.count(get_plotlyjs()) == 1
    return page.replace(get_plotlyjs(), "")


def search_data(page: str) -> list[dict]:
    return json.loads(re.search(r"const SEARCH = (.*?);  //", page).group(1))


@pytest.fixture(scope="module")
def topic_page() -> tuple[EmbeddingSet, str, list[str]]:
    eset = topic_set()
    clusters = cluster_report(eset, n_clusters=3)
    names = [c["name"] for c in clusters.clusters()]
    return eset, map_page(map_report(eset, Projector("pca")), clusters), names


def test_one_file_that_fetches_nothing(topic_page):
    _, page, _ = topic_page
    rest = without_plotlyjs(page)
    assert page.startswith("<!DOCTYPE html>") and "<script" in rest
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.IGNORECASE)
    assert "<link" not in rest and "@import" not in rest and "url(" not in rest
    assert "mathjax" not in rest.lower().replace("mathjaxconfig: 'local'", "")


def test_names_search_box_and_notes(topic_page):
    eset, page, names = topic_page
    assert '<input id="search"' in page and 'id="matches"' in page
    for name in names:
        assert f'"text":"{name}"' in page  # written on the map (an annotation)
    assert f"<title>PCA map of {eset.n} texts · test-model</title>" in page
    assert "3 clusters found on the original vectors" in page and "Colours: the texts&#x27; labels." in page
    searched = [t for trace in search_data(page) for t in trace["texts"]]
    assert sorted(searched) == sorted(eset.texts)  # every text once, by its corpus row
    assert sorted(r for trace in search_data(page) for r in trace["rows"]) == list(range(eset.n))


def test_hostile_texts_stay_text(topic_page):
    _, page, _ = topic_page
    rest = without_plotlyjs(page)
    assert "<script>alert" not in rest and "<img" not in rest and "onerror=alert(1)>" not in rest
    labels = [t for trace in json.loads(re.search(r"Plotly\.newPlot\(\s*\"map\",\s*(\[.*?\]),\s*\{", rest,
                                                   re.DOTALL).group(1)) for t in trace.get("hovertext") or []]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labels and "&lt;img src=x onerror=alert(1)&gt;" in labels
    assert set(HOSTILE) <= {t for trace in search_data(page) for t in trace["texts"]}


def test_title_and_notes_escaped():
    fig = map_figure(map_report(topic_set(), Projector("pca")))
    page = without_plotlyjs(standalone_html(fig, "<b>map</b>", notes=["<img src=x onerror=alert(1)>"]))
    assert "<title>&lt;b&gt;map&lt;/b&gt;</title>" in page and "<li>&lt;img src=x onerror=alert(1)&gt;</li>" in page
    assert "<img" not in page


def test_search_without_texts_reads_the_hover_labels():
    """A figure whose points carry no row numbers (the Domain shift page's) is searched in its hover labels (by
    the page's script: ``tests/test_browser_html.py``)."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Scattergl(x=[0, 1], y=[1, 0], mode="markers", hovertext=["a", "b"]),
                     go.Scattergl(x=[0], y=[0], mode="text", text=["a name"])])
    assert search_data(standalone_html(fig, "shift", texts=["unused"])) == [{"trace": 0, "rows": None, "texts": None}]


def test_colours_and_3d():
    eset = topic_set(extra=[])
    report = map_report(eset, Projector("pca", n_components=3))
    fig = map_figure(report, cluster_report(eset, n_clusters=3), colour_by="label")
    assert {t.name for t in fig.data if t.type == "scatter3d" and t.mode == "markers"} == set(TOPICS)
    assert '"type":"scatter3d"' in standalone_html(fig, "3-D").replace(" ", "")
    with pytest.raises(VecexploreError, match="no labels"):
        map_figure(map_report(EmbeddingSet(eset.texts, eset.vectors, "m", "1"), Projector("pca")), colour_by="label")
    with pytest.raises(VecexploreError, match="Colour a map by"):
        map_figure(report, colour_by="faithfulness")


def test_100k_points_fit_in_25_mb():
    n = 100_000
    rng = np.random.default_rng(1)
    texts = [f"text {i} about {w}" for i, w in enumerate(rng.choice(["cats", "dogs", "ships", "stars"], n))]
    report = map_report(EmbeddingSet(texts, rng.normal(size=(n, 2)), "m", "1"), Projector("pca"), max_points=500)
    start = time.perf_counter()
    page = standalone_html(map_figure(report), "100k", texts, map_notes(report))
    size = len(page.encode("utf-8"))
    print(f"100k-point map: {size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")
    assert size <= 25e6
    (trace,) = search_data(page)  # searched in the hover labels: the texts are not sent twice
    assert trace["texts"] is None and trace["rows"] == list(range(n))
    assert "The search box looks in what each point&#x27;s hover label shows." in page


def test_more_than_100k_points_draw_the_density_view():
    n = 100_001
    rng = np.random.default_rng(2)
    texts = ["x" * 200] * n
    report = map_report(EmbeddingSet(texts, rng.normal(size=(n, 2)), "m", "1"), Projector("pca"), max_points=200)
    fig = map_figure(report)
    assert fig.layout.images and len(fig.data[0].x) == 10_000
    assert len(fig.data[0].hovertext[0].replace("<br>", "")) == 121  # 120 characters and "…"
    notes = " ".join(map_notes(report))
    assert "The shading counts all 100,001 texts" in notes and "first 120 characters" in notes


def test_cli_project_html(capsys, tmp_path):
    demo = resources.files("vecexplore.data").joinpath("demo_topics.csv")
    out = tmp_path / "map.html"
    code = main(["project", str(demo), "--model", "glove-6B-50d", "--method", "pca", "--html", str(out), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["html"] == str(out) and result["html_bytes"] == out.stat().st_size
    page = out.read_text(encoding="utf-8")
    assert "PCA map of 300 texts · glove-6B-50d" in page and '<input id="search"' in page
    assert "clusters found on the original vectors" in page and '"annotations":[{' in page


@pytest.mark.parametrize("page, label", [("pages/projection.py", "Download the map (HTML)"),
                                         ("pages/compare.py", "Download the left map (HTML)"),
                                         ("pages/shift.py", "Download the map (HTML)")])
def test_pages_offer_the_map_as_html(page, label):
    from helpers import ok, start

    at = start(page)
    ok(at)
    assert label in {b.label for b in at.get("download_button")}


def test_a_page_figure_with_its_marks():
    """The Projection page's figure (filtered-out points, rings, the picked and the typed text) is searched by
    corpus row, the typed text by its hover label."""
    from vecexplore.maps.drawing import figure

    eset = topic_set()
    coords = map_report(eset, Projector("pca")).coords
    keep = np.arange(eset.n) % 2 == 0
    fig = figure(coords, eset.labels, eset.texts, focus=3, rings={"neighbours": np.array([1, 2])},
                 query=("typed <b>text</b>", coords[:1]), keep=keep)
    search = search_data(standalone_html(fig, "page", eset.texts))
    by_row = {r: t for s in search if s["rows"] for r, t in zip(s["rows"], s["texts"], strict=True)}
    assert by_row == dict(enumerate(eset.texts))
    assert [s for s in search if s["rows"] is None] == [{"trace": len(fig.data) - 1, "rows": None, "texts": None}]
