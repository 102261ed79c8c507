"""AppTest tests of the Search page."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import TIMEOUT, exact_top, metric, ok, paste, said, shown, start, upload


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
    at.selectbox(key="filter_field").set_value("label").run()
    at.multiselect(key="filter_values_label").set_value(["space"]).run()
    assert set(at.dataframe[1].value["label"]) == {"space"}
    at.multiselect(key="filter_values_label").set_value(["space", "cooking"]).run()
    labels = set(at.dataframe[1].value["label"])
    assert labels <= {"space", "cooking"} and "cooking" in labels
    at.toggle(key="hybrid").set_value(True).run()
    ok(at)
    assert any("reciprocal-rank-fusion" in shown(c) for c in at.caption)
    assert any("Qdrant BM25 (english" in shown(c) for c in at.caption)  # the BM25 settings are shown
    at.toggle(key="exact").set_value(True).run()
    ok(at)
    assert at.dataframe[0].value.loc[lambda t: t["name"] == "apptest-topics", "search"].iloc[0] == "exact"


def test_numeric_field_filter_and_copy_to_a_server(hostile):
    rows = "text,year\n" + "".join(f"\"Note {i} about the {['match', 'recipe', 'rocket'][i % 3]}\",{1990 + i}\n"
                                    for i in range(30))
    at = upload(start("pages/search.py"), "notes.csv", rows.encode())
    at.text_input(key="collection").set_value("apptest-years").run()
    at.button(key="index").click().run()
    ok(at)
    at.text_input(key="search_query").set_value("a rocket launch").run()
    at.selectbox(key="filter_field").set_value("year").run()
    at.number_input(key="filter_lo_year").set_value(2000).run()
    at.number_input(key="filter_hi_year").set_value(2004).run()
    ok(at)
    years = sorted(at.dataframe[1].value["text"].str.extract(r"Note (\d+)")[0].astype(int) + 1990)
    assert years == [2000, 2001, 2002, 2003, 2004]
    at.number_input(key="filter_lo_year").set_value(2010).run()
    hostile("Search page: Filter", "a numeric range whose start is after its end",
            said(at.error, "is empty"))
    at.selectbox(key="copy_collection").set_value("apptest-years").run()
    at.text_input(key="copy_target").set_value("http://127.0.0.1:9").run()
    at.button(key="copy").click().run()
    hostile("Search page: Copy", "copy to a server URL where nothing listens",
            said(at.error, "Cannot reach the Qdrant server"))


def test_reindex_is_idempotent_and_other_model_refused(hostile):
    at = indexed("apptest-idem")
    at.button(key="index").click().run()
    table = at.dataframe[0].value
    assert int(table.loc[table["name"] == "apptest-idem", "points"].iloc[0]) == 300
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    at.text_input(key="collection").set_value("apptest-idem").run()
    at.button(key="index").click().run()
    hostile("Search page: Index", "GloVe vectors into a MiniLM collection",
            said(at.error, "holds vectors of all-MiniLM-L6-v2"))
    at.text_input(key="search_query").set_value("anything").run()
    hostile("Search page: Query", "a GloVe query on a MiniLM collection", said(at.error, "not comparable"))


def test_evaluation_and_compression(topics, hostile):
    at = indexed("apptest-eval")
    rows = "query,relevant_text\n" + "".join(f"\"{q}\",\"{t}\"\n" for q, t in [
        ("a football match", topics.texts[0]), ("baking bread", topics.texts[65]), ("baking bread", "not in corpus")])
    at.file_uploader(key="qrels_file").set_value(("q.csv", rows.encode(), "text/csv")).run()
    at.button(key="evaluate").click().run()
    ok(at)
    assert 0 <= float(metric(at, "MRR@10")) <= 1
    hostile("Search page: How good is retrieval?", "a relevant text that is not in the corpus",
            said(at.warning, "1 relevant texts are not in the corpus"))
    at.button(key="compress").click().run()
    ok(at)
    table = at.dataframe[-1].value
    assert table["method"].iloc[0] == "float32" and table["recall"].iloc[0] == 1.0
    assert set(table["bytes_per_vector"]) >= {1536, 384, 48}
    assert {"none", "×4 oversampling, rescored"} <= set(table["rescoring"])


def test_bad_inputs(hostile):
    at = indexed("apptest-bad")
    at.button(key="evaluate").click().run()
    hostile("Search page: How good is retrieval?", "Evaluate without a file",
            said(at.error, "Upload a query,relevant_text CSV first"))
    at.text_input(key="collection").set_value("bad name!").run()
    at.button(key="index").click().run()
    hostile("Search page: Index", "collection name 'bad name!'", said(at.error, "Collection names use letters"))


def test_two_sessions_share_one_client():
    first, second = start("pages/search.py"), start("pages/search.py")
    first.text_input(key="collection").set_value("apptest-shared")
    first.checkbox(key="share_new").check()
    first.button(key="index").click().run()
    second.text_input(key="collection").set_value("apptest-shared")  # a second client on the same folder would
    second.button(key="index").click().run()  # fail with a lock error; this one is refused the write, politely
    assert any("may search it but not change" in shown(e) for e in second.error)
    for at, query in ((first, "space telescope"), (second, "stock market")):
        at.text_input(key="search_query").set_value(query).run()
        ok(at)
        assert not at.error and len(at.dataframe[1].value) == 10


def pasted_and_indexed(lines: list[str]):
    at = start("pages/search.py")
    paste(at, "\n".join(lines))
    at.button(key="index").click().run()
    ok(at)
    return at


def test_sessions_never_see_each_others_corpus(hostile):
    """Two sessions paste different lines and index them under the default name: each gets its own private
    collection, searches only its own texts, and does not even see the other's collection listed."""
    mine = [f"Alpha team note {i}: the goalkeeper saved a penalty in match {i}." for i in range(12)]
    theirs = [f"Beta team note {i}: knead the dough and bake the bread {i}." for i in range(12)]
    first, second = pasted_and_indexed(mine), pasted_and_indexed(theirs)
    name_1, name_2 = first.text_input(key="collection").value, second.text_input(key="collection").value
    assert name_1 != name_2 and name_1.startswith("pasted-text-all-minilm-l6-v2-")
    first.run()
    for at, own, other_name in ((first, set(mine), name_2), (second, set(theirs), name_1)):
        listed = at.dataframe[0].value
        assert other_name not in set(listed["name"]) and (listed["shared"] == "private").any()
        assert any("private collections of other sessions are not listed" in shown(c) for c in at.caption)
        at.text_input(key="search_query").set_value("a football match and some bread").run()
        ok(at)
        hits = at.dataframe[1].value
        assert len(hits) == 10 and set(hits["text"]) <= own
    hostile("Search page (two sessions)", "session 2 indexes its pasted lines under the default name",
            f"its own private collection {name_2}; session 1's {name_1} is not listed and never searched")


