"""Search on Qdrant Edge collections: exactness, HNSW recall, tags, idempotence, durability, hybrid, filters,
evaluation, compression."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from helpers import exact_top
from vecexplore.cache import embed
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files.beir import read_beir
from vecexplore.numeric import l2_normalize
from vecexplore.search.compression import compression_report
from vecexplore.search.opening import open_store
from vecexplore.search.qdrant.filters import FieldFilter, parse_filter
from vecexplore.search.retrieval import check_qrels, evaluate_run, hard_negatives, query_metrics
from vecexplore.search.store import point_id


@pytest.fixture
def topic_set(topic_eset):
    return topic_eset


def one(eset: EmbeddingSet, i: int) -> EmbeddingSet:
    """Text ``i`` of ``eset`` as a query (a one-row set tagged with the model)."""
    return eset.subset([i])


def asked(texts, vectors, like: EmbeddingSet) -> EmbeddingSet:
    """Queries with their vectors, tagged as coming from ``like``'s model."""
    return EmbeddingSet(list(texts), vectors, like.model_id, like.model_version)


@pytest.fixture
def store(tmp_path):
    store = open_store(path=tmp_path / "qdrant")
    yield store
    store.close()


def test_dense_top_k_is_exact(store, topic_set, minilm):
    store.index("demo", topic_set, batch=64)
    queries = ["The match went to extra time", "How do I bake bread?", "interest rates and inflation"]
    qv = minilm.encode(queries)
    truth = exact_top(topic_set.vectors, qv, 10)
    found = store.search("demo", asked(queries, qv, topic_set), k=10)
    for q, row, hits in zip(qv, truth, found, strict=True):
        assert [h.text for h in hits] == [topic_set.texts[i] for i in row]  # recall@10 = 1.0, same order
        expected = topic_set.normalized()[row] @ (q / np.linalg.norm(q))
        np.testing.assert_allclose([h.score for h in hits], expected, atol=1e-4)


def test_tags_and_idempotent_reindex(store, topic_set):
    first = store.index("demo", topic_set, source="demo topics")
    again = store.index("demo", topic_set, source="demo topics")
    assert first["points"] == again["points"] == 300 and first["created"] and not again["created"]
    hit = store.search("demo", one(topic_set, 0), k=1)[0][0]
    assert hit.id == point_id(topic_set.texts[0])
    assert {hit.payload[k] for k in ("model_id", "model_version")} == {topic_set.model_id, topic_set.model_version}
    assert hit.payload["label"] == topic_set.labels[0] and hit.payload["source"] == "demo topics"
    row = store.collections()[0]
    assert row["name"] == "demo" and row["points"] == 300 and row["model_id"] == "all-MiniLM-L6-v2"


def test_other_model_is_refused(store, topic_set):
    from vecexplore.embedding_set import EmbeddingSet

    store.index("demo", topic_set)
    other = EmbeddingSet(topic_set.texts, topic_set.vectors, topic_set.model_id, "another-version")
    with pytest.raises(VecexploreError, match="holds vectors of all-MiniLM-L6-v2 .*these come from"):
        store.index("demo", other)
    with pytest.raises(VecexploreError, match="not comparable"):
        store.check("demo", "glove-6B-50d", "x")
    with pytest.raises(VecexploreError, match="transform whiten"):
        store.check("demo", topic_set.model_id, topic_set.model_version, "whiten(k=256)@abc")
    with pytest.raises(VecexploreError, match="holds 384-d vectors; these are 50-d"):
        store.search("demo", asked(["x"], np.ones((1, 50)), topic_set), k=3)
    for query in (EmbeddingSet(["x"], topic_set.vectors[:1], "paraphrase-MiniLM-L3-v2", topic_set.model_version),
                  topic_set.subset([0]).with_info(transform="whiten(k=8)@abc")):
        with pytest.raises(VecexploreError, match="not comparable"):  # whoever calls: the store checks
            store.search("demo", query, k=3)


