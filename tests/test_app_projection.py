"""AppTest tests of the Projection page's named clusters, faithfulness colouring, filter, selection and links."""

import base64
import json
import time

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import TIMEOUT, ok, said, start
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import cluster_report, faithfulness
from vecexplore.maps.selection import text_mask


def spec(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def values(data) -> np.ndarray:
    """A figure's array as plotly serialises it: a list, or base64 with a dtype (and a shape)."""
    if isinstance(data, dict):
        out = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        return out.reshape([int(n) for n in str(data["shape"]).split(",")]) if "shape" in data else out
    return np.asarray(data)


def test_clusters_are_named_on_the_map_and_in_the_table(minilm, topics):
    at = start("pages/projection.py")
    ok(at)
    eset = EmbeddingSet(topics.texts, minilm.encode(topics.texts), "m", "v", topics.labels)
    expected = cluster_report(eset).clusters()
    table = at.dataframe[0].value
    assert list(table["cluster"]) == [c["name"] for c in expected]
    assert list(table["size"]) == [c["size"] for c in expected]
    assert table["purity"].tolist() == pytest.approx([c["purity"] for c in expected], abs=1e-3)
    written = {a["text"] for a in spec(at)["layout"]["annotations"]}
    assert written == {c["name"] for c in expected}
    at.toggle(key="show_names").set_value(False).run()
    assert not spec(at)["layout"].get("annotations")


def test_hdbscan_fine_clusters_keep_the_unclustered():
    at = start("pages/projection.py")
    at.radio(key="cluster_method").set_value("hdbscan").run()
    at.radio(key="granularity").set_value("fine").run()
    ok(at)
    assert "HDBSCAN" in said(at.caption, "min cluster size")
    names = set(at.dataframe[0].value["cluster"])
    assert len(names) >= 2


def test_faithfulness_colouring_and_worst_texts(minilm, topics):
    at = start("pages/projection.py")
    at.radio(key="colour").set_value("faithfulness").run()
    ok(at)
    assert "blue = its neighbourhood survived" in said(at.caption, "Colour = the share")
    X = minilm.encode(topics.texts)
    coords = Projector("pca").fit_transform(X)
    expected = faithfulness(EmbeddingSet(topics.texts, X, "m", "v"), coords, 10)
    trace = next(t for t in spec(at)["data"] if t.get("name") == "k-NN kept")
    drawn = values(trace["customdata"]).ravel()
    assert values(trace["marker"]["color"]) == pytest.approx(expected.per_point()[drawn], abs=1e-6)
    worst = at.dataframe[-1].value
    assert list(worst["#"]) == [w["index"] for w in expected.worst(10)]
    assert f"{expected.mean:.1%}" in said(at.caption, "Mean share of")


def test_filter_greys_the_others_and_a_bad_regex_is_explained(topics, hostile):
    at = start("pages/projection.py")
    at.text_input(key="filter_text").set_value("match").run()
    ok(at)
    matching = int(text_mask(topics.texts, "match").sum())
    assert f"{matching:,} of {len(topics.texts):,} texts match" in said(at.caption, "Filter:")
    grey = next(t for t in spec(at)["data"] if t.get("name") == "filtered out")
    assert len(values(grey["customdata"])) == len(topics.texts) - matching
    at.multiselect(key="filter_labels").set_value(["sport"]).run()
    both = text_mask(topics.texts, "match") & (np.array(topics.labels) == "sport")
    assert f"{int(both.sum()):,} of" in said(at.caption, "Filter:")
    at.text_input(key="filter_text").set_value("([a-z").run()
    at.toggle(key="filter_regex").set_value(True).run()
    ok(at)
    seen = said(at.error, "regular expression")
    assert "not a valid regular expression" in seen
    hostile("Projection: text filter (regular expression)", "([a-z", seen)
    at.toggle(key="filter_regex").set_value(False).run()
    at.text_input(key="filter_text").set_value("<b>**none of these**</b>").run()
    ok(at)
    hostile("Projection: text filter", "<b>**none of these**</b>", said(at.caption, "Filter:"))
    at.text_input(key="filter_text").set_value("([a-z").run()
    at.toggle(key="filter_regex").set_value(True).run()
    assert at.get("plotly_chart"), "the map is still drawn"


def test_a_catastrophic_regex_in_a_link_settles_at_once_and_look_around_is_named(topics, hostile):
    """``(\\w+\\s?)*$`` backtracks for hours in Python's re, holding the GIL (every session froze); RE2 runs it in
    linear time. A look-around, which RE2 cannot run, is named in an error instead of a traceback."""
    evil = r"(\w+\s?)*$"
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update({"method": "pca", "filter_regex": "true", "filter_text": evil})
    fresh.run()
    begun = time.perf_counter()
    fresh.switch_page("pages/projection.py").run()
    took = time.perf_counter() - begun
    ok(fresh)
    assert fresh.session_state["filter_text"] == evil and fresh.session_state["filter_regex"] is True
    assert not fresh.error, [e.value for e in fresh.error]
    assert fresh.get("plotly_chart"), "the map is drawn"
    assert not any("Filter:" in c.value for c in fresh.caption)  # every text matches: none greyed
    assert took < 60, f"the page took {took:.1f} s"
    hostile("Projection: link", f"filter_regex=true&filter_text={evil}",
            f"the map, every one of the {len(topics.texts)} texts matching (RE2, linear time)")

    fresh.text_input(key="filter_text").set_value(r"goal(?=keeper)").run()
    ok(fresh)
    seen = said(fresh.error, "look-ahead")
    assert "(?=…)/(?!…)" in seen and "switch 'Regular expression' off" in seen
    assert fresh.get("plotly_chart"), "the map is still drawn"
    hostile("Projection: text filter (regular expression)", "goal(?=keeper)", seen)
    fresh.text_input(key="filter_text").set_value(r"(?<!home )team").run()
    hostile("Projection: text filter (regular expression)", "(?<!home )team", said(fresh.error, "look-behind"))


def test_selection_lists_the_texts_their_words_and_offers_downloads(topics):
    at = start("pages/projection.py")
    picked = [i for i, label in enumerate(topics.labels) if label == "space"][:12]
    points = [{"customdata": [i]} if n % 2 else {"customdata": {"0": i}} for n, i in enumerate(picked)]
    at.session_state["map"] = {"selection": {"points": points, "box": [], "lasso": []}}  # as browsers send them
    at.run()
    ok(at)
    assert any(f"{len(picked)} texts selected" in s.value for s in at.subheader)
    table = next(d.value for d in at.dataframe if "#" in d.value.columns and "cluster" in d.value.columns)
    assert list(table["#"]) == picked
    assert list(table["text"]) == [topics.texts[i] for i in picked]
    assert set(table["label"]) == {"space"}
    words = said(at.markdown, "Most distinctive words").split(":", 1)[1]
    assert any(w.strip() in " ".join(topics.texts[i].lower() for i in picked) for w in words.split(","))
    assert {"Selection (CSV)", "Selection (Parquet)"} <= {b.label for b in at.get("download_button")}


def test_a_link_reopens_the_same_view():
    at = start("pages/projection.py")
    at.sidebar.number_input(key="max_texts").set_value(250).run()
    at.sidebar.checkbox(key="dedupe").check().run()
    at.switch_page("pages/projection.py").run()
    settings = {"dims": 3, "colour": "cluster", "k": 7, "cluster_method": "hdbscan", "granularity": "fine",
                "density": True, "filter_text": "the", "filter_regex": False, "query": "a goal in extra time"}
    for key, value in settings.items():
        at.session_state[key] = value
    at.run()
    at.selectbox(key="focus").set_value(4).run()
    ok(at)
    link = dict(at.query_params)
    assert link["method"] == "pca" and link["focus"] == "4" and link["dims"] == "3"

    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update(link)
    fresh.run()
    assert fresh.session_state["max_texts"] == 250 and fresh.session_state["dedupe"] is True
    fresh.switch_page("pages/projection.py").run()
    ok(fresh)
    for key, value in {**settings, "method": "pca", "focus": 4}.items():
        assert fresh.session_state[key] == value, key
    assert dict(fresh.query_params) == link


def test_a_hand_edited_link_warns_and_uses_the_defaults(hostile):
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update({"method": "pca", "k": "999", "colour": "<b>x</b>", "dims": "two"})
    fresh.run()
    fresh.switch_page("pages/projection.py").run()
    ok(fresh)
    assert "expected a number from 3 to 30" in said(fresh.warning, "'999'")
    assert "expected one of label" in said(fresh.warning, "colour")
    assert "whole number" in said(fresh.warning, "dims")
    assert fresh.session_state["k"] == 10 and fresh.session_state["dims"] == 2
    for key, given in (("k", "999"), ("colour", "<b>x</b>"), ("dims", "two")):
        hostile(f"Shared link: {key}=", given, said(fresh.warning, repr(given)))


def test_a_link_to_an_uploaded_file_asks_for_it_again(hostile):
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update({"source": "Upload file", "file": "my notes.csv", "method": "pca"})
    fresh.run()
    ok(fresh)
    seen = said(fresh.sidebar.info, "my notes.csv")
    assert "upload it again" in seen
    hostile("Shared link to an uploaded file", "source=Upload file&file=my notes.csv", seen)


def density_pixels(at: AppTest) -> np.ndarray:
    """The RGBA pixels of the density image under the map."""
    from io import BytesIO

    from PIL import Image

    source = spec(at)["layout"]["images"][0]["source"]
    return np.asarray(Image.open(BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGBA"))


def test_density_view_is_coloured_like_its_points_and_a_bad_zoom_in_a_link_shows_the_whole_map(hostile):
    """Past 50,000 texts the 2-D map is the density view: coloured by label, its pixels take the labels' colours
    (the same as the points'); coloured by nothing, one colour scale; a hand-edited zoom that is not a window
    falls back to the whole map, with every text in it."""
    from helpers import upload
    from pages.ui.figures import palette

    n = 60_000
    rng = np.random.default_rng(0)
    words = np.array(["market", "river", "bank", "apple", "orange", "team", "goal", "star", "rain", "cloud"])
    frame = pd.DataFrame({"text": [" ".join(rng.choice(words, 6)) + f" {i}" for i in range(n)],
                          "label": ["one" if i % 3 else "two" for i in range(n)]})
    at = start("pages/projection.py")
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d")
    at.sidebar.number_input(key="max_texts").set_value(n)
    at = upload(at, "big.csv", frame.to_csv(index=False).encode())
    at.sidebar.selectbox(key="upload_label_col").set_value("label").run()
    ok(at)
    assert spec(at)["layout"]["dragmode"] == "select"  # the density view
    rgb = density_pixels(at)[..., :3].reshape(-1, 3)
    first, second = (tuple(int(palette(i).lstrip("#")[j:j + 2], 16) for j in (0, 2, 4)) for i in (0, 1))
    assert {first, second} <= set(map(tuple, rgb))  # pixels holding one label only take that label's colour
    at.radio(key="colour").set_value("none").run()
    ok(at)
    assert first not in set(map(tuple, density_pixels(at)[..., :3].reshape(-1, 3)))
    for zoom in (["3", "1", "0", "1"], ["0", "1", "nan", "2"], ["0", "1"]):
        at.session_state["zoom"] = zoom
        at.run()
        ok(at)
        assert not at.error
        note = said(at.caption, "The shading counts all 60,000 texts (")
        hostile("Projection page: link", f"zoom={'|'.join(zoom)} (not a window)", "the whole map: " + note)
