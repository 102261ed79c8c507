"""AppTest tests of the Choose a model page: the card on the demo corpus, its pictures and downloads, and the
messages for inputs it cannot use."""

import json

from helpers import ok, paste, said, shown, start

FAST = ["glove-6B-50d", "tfidf-lsa"]  # no transformer to load: the page's own logic is what is tested


def build(at, models=FAST, resamples=200):
    at.multiselect(key="choose_models").set_value(models)
    at.number_input(key="choose_resamples").set_value(resamples).run()
    at.button(key="choose_run").click().run()
    return at


def test_card_on_the_demo_corpus_ranks_draws_and_downloads():
    at = build(start("pages/choose.py"))
    ok(at)
    assert shown(at.success[0]).startswith("Best overall: ")
    assert any("tfidf-lsa is fitted on these very texts" in shown(w) for w in at.warning)
    assert at.radio(key="choose_task").value == "classification"  # no retrieval task: no text has two sentences
    kinds = {json.loads(c.proto.spec)["data"][-1]["type"] for c in at.get("plotly_chart")}
    assert kinds == {"scatter"} and len(at.get("plotly_chart")) == 2
    tables = [d.value for d in at.dataframe]
    ranked = next(t for t in tables if "probe accuracy (primary)" in t.columns)
    assert sorted(ranked["model"]) == sorted(FAST)
    costs = next(t for t in tables if "texts/s (range)" in t.columns)
    assert list(costs["dims"].astype(int)) and set(costs["model"]) == set(FAST)
    assert {b.proto.label for b in at.get("download_button")} == {
        "Download the card (Markdown)", "Download the card (HTML)", "Download the card (JSON)"}
    card = at.session_state["_result_choose"][1]
    assert {"tasks", "models", "differences", "ranking", "rankings", "verdict"} <= set(card)
    at.radio(key="choose_task").set_value("clustering").run()
    ok(at)
    assert "V-measure" in json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["annotations"][0]["text"]


def test_inputs_it_cannot_use_get_a_message(hostile):
    at = start("pages/choose.py")
    at.multiselect(key="choose_models").set_value(["glove-6B-50d"]).run()
    assert at.button(key="choose_run").disabled
    hostile("Choose a model page", "one candidate model", "the Build button stays disabled until two are chosen")
    at = build(paste(start("pages/choose.py"), "one short line\nanother short line\na third line"))
    hostile("Choose a model page", "pasted single-sentence lines, no labels",
            said(at.error, "Nothing to rank the models on"))
    at = start("pages/choose.py")
    at.file_uploader(key="choose_queries").set_value(("q.jsonl", b'{"_id": "q1", "text": "goal"}\n',
                                                      "application/json")).run()
    build(at)
    hostile("Choose a model page", "queries.jsonl without qrels.tsv",
            said(at.error, "Upload both the queries and the relevance judgements"))