def test_bad_search_input(store, topic_set):
    store.index("demo", topic_set)
    q = one(topic_set, 0)
    with pytest.raises(VecexploreError, match="between 1 and 1000"):
        store.search("demo", q, k=0)
    with pytest.raises(VecexploreError, match="between 1 and 1000"):
        store.search("demo", q, k=10**6)
    with pytest.raises(VecexploreError, match="No collection 'nope' that you may use .*: demo\\)"):
        store.search("nope", q)
    with pytest.raises(VecexploreError, match="No field 'colour'.*label"):
        store.search("demo", q, filters={"colour": "red"})
    hits = store.search("demo", q, k=5, filters={"label": "space"})[0]
    assert len(hits) == 5 and {h.payload["label"] for h in hits} == {"space"}
    with pytest.raises(VecexploreError, match="needs query words"):
        store.search("demo", asked(["  "], topic_set.vectors[:1], topic_set), hybrid=True)


def test_data_survives_reopening(tmp_path, topic_set):
    store = open_store(path=tmp_path / "q")
    store.index("demo", topic_set)
    store.close()
    store = open_store(path=tmp_path / "q")
    assert store.collections()[0]["points"] == 300
    assert store.search("demo", one(topic_set, 5), k=1)[0][0].text == topic_set.texts[5]
    store.rename("demo", "renamed")
    assert store.names() == ["renamed"] and store.collections()[0]["points"] == 300
    store.delete("renamed")
    assert store.names() == []
    store.close()


