"""AppTest tests of the Compare page."""

import json

import pytest

from helpers import metric, ok, paste, said, shown, start
from vecexplore.models.compare import knn_jaccard, linear_cka


def test_two_models_side_by_side(minilm, glove, topics):
    at = start("pages/compare.py")
    ok(at)
    assert at.multiselect(key="compare_models").value == ["all-MiniLM-L6-v2", "glove-6B-50d"]
    models = at.dataframe[0].value
    assert list(models["model"]) == ["all-MiniLM-L6-v2", "glove-6B-50d"] and list(models["dims"]) == [384, 50]
    assert models["probe_accuracy"].between(0, 1).all() and models["knn_label_accuracy"].between(0, 1).all()
    pairs = at.dataframe[1].value
    X, Y = minilm.encode(topics.texts), glove.encode(topics.texts)
    assert pairs["cka"].iloc[0] == pytest.approx(round(linear_cka(X, Y), 3), abs=1e-3)
    assert pairs["knn_jaccard_mean"].iloc[0] == pytest.approx(round(knn_jaccard(X, Y, 10).mean(), 3), abs=1e-3)
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # two aligned maps and the Jaccard distribution
    assert "aligned" in json.loads(charts[1].proto.spec)["layout"]["title"]["text"]
    worst = at.dataframe[2].value
    assert len(worst) == 10 and worst["jaccard"].is_monotonic_increasing
    assert 0 <= float(metric(at, "Mean cosine (held out)")) <= 1


def test_three_models_labels_and_translation_methods():
    at = start("pages/compare.py")
    at.multiselect(key="compare_models").set_value(["all-MiniLM-L6-v2", "glove-6B-50d", "tfidf-lsa"]).run()
    at.radio(key="compare_colour").set_value("label").run()
    at.radio(key="translate_method").set_value("procrustes").run()
    ok(at)
    assert len(at.dataframe[1].value) == 3  # three pairs
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in spec["data"]} == {"sport", "cooking", "space", "finance", "health"}


def test_one_model_and_unembeddable_texts(hostile):
    at = start("pages/compare.py")
    at.multiselect(key="compare_models").set_value(["glove-6B-50d"]).run()
    assert any("at least two models" in shown(i) for i in at.info)
    lines = "\n".join(["zzqxv qqzzx"] + [f"sentence {i} about cats and dogs" for i in range(12)])
    at = paste(start("pages/compare.py"), lines)
    ok(at)
    hostile("Compare page", "a text with no word GloVe knows ('zzqxv qqzzx')",
            said(at.warning, "glove-6B-50d cannot embed 1 texts"))
    at.slider(key="compare_k").set_value(20).run()
    hostile("Compare page", "k = 20 neighbours for 12 texts", said(at.error, "must be smaller than the 12 texts"))


def test_every_model_shows_its_data_flow():
    at = start("pages/compare.py")
    ok(at)
    flows = [shown(c) for c in at.caption if "→ 🔬 comparison of the spaces" in shown(c)]
    assert len(flows) == 2 and "all-MiniLM-L6-v2" in flows[0] and "glove-6B-50d" in flows[1]
    assert all("📄 **demo: topics** (300 texts)" in f for f in flows) and "384-d" in flows[0] and "50-d" in flows[1]
