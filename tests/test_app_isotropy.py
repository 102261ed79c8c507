"""AppTest tests of the Isotropy page."""

import json

import numpy as np
import pytest

from helpers import metric, ok, paste, said, shown, start, upload
from vecexplore.transforms.isotropy import Whitening, isoscore, knn_label_agreement, mean_cosine, metrics


def test_metrics_before_and_after_whitening(minilm, topics):
    at = start("pages/isotropy.py")
    ok(at)
    X = minilm.encode(topics.texts)
    expected = metrics(X)
    table = at.dataframe[0].value
    assert table["before"].iloc[2] == pytest.approx(isoscore(X), abs=1e-3)
    assert table["before"].iloc[1] == pytest.approx(mean_cosine(X).all_pairs, abs=1e-3)
    assert metric(at, "Mean cosine") == f"{expected['mean_cosine']:.3f}"
    at.radio(key="transform").set_value("whiten").run()
    at.slider(key="whiten_k").set_value(64).run()
    ok(at)
    Y = Whitening(k=64).fit_transform(X)
    assert metric(at, "Mean cosine") == f"{mean_cosine(Y).mean:.3f}"
    assert abs(float(metric(at, "Mean cosine"))) < 0.05
    assert metric(at, "10-NN label agreement") == f"{knn_label_agreement(Y, topics.labels, 10):.1%}"
    names = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in at.get("plotly_chart")]
    assert any("random pairs" in n for n in names) and any("Rogue dimensions" in n for n in names)
    assert any("fitted transform" in b.label for b in at.get("download_button"))


@pytest.mark.parametrize("transform", ["center", "abtt", "zca"])
def test_other_transforms(transform):
    at = start("pages/isotropy.py")
    at.radio(key="transform").set_value(transform).run()
    ok(at)
    assert "after" in at.dataframe[0].value.columns


def test_task_effect_panel_shipped_pairs():
    at = start("pages/isotropy.py")
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    at.button(key="run_sts").click().run()
    ok(at)
    frame = at.dataframe[-1].value
    assert list(frame["transform"])[:3] == ["none", "center()", "center()"]
    assert set(frame["fitted on"]) == {"—", "the pairs", "the corpus"}
    assert frame["spearman"].between(-1, 1).all() and (frame["n"] == 100).all()


def test_bad_pairs_upload(hostile):
    at = start("pages/isotropy.py")
    at.radio(key="pairs_source").set_value("upload s1,s2,score CSV").run()
    at.button(key="run_sts").click().run()
    hostile("Isotropy page: Does it help a task?", "Measure without a file",
            said(at.error, "Upload a pairs file first"))
    at.file_uploader(key="pairs_file").set_value(("p.csv", b"a,b\nc,d,x\n", "text/csv")).run()
    at.button(key="run_sts").click().run()
    ok(at)
    hostile("Isotropy page: Does it help a task?", "pairs 'a,b / c,d,x'", said(at.error, "p.csv has 2 columns"))
    rows = "".join(f"sentence {i} here,another sentence {i},{i % 7}\n" for i in range(12))
    at.file_uploader(key="pairs_file").set_value(("p.csv", rows.encode(), "text/csv")).run()
    at.button(key="run_sts").click().run()
    ok(at)
    hostile("Isotropy page: Does it help a task?", "scores 5 and 6 (outside 0–5)",
            said(at.warning, "scores outside 0–5"))


def test_few_points_and_imported_vectors(hostile):
    at = paste(start("pages/isotropy.py"), "one\ntwo")
    ok(at)
    hostile("Isotropy page", "a corpus of two texts", said(at.error, "at least 3 texts"))
    at = paste(start("pages/isotropy.py"), "\n".join(f"short text number {i}" for i in range(8)))
    at.radio(key="transform").set_value("whiten").run()
    ok(at)
    hostile("Isotropy page", "whitening 8 texts of 384-d vectors", said(at.warning, "covariance has rank"))
    vectors = "".join("\t".join(str(v) for v in row) + "\n" for row in np.random.default_rng(0).normal(size=(20, 6)))
    at = upload(start("pages/isotropy.py"), "vectors.tsv", vectors.encode(), key="tf_vectors")
    at.radio(key="transform").set_value("zca").run()
    ok(at)
    at.button(key="run_sts").click().run()
    hostile("Isotropy page: Does it help a task?", "scored pairs over imported vectors",
            said(at.error, "imported without their model"))


def test_whitening_with_k_at_the_number_of_texts_warns_that_the_map_collapses(hostile):
    texts = ["The goalkeeper saved a penalty.", "Knead the dough and let it rise.", "The rocket reached orbit.",
             "Stocks fell on Monday.", "A cat slept on the mat.", "Rain is expected tomorrow.",
             "The striker scored twice.", "Bake the bread for an hour."]
    at = paste(start("pages/isotropy.py"), "\n".join(texts))
    at.radio(key="transform").set_value("whiten").run()
    at.slider(key="whiten_k").set_value(7).run()  # 8 texts span 7 directions: k = 7 keeps them all
    ok(at)
    warning = said(at.warning, "say nothing about the texts")
    assert "every pair at about the same cosine (-0.143)" in warning and "Choose a smaller k (e.g. 3)" in warning
    assert not any("covariance has rank" in shown(w) for w in at.warning)  # k was not capped: 7 is the rank
    hostile("Isotropy page", "whitening 8 texts with k = 7 (their rank)", warning)
    at.slider(key="whiten_k").set_value(3).run()
    ok(at)
    assert not any("say nothing about the texts" in shown(w) for w in at.warning)


def test_a_failed_upload_never_shows_the_previous_result(hostile):
    at = start("pages/isotropy.py")
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    at.radio(key="pairs_source").set_value("upload s1,s2,score CSV").run()
    good = "".join(f"the cat number {i} sat,a dog number {i} slept,{i % 5}\n" for i in range(20))
    at.file_uploader(key="pairs_file").set_value(("good.csv", good.encode(), "text/csv")).run()
    at.button(key="run_sts").click().run()
    ok(at)
    assert at.get("plotly_chart")[-1].key == "sts_chart" and at.dataframe[-1].value["n"].iloc[0] == 20
    at.file_uploader(key="pairs_file").set_value(("bad.csv", b"only,two\n", "text/csv")).run()
    at.button(key="run_sts").click().run()
    ok(at)
    message = next(shown(e) for e in at.error)
    assert "has 2 columns" in message and "sts_chart" not in [c.key for c in at.get("plotly_chart")]
    hostile("Isotropy page: Does it help a task?", "a good pairs upload, then a file with one bad row", message)