def test_killed_mid_index_keeps_completed_batches(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        from vecexplore.embedding_set import EmbeddingSet
        from vecexplore.search.opening import open_store
        texts = [f"text number {{i}}" for i in range(1000)]
        vectors = np.random.default_rng(0).normal(size=(1000, 16))
        store = open_store(path={str(tmp_path / "q")!r})
        def progress(done, total):
            if done >= 300:
                os.kill(os.getpid(), signal.SIGKILL)
        store.index("c", EmbeddingSet(texts, vectors, "m", "v"), batch=100, progress=progress)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr
    store = open_store(path=tmp_path / "q")
    assert store.collections()[0]["points"] >= 300
    assert {point_id(f"text number {i}") for i in range(300)} <= store.ids("c")
    store.close()


def test_hybrid_finds_an_exact_keyword_that_dense_misses(store, topics, glove):
    target = "Our accountant filed the zelphar paperwork before the deadline."
    eset = embed([*topics.texts, target], glove)[0]
    store.index("kw", eset)
    query = "zelphar bread"  # GloVe does not know 'zelphar': the dense half sees only "bread"
    q = asked([query], glove.encode([query]), eset)
    dense = [h.text for h in store.search("kw", q, k=301)[0]]
    hybrid = [h.text for h in store.search("kw", q, k=10, hybrid=True)[0]]
    assert dense.index(target) > 100
    assert target in hybrid  # dense alone ranks it past 100; fused with BM25 it is in the top 10


def test_retrieval_metrics_by_hand():
    ranked = ["d3", "d1", "d7", "d2", "d9"]
    rel = {"d1": 1, "d2": 2, "d8": 1}
    m = query_metrics(ranked, rel, k=5)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx(1 / 2)
    dcg = 1 / np.log2(3) + 2 / np.log2(5)
    idcg = 2 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(4)
    assert m["ndcg"] == pytest.approx(dcg / idcg)
    assert hard_negatives(ranked, rel, 2) == [(1, "d3"), (3, "d7")]
    run = evaluate_run({"q1": ranked, "q2": ["d8"]}, {"q1": rel, "q2": {"d8": 1}}, k=5)
    assert run["mean"]["mrr"] == pytest.approx((0.5 + 1) / 2) and run["n_queries"] == 2


def test_beir_files_and_bad_qrels():
    judged = read_beir('{"_id": "q1", "text": "hello"}\n{"_id": "q2", "text": "bye"}\n',
                       "query-id\tcorpus-id\tscore\nq1\td1\t1\nq9\td2\t1\nq2\tdX\t2\n")
    queries, qrels = judged.queries, judged.qrels
    assert queries == {"q1": "hello", "q2": "bye"} and qrels["q2"] == {"dX": 2.0}
    notes = check_qrels(queries, qrels, {"d1", "d2"})
    assert "1 judged queries are not in the query file" in notes[0] and "'dX'" in notes[1]
    with pytest.raises(VecexploreError, match="line 1"):
        read_beir("not json\n", "")
    with pytest.raises(VecexploreError, match="No query has relevance"):
        check_qrels({"a": "x"}, {"b": {"d": 1}}, {"d"})


def test_compression_lab_on_qdrant_quantization(topic_set):
    report = compression_report(topic_set.vectors, n_queries=100, dims=(256, 128))
    rows = {(r["method"], r["rescoring"]): r for r in report.rows}
    plain = {m: r["recall"] for (m, how), r in rows.items() if how in ("none", "—")}
    rescored = {m: r["recall"] for (m, how), r in rows.items() if how.endswith("rescored")}
    assert plain["float32"] == 1.0 and rows[("float32", "—")]["bytes_per_vector"] == 1536
    assert rows[("scalar int8", "none")]["bytes_per_vector"] == 384
    assert rows[("binary 1-bit", "none")]["bytes_per_vector"] == 48
    assert rows[("binary 1.5-bit", "none")]["bytes_per_vector"] == 72
    assert plain["float32"] >= plain["scalar int8"] >= plain["binary 1-bit"]  # without rescoring
    assert plain["scalar int8"] > 0.9 and plain["binary 1-bit"] < 0.95
    for method, recall in rescored.items():  # rescoring an oversampled shortlist wins the recall back
        assert recall >= plain[method] and recall >= 0.95, method
    assert plain["first 256 dims (float32)"] >= plain["first 128 dims (float32)"]
    assert {"TurboQuant 4-bit", "product ×16", "binary 2-bit"} <= set(plain)
    assert all(r["query_p50_ms"] > 0 for r in report.rows)


def test_unreachable_server_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("VECEXPLORE_QDRANT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(VecexploreError, match="Cannot reach the Qdrant server"):
        open_store().names()


def test_one_store_used_from_many_threads(store, topic_set):
    import threading

    errors = []

    def work(i):
        try:
            store.index(f"t{i % 2}", topic_set.subset(range(i * 30, i * 30 + 30)))
            store.search(f"t{i % 2}", one(topic_set, i), k=3)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and sum(c["points"] for c in store.collections()) == 180


def test_private_and_shared_collections(store, topic_set, hostile):
    from vecexplore.search.store import default_name

    private = default_name("demo: topics", topic_set.model_id, "0123456789abcdef", "session-1")
    assert private.startswith("demo-topics-all-minilm-l6-v2-") and "0123456789" not in private
    assert default_name("demo: topics", topic_set.model_id, "0123456789abcdef", "session-2") != private
    one_, two = store.acting_as("session-1"), store.acting_as("session-2")
    one_.index(private, topic_set.subset(range(20)))  # a session's collection is private until shared
    one_.index("class", topic_set.subset(range(20)), shared=True)
    store.backend.create("legacy", topic_set.dims, "cosine", {"model_id": topic_set.model_id,  # an older tag
                                                              "model_version": topic_set.model_version,
                                                              "dims": topic_set.dims, "avg_len": 9.5})
    shown = two.collections()
    assert [r["name"] for r in shown] == ["class", "legacy"] and two.n_hidden() == 1 and two.hidden(private)
    assert [r["created_by"] for r in shown] == ["another session", "unknown (an older store)"]
    assert [r["name"] for r in one_.collections()] == ["class", private, "legacy"]
    assert {r["name"] for r in store.collections()} == {"class", private, "legacy"}  # the command line: all
    refusals = {
        "a session searches another session's private collection": lambda: two.search(private, one(topic_set, 0)),
        "a session indexes into another session's private collection": lambda: two.index(private, topic_set),
        "a session deletes another session's private collection": lambda: two.delete(private),
        "a session reads the fields of another session's private collection": lambda: two.fields(private),
        "a session copies another session's private collection": lambda: two.copy(private, two, "mine"),
        "a session indexes into another session's shared collection": lambda: two.index("class", topic_set),
        "a session deletes another session's shared collection": lambda: two.delete("class"),
        "a session renames another session's shared collection": lambda: two.rename("class", "mine"),
        "a session unshares another session's shared collection": lambda: two.share("class", False),
        "a session deletes a collection of an older store (no owner)": lambda: two.delete("legacy"),
    }
    for given, act in refusals.items():
        with pytest.raises(VecexploreError, match="No collection .* that you may use|taken by another session|"
                                                  "may search it but not change") as refused:
            act()
        hostile("core: Store (Python API)", given, str(refused.value))
    assert len(two.search("class", one(topic_set, 0), k=3)[0]) == 3  # a shared collection: read by all
    two.copy("class", two, "my-copy")  # a copy of a shared collection is the copier's own, private
    assert two.tag("my-copy").owner == "session-2" and not two.tag("my-copy").shared and not one_.names().count(
        "my-copy")
    one_.rename("class", "ours")  # the owner renames and shares at will
    assert one_.tag("ours").shared
    one_.share("ours", False)
    assert two.hidden("ours")
    one_.delete("ours")
    one_.delete(private)
    two.delete("my-copy")
    assert store.names() == ["legacy"] and store.tag("legacy").shared
    assert store.tag("legacy").bm25_settings.avg_len == 9.5


def test_filters_on_any_column_name(store, topic_set, hostile):
    names = ["my col", "a.b", "x[0]", 'q"uote', "$v", "naïve ünïcode", "(paren)", "col_5f2e"]
    columns = [{name: ("yes" if i % 2 else "no") for name in names} | {"n.v": str(i)} for i in range(topic_set.n)]
    store.index("odd", topic_set, columns=columns)
    assert set(names) | {"n.v"} <= set(store.fields("odd"))
    half = sum(i % 2 == 1 for i in range(topic_set.n))
    for name in names:
        hits = store.search("odd", one(topic_set, 0), k=300, filters=[FieldFilter(name, values=("yes",))])[0]
        assert len(hits) == half and {h.payload[name] for h in hits} == {"yes"}, name
        hostile("core: Store.search filter", f"a filter on a column named {name!r}",
                f"exactly the {half} points whose {name} is yes")
    hits = store.search("odd", one(topic_set, 0), k=300, filters=[parse_filter("n.v=10..19")])[0]
    assert sorted(h.payload["n.v"] for h in hits) == list(range(10, 20))
    assert store.values("odd", "x[0]") == ["no", "yes"]


def test_filters_on_keyword_and_numeric_fields(store, topic_set):
    columns = [{"year": str(2000 + i % 20), "score": f"{i / 10:.1f}", "kind": "odd" if i % 2 else "even"}
               for i in range(topic_set.n)]
    store.index("f", topic_set, columns=columns)
    q = one(topic_set, 0)
    hits = store.search("f", q, k=50, filters=[parse_filter("year=2005..2007")])[0]
    assert len(hits) == 45 and {h.payload["year"] for h in hits} == {2005, 2006, 2007}  # typed: int
    hits = store.search("f", q, k=20, filters=[parse_filter("score=..1.5"), parse_filter("kind=odd")])[0]
    assert {h.payload["kind"] for h in hits} == {"odd"} and max(h.payload["score"] for h in hits) <= 1.5
    assert len(hits) == 8  # 0.1, 0.3, ..., 1.5
    hits = store.search("f", q, k=300, filters=[parse_filter("label=space|cooking")])[0]
    assert {h.payload["label"] for h in hits} == {"space", "cooking"}
    assert len(hits) == sum(lab in ("space", "cooking") for lab in topic_set.labels)
    assert {"year", "score", "kind", "label"} <= set(store.backend.indexed_fields("f"))  # indexes were made
    assert store.fields("f")["year"] == "integer" and store.fields("f")["score"] == "float"
    # the filtered top-10 is the exact top-10 among the matching points
    keep = np.array([i for i in range(topic_set.n) if 2005 <= 2000 + i % 20 <= 2007])
    truth = keep[exact_top(topic_set.vectors[keep], q.vectors, 10)[0]]
    assert [h.text for h in store.search("f", q, k=10, filters=[parse_filter("year=2005..2007")])[0]] == \
        [topic_set.texts[i] for i in truth]
    with pytest.raises(VecexploreError, match="a range needs numbers"):
        store.search("f", q, filters=[parse_filter("kind=1..2")])
    with pytest.raises(VecexploreError, match="not a number"):
        parse_filter("year=x..2")
    with pytest.raises(VecexploreError, match="is empty"):
        FieldFilter("year", lo=3, hi=1)
    with pytest.raises(VecexploreError, match="field=value"):
        parse_filter("year")


def clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in 50 clusters on a 24-dimensional subspace plus a little noise: the shape of real embeddings
    (low intrinsic dimension), unlike uniform noise, on which no graph index works."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(42).normal(size=(24, d))
    centres = np.random.default_rng(43).normal(size=(50, 24))
    latent = centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, 24))
    return l2_normalize(latent @ basis + 0.5 * rng.normal(size=(n, d))).astype(np.float32)


