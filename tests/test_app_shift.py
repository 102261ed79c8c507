"""AppTest tests of the Domain shift page."""

import json

import pytest

from helpers import ok, paste, said, shown, start


def test_shipped_domains_are_separated():
    at = start("pages/shift.py")
    ok(at)
    assert at.selectbox(key="shift_a").value == "general"
    table = at.dataframe[0].value
    assert list(table["model"]) == ["all-MiniLM-L6-v2", "glove-6B-50d"]
    assert (table["c2st_auc"] > 0.8).all() and (table["mmd_p_value"] < 0.05).all()
    assert (table["knn_mixing"] < table["knn_mixing_expected"]).all()
    assert "oov_b" in table.columns and "truncated_b" in table.columns
    assert any("clearly separated" in shown(m) for m in at.markdown)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["type"] for t in spec["data"]} == {"histogram2dcontour", "scattergl"}
    assert len(at.dataframe[1].value) == 10  # furthest texts
    assert at.dataframe[2].value["probe accuracy on B's labels"].between(0, 1).all()
    assert any("internal label structure best" in shown(m) for m in at.markdown)


def test_split_by_label_and_errors(hostile):
    at = start("pages/shift.py")
    at.radio(key="shift_source").set_value("split the current corpus by label").run()
    at.selectbox(key="split_a").set_value("sport")
    at.selectbox(key="split_b").set_value("finance").run()
    ok(at)
    assert at.dataframe[0].value["n_a"].iloc[0] == 60
    at = paste(start("pages/shift.py"), "one\ntwo\nthree")
    at.radio(key="shift_source").set_value("split the current corpus by label").run()
    hostile("Domain shift page", "split by label a corpus without labels", said(at.error, "no label column"))


@pytest.mark.parametrize("b_text,message", [("only\ntwo", "little power"), (None, "identical")])
def test_small_or_identical_upload(b_text, message, hostile):
    from vecexplore.files.corpus import load_demo

    at = start("pages/shift.py")
    at.radio(key="shift_source").set_value("current corpus vs an upload").run()
    data = "\n".join(load_demo("topics").texts) if b_text is None else b_text
    at.file_uploader(key="shift_upload").set_value(("b.txt", data.encode(), "text/plain")).run()
    ok(at)
    hostile("Domain shift page: upload B", "a 2-line corpus B" if b_text else "corpus B identical to A",
            said([*at.warning, *at.error], message))


def test_each_corpus_and_model_shows_its_data_flow():
    at = start("pages/shift.py")
    ok(at)
    flows = [shown(c) for c in at.caption if "→ 🔬 domain shift" in shown(c)]
    assert len(flows) == 4  # A and B, in each of the two default models
    assert flows[0].startswith("📄 **A = general**") and flows[1].startswith("📄 **B = ") and "glove-6B-50d" in flows[3]
