"""A user's text is always shown as text: Markdown, HTML, LaTeX and javascript: links in the corpus, its labels,
its file name and a typed query go through every page, and nothing of them is rendered."""

import json

import pandas as pd
import pytest

from helpers import ok, start, upload

HOSTILE = [
    "![img](http://127.0.0.1:9/track.png) **s** $x^2$",
    '<b>bold</b> <img src="http://127.0.0.1:9/i.png"> <a href="javascript:alert(1)">js</a>',
    "[click](javascript:alert(2)) :red[red] :smile: $$\\frac{1}{2}$$",
    "# heading | table | 1. list > quote `code` ~~strike~~ <script>alert(3)</script>",
    "mail a@b.co or www.example.com or http://127.0.0.1:9/x",
]
LABELS = ["**L**", "<i>L</i>", "$L$"]
NAME = "**bold**<b>name</b>.csv"
# what must never reach a Markdown element unescaped (our own templates never contain these)
MARKDOWN_TELLS = ["**s**", "<b>", "<img", "$x^2$", "](http", "](javascript", ":red[", "<script", "**L**", "$L$",
                  "<i>", "**bold**", "http://127", "www.example", "a@b.co"]
# what must never reach a plotly label unescaped
HTML_TELLS = ["<b>", "<img", "<a ", "<i>", "<script"]
MARKDOWN_ELEMENTS = ("markdown", "caption", "error", "warning", "info", "success", "subheader", "header", "title")


def corpus_csv() -> bytes:
    rows = [(f"{text} (copy {i})", LABELS[i % 3]) for i in range(4) for text in HOSTILE]
    return pd.DataFrame(rows, columns=["text", "label"]).to_csv(index=False).encode()


def markdown_strings(at) -> list[str]:
    out = [e.value for kind in MARKDOWN_ELEMENTS for e in at.get(kind)]
    out += [e.value for kind in MARKDOWN_ELEMENTS for e in at.sidebar.get(kind)]
    out += [s for m in at.metric for s in (m.label, m.value)]
    out += [w.label for kind in ("checkbox", "radio", "selectbox", "text_input", "button") for w in at.get(kind)]
    return out


def plotly_strings(at) -> list[str]:
    found = []

    def walk(node) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        walk(spec.get("data"))
        walk(spec.get("layout"))
    return found


def assert_shown_as_text(at, where: str, hostile) -> None:
    ok(at)
    leaks = [s for s in markdown_strings(at) if any(tell in s for tell in MARKDOWN_TELLS)]
    assert not leaks, f"{where}: user text reached Markdown unescaped: {leaks[:3]}"
    charts = [s for s in plotly_strings(at) if any(tell in s for tell in HTML_TELLS)]
    assert not charts, f"{where}: user text reached plotly unescaped: {charts[:3]}"
    hostile(f"{where} (AppTest)", "corpus, labels, file name and query holding Markdown, HTML, LaTeX, "
            "javascript: links, autolinks", "the text itself, literally: no element renders it")


@pytest.fixture
def hostile_upload():
    def make(page: str):
        at = upload(start(page), NAME, corpus_csv())
        at.sidebar.selectbox(key="upload_label_col").set_value("label").run()
        return at

    return make


def test_projection_shows_text_as_text(hostile_upload, hostile):
    at = hostile_upload("pages/projection.py")
    at.radio(key="method").set_value("pca").run()
    at.selectbox(key="focus").set_value(0).run()
    at.text_input(key="query").set_value(HOSTILE[1]).run()
    texts = [t for d in at.dataframe if "text" in d.value.columns for t in d.value["text"]]
    assert any("**s**" in t for t in texts)  # tables show the text itself
    assert_shown_as_text(at, "Projection page", hostile)


def test_search_shows_text_as_text(hostile_upload, hostile):
    at = hostile_upload("pages/search.py")
    at.button(key="index").click().run()
    at.text_input(key="search_query").set_value(HOSTILE[0]).run()
    at.selectbox(key="filter_field").set_value("label").run()
    at.multiselect(key="filter_values_label").set_value([LABELS[0]]).run()
    assert set(at.dataframe[1].value["label"]) == {LABELS[0]}
    assert_shown_as_text(at, "Search page", hostile)


@pytest.mark.parametrize("page", ["pages/home.py", "pages/isotropy.py", "pages/compare.py"])
def test_other_pages_show_text_as_text(hostile_upload, hostile, page):
    at = hostile_upload(page)
    if page.endswith("isotropy.py"):
        at.radio(key="transform").set_value("center").run()
    assert_shown_as_text(at, f"{page.split('/')[1][:-3].title()} page", hostile)


def test_shift_and_analogies_show_text_as_text(hostile_upload, hostile):
    at = hostile_upload("pages/shift.py")
    at.radio(key="shift_source").set_value("split the current corpus by label").run()
    at.multiselect(key="shift_models").set_value(["glove-6B-50d"]).run()
    assert_shown_as_text(at, "Domain shift page", hostile)
    at = start("pages/analogies.py")
    at.radio(key="vocab_source").set_value("my words").run()
    at.text_area(key="my_words").set_value("cat dog kitten **s** <b>x</b> $y$").run()
    for key, word in (("word_a", "**s**"), ("word_b", "<b>x</b>"), ("word_c", "$y$")):
        at.text_input(key=key).set_value(word)
    at.text_area(key="direction_words").set_value("cat **s** <b>x</b>").run()
    assert_shown_as_text(at, "Analogies page", hostile)
