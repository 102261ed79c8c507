"""AppTest tests of the Search page."""

from helpers import metric, ok, start
from vecexplore.compression import exact_top


def indexed(name: str = "apptest-topics"):
    at = start("pages/search.py")
    at.text_input(key="collection").set_value(name).run()
    at.button(key="index").click().run()
    ok(at)
    return at


def test_index_search_and_hits(minilm, topics):
    at = indexed()
    table = at.dataframe[0].value
    assert "apptest-topics" in set(table["name"]) and int(table.loc[table["name"] == "apptest-topics",
                                                                    "points"].iloc[0]) == 300
    at.text_input(key="search_query").set_value("how to keep bread fresh").run()
    ok(at)
    hits = at.dataframe[1].value
    truth = exact_top(minilm.encode(topics.texts), minilm.encode(["how to keep bread fresh"]), 10)[0]
    assert hits["text"].tolist() == [topics.texts[i] for i in truth]
    assert at.get("plotly_chart")  # hits drawn on the map
    at.selectbox(key="label_filter").set_value("space").run()
    assert set(at.dataframe[1].value["label"]) == {"space"}
    at.toggle(key="hybrid").set_value(True).run()
    ok(at)
    assert any("reciprocal-rank-fusion" in c.value for c in at.caption)


def test_reindex_is_idempotent_and_other_model_refused():
    at = indexed("apptest-idem")
    at.button(key="index").click().run()
    table = at.dataframe[0].value
    assert int(table.loc[table["name"] == "apptest-idem", "points"].iloc[0]) == 300
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    at.text_input(key="collection").set_value("apptest-idem").run()
    at.button(key="index").click().run()
    assert any("holds vectors of all-MiniLM-L6-v2" in e.value for e in at.error)
    at.text_input(key="search_query").set_value("anything").run()
    assert any("not comparable" in e.value for e in at.error)


def test_evaluation_and_compression(topics):
    at = indexed("apptest-eval")
    rows = "query,relevant_text\n" + "".join(f"\"{q}\",\"{t}\"\n" for q, t in [
        ("a football match", topics.texts[0]), ("baking bread", topics.texts[65]), ("baking bread", "not in corpus")])
    at.file_uploader(key="qrels_file").set_value(("q.csv", rows.encode(), "text/csv")).run()
    at.button(key="evaluate").click().run()
    ok(at)
    assert 0 <= float(metric(at, "MRR@10")) <= 1
    assert any("1 relevant texts are not in the corpus" in w.value for w in at.warning)
    at.button(key="compress").click().run()
    ok(at)
    table = at.dataframe[-1].value
    assert table["method"].iloc[0] == "float32 (exact)" and table["recall"].iloc[0] == 1.0
    assert set(table["bytes_per_vector"]) >= {1536, 384, 48}


def test_bad_inputs():
    at = indexed("apptest-bad")
    at.button(key="evaluate").click().run()
    assert any("Upload a query,relevant_text CSV first" in e.value for e in at.error)
    at.text_input(key="collection").set_value("bad name!").run()
    at.button(key="index").click().run()
    assert any("Collection names use letters" in e.value for e in at.error)


def test_two_sessions_share_one_client():
    first, second = start("pages/search.py"), start("pages/search.py")
    for at in (first, second):  # interleaved: a second client on the same folder would fail with a lock error
        at.text_input(key="collection").set_value("apptest-shared")
        at.button(key="index").click().run()
    for at, query in ((first, "space telescope"), (second, "stock market")):
        at.text_input(key="search_query").set_value(query).run()
        ok(at)
        assert not at.error and len(at.dataframe[1].value) == 10
