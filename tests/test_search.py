"""Search on a local Qdrant collection: exactness, tags, idempotence, durability, hybrid, evaluation, compression."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vecexplore.cache import embed
from vecexplore.compression import compression_report, exact_top
from vecexplore.errors import VecexploreError
from vecexplore.retrieval import check_qrels, evaluate_run, hard_negatives, query_metrics, read_beir
from vecexplore.search import Store, point_id
from vecexplore.store import open_client


@pytest.fixture(scope="module")
def topic_set(minilm, topics):
    return embed(topics.texts, minilm, labels=topics.labels)[0]


@pytest.fixture
def store(tmp_path):
    client = open_client(path=tmp_path / "qdrant")
    yield Store(client)
    client.close()


def test_dense_top_k_is_exact(store, topic_set, minilm):
    store.index("demo", topic_set, batch=64)
    queries = ["The match went to extra time", "How do I bake bread?", "interest rates and inflation"]
    qv = minilm.encode(queries)
    truth = exact_top(topic_set.vectors, qv, 10)
    for q, row in zip(qv, truth, strict=True):
        hits = store.search("demo", q, k=10)
        assert [h.text for h in hits] == [topic_set.texts[i] for i in row]  # recall@10 = 1.0, same order
        expected = topic_set.normalized()[row] @ (q / np.linalg.norm(q))
        np.testing.assert_allclose([h.score for h in hits], expected, atol=1e-4)


def test_tags_and_idempotent_reindex(store, topic_set):
    first = store.index("demo", topic_set, source="demo topics")
    again = store.index("demo", topic_set, source="demo topics")
    assert first["points"] == again["points"] == 300 and first["created"] and not again["created"]
    hit = store.search("demo", topic_set.vectors[0], k=1)[0]
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
    with pytest.raises(VecexploreError, match="has 50 dims"):
        store.search("demo", np.ones(50), k=3)


def test_bad_search_input(store, topic_set):
    store.index("demo", topic_set)
    with pytest.raises(VecexploreError, match="between 1 and 1000"):
        store.search("demo", topic_set.vectors[0], k=0)
    with pytest.raises(VecexploreError, match="between 1 and 1000"):
        store.search("demo", topic_set.vectors[0], k=10**6)
    with pytest.raises(VecexploreError, match="No collection 'nope' \\(existing: demo\\)"):
        store.search("nope", topic_set.vectors[0])
    with pytest.raises(VecexploreError, match="No field 'colour'.*label"):
        store.search("demo", topic_set.vectors[0], filters={"colour": "red"})
    hits = store.search("demo", topic_set.vectors[0], k=5, filters={"label": "space"})
    assert len(hits) == 5 and {h.payload["label"] for h in hits} == {"space"}
    with pytest.raises(VecexploreError, match="needs query words"):
        store.search("demo", topic_set.vectors[0], hybrid=True, query_text="  ")


def test_data_survives_reopening(tmp_path, topic_set):
    client = open_client(path=tmp_path / "q")
    Store(client).index("demo", topic_set)
    client.close()
    client = open_client(path=tmp_path / "q")
    store = Store(client)
    assert store.collections()[0]["points"] == 300
    assert store.search("demo", topic_set.vectors[5], k=1)[0].text == topic_set.texts[5]
    store.rename("demo", "renamed")
    assert store.names() == ["renamed"] and store.collections()[0]["points"] == 300
    store.delete("renamed")
    assert store.names() == []
    client.close()


def test_killed_mid_index_keeps_completed_batches(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        from vecexplore.embedding_set import EmbeddingSet
        from vecexplore.search import Store
        from vecexplore.store import open_client
        texts = [f"text number {{i}}" for i in range(1000)]
        vectors = np.random.default_rng(0).normal(size=(1000, 16))
        store = Store(open_client(path={str(tmp_path / "q")!r}))
        def progress(done, total):
            if done >= 300:
                os.kill(os.getpid(), signal.SIGKILL)
        store.index("c", EmbeddingSet(texts, vectors, "m", "v"), batch=100, progress=progress)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr
    client = open_client(path=tmp_path / "q")
    store = Store(client)
    assert store.collections()[0]["points"] >= 300
    got = client.retrieve("c", ids=[point_id(f"text number {i}") for i in range(300)])
    assert len(got) == 300
    client.close()


def test_hybrid_finds_an_exact_keyword_that_dense_misses(store, topics, glove):
    target = "Our accountant filed the zelphar paperwork before the deadline."
    eset = embed([*topics.texts, target], glove)[0]
    store.index("kw", eset)
    query = "zelphar bread"  # GloVe does not know 'zelphar': the dense half sees only "bread"
    qv = glove.encode([query])[0]
    dense = [h.text for h in store.search("kw", qv, k=301)]
    hybrid = [h.text for h in store.search("kw", qv, k=10, hybrid=True, query_text=query)]
    assert dense.index(target) > 100
    assert target in hybrid[:3]


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
    queries, qrels = read_beir('{"_id": "q1", "text": "hello"}\n{"_id": "q2", "text": "bye"}\n',
                               "query-id\tcorpus-id\tscore\nq1\td1\t1\nq9\td2\t1\nq2\tdX\t2\n")
    assert queries == {"q1": "hello", "q2": "bye"} and qrels["q2"] == {"dX": 2.0}
    notes = check_qrels(queries, qrels, {"d1", "d2"})
    assert "1 judged queries are not in the query file" in notes[0] and "'dX'" in notes[1]
    with pytest.raises(VecexploreError, match="line 1"):
        read_beir("not json\n", "")
    with pytest.raises(VecexploreError, match="No query has relevance"):
        check_qrels({"a": "x"}, {"b": {"d": 1}}, {"d"})


def test_compression_lab(topic_set):
    rows = {r["method"]: r for r in compression_report(topic_set.vectors, n_queries=100, dims=(256, 128))}
    assert rows["float32 (exact)"]["recall"] == 1.0 and rows["float32 (exact)"]["bytes_per_vector"] == 1536
    assert rows["int8 scalar"]["bytes_per_vector"] == 384 and rows["int8 scalar"]["recall"] > 0.9
    assert rows["binary (Hamming)"]["bytes_per_vector"] == 48
    assert rows["binary + float rescoring of top 40"]["recall"] >= rows["binary (Hamming)"]["recall"]
    assert rows["first 256 dims (float32)"]["recall"] >= rows["first 128 dims (float32)"]["recall"]


def test_unreachable_server_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("VECEXPLORE_QDRANT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    client = open_client()
    with pytest.raises(VecexploreError, match="Cannot reach the Qdrant server"):
        Store(client).names()


def test_one_store_used_from_many_threads(store, topic_set):
    import threading

    errors = []

    def work(i):
        try:
            store.index(f"t{i % 2}", topic_set.subset(range(i * 30, i * 30 + 30)))
            store.search(f"t{i % 2}", topic_set.vectors[i], k=3)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and sum(c["points"] for c in store.collections()) == 180


def test_private_and_shared_collections(store, topic_set, hostile):
    from qdrant_client import models

    from vecexplore.search import default_name, visible

    private = default_name("demo: topics", topic_set.model_id, "0123456789abcdef")
    assert private == "demo-topics-all-minilm-l6-v2-0123456789"
    store.index(private, topic_set.subset(range(20)), owner="session-1", shared=False)
    store.index("class", topic_set.subset(range(20)), owner="session-1")
    store.client.create_collection("legacy", vectors_config={"dense": models.VectorParams(
        size=topic_set.dims, distance=models.Distance.COSINE)},
        metadata={"model_id": topic_set.model_id, "model_version": topic_set.model_version, "dims": topic_set.dims})
    rows = store.collections("session-2")
    shown, hidden = visible(rows, "session-2")
    assert [r["name"] for r in shown] == ["class", "legacy"] and hidden == 1
    assert [r["created_by"] for r in shown] == ["another session", "unknown (an older store)"]
    assert [r["name"] for r in visible(rows, "session-1")[0]] == ["class", private, "legacy"]
    assert [r["name"] for r in visible(rows, "session-2", also=[private])[0]] == ["class", private, "legacy"]
    with pytest.raises(VecexploreError, match="created by another session") as refused:
        store.delete("class", viewer="session-2")
    hostile("core: Store.delete", "a session deletes a collection another session created, unconfirmed",
            str(refused.value))
    with pytest.raises(VecexploreError, match="created by another session"):
        store.rename("class", "mine", viewer="session-2")
    store.rename("class", "ours", viewer="session-1")  # the owner needs no confirmation
    store.delete("ours", viewer="session-2", confirmed=True)
    store.delete(private, viewer="session-1")
    assert store.names() == ["legacy"] and store.tag("legacy").shared