@pytest.mark.slow
def test_hnsw_recall_and_background_build(tmp_path):
    import time

    from vecexplore.embedding_set import EmbeddingSet
    from vecexplore.search.qdrant.edge import EdgeBackend
    from vecexplore.search.store import Store

    X = clustered(8000, 384)
    eset = EmbeddingSet([f"text {i}" for i in range(len(X))], X, "m", "v")
    store = Store(EdgeBackend.open(tmp_path / "q"), hnsw_min_points=5000)
    result = store.index("big", eset, build="now")
    state = store.backend.state("big")
    assert result["search"] == "hnsw" and state.indexed >= 8000 and state.points == 8000
    queries = clustered(200, 384, seed=1)
    truth = exact_top(X, queries, 10)
    asked_ = asked([f"query {i}" for i in range(len(queries))], queries, eset)
    found = [[int(h.text.split()[1]) for h in hits] for hits in store.search("big", asked_, k=10)]
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.99
    exact = [[int(h.text.split()[1]) for h in hits] for hits in store.search("big", asked_.subset(range(20)), k=10,
                                                                                 exact=True)]
    assert [list(r) for r in truth[:20]] == exact  # the exact switch is exact
    assert store.tag("big").hnsw_recall >= 0.99 and store.collections()[0]["search"].startswith("HNSW, recall")
    # a background build: searches stay exact (and answer) while it runs, then the graph is swapped in
    store.index("bg", eset.subset(range(6000)), build="background")
    during = store.search("bg", asked_.subset([0]), k=10)[0]
    assert [int(h.text.split()[1]) for h in during] == list(exact_top(X[:6000], queries[:1], 10)[0])
    deadline = time.monotonic() + 300
    while store.backend.state("bg").building and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.backend.state("bg").indexed >= 6000 and store.tag("bg").hnsw_recall >= 0.99
    store.close()