def test_a_shared_collection_is_read_only_for_the_other_sessions(hostile):
    owner = start("pages/search.py")
    owner.text_input(key="collection").set_value("class-demo").run()
    assert any("Private" in shown(c) for c in owner.caption)  # a typed name alone shares nothing
    owner.checkbox(key="share_new").check().run()
    owner.button(key="index").click().run()
    ok(owner)
    assert any("Indexed into class-demo: 300 points" in shown(s) for s in owner.success)
    other = start("pages/search.py")
    listed = other.dataframe[0].value
    row = listed[listed["name"] == "class-demo"].iloc[0]
    assert row["shared"] == "shared" and row["created_by"] == "another session"
    assert "class-demo" not in other.selectbox(key="manage_collection").options  # only its own are managed
    other.text_input(key="collection").set_value("class-demo").run()
    other.text_input(key="search_query").set_value("a rocket launch").run()
    ok(other)
    assert len(other.dataframe[1].value) == 10  # read: allowed
    other.button(key="index").click().run()
    hostile("Search page: Index", "a session indexes its corpus into another session's shared collection",
            said(other.error, "may search it but not change"))
    owner.selectbox(key="manage_collection").set_value("class-demo").run()
    owner.button(key="share").click().run()  # the owner makes it private again
    ok(owner)
    other.run()
    assert "class-demo" not in set(other.dataframe[0].value["name"])
    hostile("Search page: Collections", "a session's box names a collection its owner made private again",
            said(other.warning, "is another session's private collection"))
    owner.selectbox(key="manage_collection").set_value("class-demo").run()
    owner.button(key="delete").click().run()
    ok(owner)


def test_a_link_to_another_sessions_private_collection_opens_with_a_message(hostile):
    owner = start("pages/search.py")
    owner.button(key="index").click().run()
    private = owner.text_input(key="collection").value
    link = dict(owner.query_params)
    assert link["collection"] == private and "pasted" not in private
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update(link)
    fresh.run()
    fresh.switch_page("pages/search.py").run()
    ok(fresh)
    assert fresh.text_input(key="collection").value != private and private not in set(
        fresh.dataframe[0].value["name"] if fresh.dataframe else [])
    hostile("Search page: a shared link", "a link naming another session's private collection",
            said(fresh.warning, "is another session's private collection: it is not opened here"))


