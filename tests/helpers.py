"""AppTest helpers shared by the page tests."""

import html
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from vecexplore.numeric import l2_normalize, top_k

TIMEOUT = 240  # the first UMAP in a process compiles numba code


def start(page: str | None = "pages/projection.py", method: str = "pca") -> AppTest:
    """The app after its first run, on ``page``. The Projection page opens on ``method``: PCA unless a test is
    about UMAP, whose first fit in a process compiles numba code for half a minute (those tests are ``slow``)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["method"] = method
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def shown(element) -> str:
    """What a user reads in a Markdown element (pages write user text as character references; see pages/ui/text)."""
    return _read(element.value)


def said(elements, fragment: str) -> str:
    """The message among ``elements`` (errors, warnings...) that contains ``fragment``, as the user reads it."""
    messages = [shown(e) for e in elements]
    found = [m for m in messages if fragment in m]
    assert found, f"no message contains {fragment!r}: {messages}"
    return found[0]


def _read(markdown: str) -> str:
    return html.unescape(markdown).replace("\u2060", "")


def metric(at: AppTest, label: str) -> str:
    return next(_read(m.value) for m in at.metric if _read(m.label) == label)


def figure_points(at: AppTest) -> int:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    marks = {"selected", "neighbours", "your text", "neighbours of your text"}
    return sum(len(t.get("hovertext", [])) for t in spec["data"] if t.get("name") not in marks)


def paste(at: AppTest, text: str) -> AppTest:
    at.sidebar.radio(key="source").set_value("Paste text").run()
    at.sidebar.text_area(key="paste").set_value(text).run()
    return at


def upload(at: AppTest, name: str, data: bytes, key: str = "upload") -> AppTest:
    source = "Upload file" if key == "upload" else "Import TF-Projector TSV"
    at.sidebar.radio(key="source").set_value(source).run()
    at.sidebar.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()
    return at


def exact_top(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices of each query's ``k`` highest cosines among ``base``: the reference for search results."""
    return top_k(l2_normalize(queries) @ l2_normalize(base).T, k)


def ranx_per_query(qrels: dict, run: dict, metrics: tuple[str, ...]) -> dict[str, list[float]]:
    """ranx's per-query ``metrics`` for ``qrels`` and ``run``, computed in a child process: importing ranx switches
    numba's threading layer, which the UMAP tests in this process share."""
    import subprocess
    import sys

    script = ("import json, sys, ranx; q, r, ms = json.load(sys.stdin); q, r = ranx.Qrels(q), ranx.Run(r); "
              "print(json.dumps({m: list(ranx.evaluate(q, r, m, return_mean=False)) for m in ms}))")
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps([qrels, run, list(metrics)]),
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