def test_copy_to_a_server_and_back_keeps_ids_payload_and_tags(tmp_path, topic_set):
    from qdrant_client import QdrantClient

    from vecexplore.search.qdrant.server import ServerBackend
    from vecexplore.search.store import Store

    edge = open_store(path=tmp_path / "edge")
    edge.acting_as("session-1").index("demo", topic_set, columns=[{"n": str(i)} for i in range(topic_set.n)],
                                      shared=True)
    client = QdrantClient(path=str(tmp_path / "server"))  # the server's stand-in: the same API
    server = Store(ServerBackend(client, "test server"))
    edge.copy("demo", server)
    edge.delete("demo")
    server.copy("demo", edge, "back")

    def everything(store, name):
        out, offset = {}, None
        while True:
            records, offset = store.backend.scroll(name, offset, 100, vectors=True)
            out.update({r.id: r for r in records})
            if offset is None:
                return out

    there, back = everything(server, "demo"), everything(edge, "back")
    assert set(there) == set(back) == {point_id(t) for t in topic_set.texts}
    for pid, record in back.items():
        assert record.payload == there[pid].payload
        np.testing.assert_allclose(record.dense, there[pid].dense, atol=1e-6)
        mine, theirs = dict(zip(*record.sparse, strict=True)), dict(zip(*there[pid].sparse, strict=True))
        assert mine == pytest.approx(theirs)
    assert server.tag("demo") == edge.tag("back")
    assert edge.tag("back").owner == "session-1" and back[point_id(topic_set.texts[3])].payload["n"] == 3
    q = one(topic_set, 7)
    assert [h.id for h in server.search("demo", q, k=10)[0]] == [h.id for h in edge.search("back", q, k=10)[0]]
    client.close()
    edge.close()