def test_evaluation_with_another_model_is_refused(topics, hostile):
    at = indexed("apptest-eval-model")
    rows = "query,relevant_text\n" + f"\"a football match\",\"{topics.texts[0]}\"\n"
    at.file_uploader(key="qrels_file").set_value(("q.csv", rows.encode(), "text/csv")).run()
    at.sidebar.selectbox(key="model").set_value("paraphrase-MiniLM-L3-v2").run()
    at.text_input(key="collection").set_value("apptest-eval-model").run()
    at.button(key="evaluate").click().run()
    assert not at.metric  # no number from mixed models
    hostile("Search page: How good is retrieval?", "evaluate a MiniLM collection with paraphrase-MiniLM-L3 queries",
            said(at.error, "not comparable"))


def test_unknown_words_and_imported_vectors(hostile):
    at = start("pages/search.py")
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    at.button(key="index").click().run()
    at.text_input(key="search_query").set_value("qwertyzzz").run()
    ok(at)
    message = next(shown(e) for e in at.error)
    assert "knows none of the words in 'qwertyzzz'" in message and not at.get("plotly_chart")
    hostile("Search page: Query", "qwertyzzz with glove-6B-50d", message)
    rng = np.random.default_rng(0)
    vectors = "".join("\t".join(f"{v:.4f}" for v in row) + "\n" for row in rng.normal(size=(30, 8)))
    at = upload(start("pages/search.py"), "vectors.tsv", vectors.encode(), key="tf_vectors")
    at.button(key="index").click().run()
    ok(at)
    notice = next(shown(i) for i in at.info if "Search by example" in shown(i))
    hostile("Search page: imported TF-Projector vectors", "searching vectors imported without their model", notice)
    at.selectbox(key="search_example").set_value(3).run()
    ok(at)
    hits = at.dataframe[1].value
    assert hits["text"].iloc[0] == "point 3" and hits["score"].iloc[0] == pytest.approx(1.0, abs=1e-4)


def test_compression_chart_names_every_method():
    at = indexed("apptest-lab")
    at.button(key="compress").click().run()
    ok(at)
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    names = [t["name"] for t in spec["data"]]
    assert len(names) == len(set(names)) == len(at.dataframe[-1].value) and "scalar int8 + rescoring" in names
    assert all(t["mode"] == "markers" for t in spec["data"])  # legend entries, no text marks to clip or overlap


def test_filter_on_a_column_name_with_spaces_and_dots(hostile):
    rows = "text,my col,a.b\n" + "".join(f"\"Note {i} about the {['match', 'recipe', 'rocket'][i % 3]}\","
                                        f"{'yes' if i % 2 else 'no'},{i}\n" for i in range(30))
    at = upload(start("pages/search.py"), "notes.csv", rows.encode())
    at.text_input(key="collection").set_value("apptest-odd-columns").run()
    at.button(key="index").click().run()
    at.text_input(key="search_query").set_value("a rocket launch").run()
    at.number_input(key="search_k").set_value(30).run()
    at.selectbox(key="filter_field").set_value("my col").run()
    at.multiselect(key="filter_values_my col").set_value(["yes"]).run()
    ok(at)
    notes = at.dataframe[1].value["text"].str.extract(r"Note (\d+)")[0].astype(int)
    assert sorted(notes) == list(range(1, 30, 2))
    at.selectbox(key="filter_field").set_value("a.b").run()
    at.number_input(key="filter_lo_a.b").set_value(10).run()
    at.number_input(key="filter_hi_a.b").set_value(14).run()
    ok(at)
    assert sorted(at.dataframe[1].value["text"].str.extract(r"Note (\d+)")[0].astype(int)) == [10, 11, 12, 13, 14]
    hostile("Search page: Filter", "filters on columns named 'my col' and 'a.b'",
            "exactly the matching points (15 of 30 for my col = yes; notes 10-14 for a.b in 10..14)")


def test_a_one_text_corpus_searches_without_a_map(hostile):
    at = pasted_and_indexed(["The only note: a goalkeeper saved a penalty."])
    at.text_input(key="search_query").set_value("football").run()
    ok(at)
    assert len(at.dataframe[1].value) == 1
    hostile("Search page: Query", "a one-text corpus, then a query",
            "the hit, and: " + next(shown(c) for c in at.caption if "needs at least 2 texts" in shown(c)))
