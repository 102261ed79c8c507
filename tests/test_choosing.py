"""Which model for my texts? The tasks, the per-item scores against reference implementations (ranx, bm25s,
scikit-learn, scipy), the paired bootstrap's coverage, and the report card's verdicts."""

import json

import numpy as np
import pytest

from helpers import ranx_per_query
from vecexplore.choosing import metrics as M
from vecexplore.choosing.confidence import PairedBootstrap, bootstrap_p, holm
from vecexplore.choosing.report import BM25_ID, choose_report
from vecexplore.choosing.tasks import LEXICAL_NOTE, plan_tasks, sentences
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError

# --- tasks ---------------------------------------------------------------------------------------------------------

TWO = [f"Text {i} opens with a claim about item{i}. It then adds a detail on part{i}." for i in range(12)]


def test_inverse_cloze_takes_one_sentence_out_of_its_document_seeded():
    texts = [*TWO, "Just one sentence here"]
    plan = plan_tasks(texts)
    (task,) = plan.tasks
    assert task.source == "inverse-cloze" and task.n == 12 and len(task.doc_texts) == 13
    assert LEXICAL_NOTE in task.notes and "seed 0" in task.description
    for query, rel in zip(task.query_texts, task.relevant, strict=True):
        (doc,) = rel
        assert query not in task.doc_texts[doc] and query in texts[doc] and rel[doc] == 1.0
    assert task.doc_texts[12] == "Just one sentence here"  # single-sentence texts stay whole, as distractors
    assert plan_tasks(texts).tasks[0].query_texts == task.query_texts
    assert plan_tasks(texts, seed=3).tasks[0].query_texts != task.query_texts
    assert sentences("Dr. Who? Yes! 3.5 is a number. ...") == ["Dr.", "Who?", "Yes!", "3.5 is a number."]


def test_queries_titles_labels_and_pairs_make_their_tasks():
    docs = ["alpha text", "beta text", "gamma text", "delta text"]
    plan = plan_tasks(docs, ["x", "x", "y", "y"], queries={"q1": "find beta", "q2": "nothing"},
                      qrels={"q1": {"b": 2}, "q2": {"zzz": 1}}, doc_ids=["a", "b", "c", "d"],
                      pairs=[("a", "b", 1.0), ("c", "d", 2.0), ("e", "f", 0.5)])
    kinds = [t.kind for t in plan.tasks]
    assert kinds == ["retrieval", "classification", "clustering", "similarity"]
    assert plan.tasks[0].relevant == [{1: 2.0}] and plan.tasks[0].query_texts == ["find beta"]
    assert any("not in the collection" in n for n in plan.tasks[0].notes)
    assert set(plan.texts) >= {"find beta", "alpha text", "a", "f"}
    titled = plan_tasks(docs, titles=["A", "", "C", ""]).tasks[0]
    assert titled.source == "titles" and titled.query_texts == ["A", "C"] and titled.relevant == [{0: 1.0}, {2: 1.0}]
    unique = plan_tasks(TWO[:3], ["x", "y", "z"])
    assert [t.kind for t in unique.tasks] == ["retrieval"] and "no classification or clustering" in unique.notes[0]


def test_nothing_to_rank_on_is_refused_with_what_to_give(hostile):
    with pytest.raises(VecexploreError, match="Give a label column, scored pairs") as err:
        plan_tasks(["one sentence", "another one"])
    hostile("choosing a model: tasks", "two single-sentence texts, no labels", str(err.value))
    with pytest.raises(VecexploreError, match="Give both the queries and their relevance judgements"):
        plan_tasks(TWO, queries={"q": "x"})
    with pytest.raises(VecexploreError, match="check that the qrels use the texts' ids"):
        plan_tasks(TWO, queries={"q": "x"}, qrels={"q": {"nope": 1}})


def test_demo_topics_give_classification_and_clustering(topics):
    plan = plan_tasks(topics.texts, topics.labels)
    kinds = [t.kind for t in plan.tasks]
    assert kinds[-2:] == ["classification", "clustering"]
    assert "5 labels of 300 texts" in plan.tasks[-2].description


# --- retrieval against ranx and bm25s --------------------------------------------------------------------------------


def test_retrieval_metrics_match_ranx():
    """Against ranx (run in a child process: see helpers.ranx_per_query)."""
    pytest.importorskip("ranx", reason="ranx is the reference for recall@10, MRR@10 and nDCG@10")
    rng = np.random.default_rng(6)
    queries, docs = rng.normal(size=(30, 12)), rng.normal(size=(40, 12))
    relevant = [{int(j): float(rng.integers(1, 4)) for j in rng.choice(40, size=rng.integers(1, 5), replace=False)}
                for _ in range(30)]
    ours = M.ranking_metrics(M.cosine_top(queries, docs, 10), relevant, 10)
    scores = M.pair_cosines(np.repeat(queries, 40, 0), np.tile(docs, (30, 1))).reshape(30, 40)
    qrels = {f"q{i:02d}": {f"d{j:02d}": int(g) for j, g in rel.items()} for i, rel in enumerate(relevant)}
    run = {f"q{i:02d}": {f"d{j:02d}": float(scores[i, j]) for j in range(40)} for i in range(30)}
    theirs = ranx_per_query(qrels, run, ("recall@10", "mrr@10", "ndcg@10"))
    for metric in ("recall@10", "mrr@10", "ndcg@10"):
        np.testing.assert_allclose(ours[metric], theirs[metric], atol=1e-6)
    assert 0 < ours["mrr@10"].mean() < 1


def test_bm25_matches_bm25s_lucene():
    bm25s = pytest.importorskip("bm25s", reason="bm25s is the reference for the BM25 baseline's scores")
    docs = ["The cat sat on the mat.", "A dog and a cat, the best of friends.", "Stock markets fell; the dog barked.",
            "Nothing in common here", "cat cat cat mat"]
    queries = ["cat on a mat", "dog markets", "unknown words only", "the the cat"]
    ours = M.BM25().fit(docs)
    ref = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    ref.index([M.tokens(d) for d in docs], show_progress=False)
    known = [[t for t in M.tokens(q) if t in ours.vocabulary_] for q in queries]
    theirs = np.array([ref.get_scores(k) if k else np.zeros(len(docs)) for k in known])
    np.testing.assert_allclose(ours.scores(queries), theirs, atol=1e-5)
    assert list(ours.top(["dog markets"], 2)[0]) == [2, 1]


# --- classification, clustering, similarity against scikit-learn and scipy -------------------------------------------


def _clustered(n_per: int = 20, n_labels: int = 4, dims: int = 16, noise: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_labels, dims))
    labels = np.repeat([f"l{i}" for i in range(n_labels)], n_per)
    return centres[np.repeat(np.arange(n_labels), n_per)] + noise * rng.normal(size=(len(labels), dims)), labels


def test_probe_and_knn_match_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _clustered(noise=2.5)
    Z = M.l2_normalize(X)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    probe = M.probe_correct(X, y)
    assert abs(probe.mean() - cross_val_score(LogisticRegression(max_iter=2000), Z, y, cv=cv).mean()) < 1e-9
    knn = M.knn_correct(X, y, k=10)
    reference = cross_val_predict(KNeighborsClassifier(10, metric="cosine", algorithm="brute"), Z, y, cv=cv) == y
    np.testing.assert_array_equal(knn, reference.astype(float))
    assert 0.3 < knn.mean() < 1.0
    small = np.array([*y[:-17]])  # the last label keeps 3 texts: 3 folds
    assert M.folds_for(small) == 3
    with pytest.raises(VecexploreError, match="at least 2 labels with 2 texts"):
        M.probe_correct(X[:21], y[:21])


def test_v_measure_and_its_resamples_match_scikit_learn():
    from sklearn.cluster import KMeans
    from sklearn.metrics import v_measure_score

    X, y = _clustered(noise=3.0)
    score = M.kmeans_v_measure(X, y, seed=0)
    clusters = KMeans(4, n_init=10, random_state=0).fit_predict(M.l2_normalize(X))
    assert abs(score.value() - v_measure_score(y, clusters)) < 1e-9
    index = np.random.default_rng(1).integers(0, len(y), size=(5, len(y)))
    expected = [v_measure_score(y[row], clusters[row]) for row in index]
    np.testing.assert_allclose(score.on(index), expected, atol=1e-9)
    single = M.VMeasure(np.zeros(6, dtype=int), np.array([0, 0, 1, 1, 2, 2]))
    assert abs(single.value() - v_measure_score([0] * 6, [0, 0, 1, 1, 2, 2])) < 1e-12


def test_spearman_and_its_resamples_match_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(2)
    cos = rng.normal(size=50)
    gold = np.round(cos + rng.normal(size=50), 0)  # ties in the scores
    score = M.Spearman(cos, gold)
    assert abs(score.value() - spearmanr(cos, gold).statistic) < 1e-9
    index = rng.integers(0, 50, size=(5, 50))
    np.testing.assert_allclose(score.on(index), [spearmanr(cos[r], gold[r]).statistic for r in index], atol=1e-9)


# --- fit ------------------------------------------------------------------------------------------------------------


def test_fit_reads_the_diagnosis_and_a_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers

    info = {"truncated_share": 0.25, "n_truncated": 1, "max_seq_length": 8, "backend": "onnx"}
    vectors = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert M.fit_from_info(info, vectors) == {"max_seq_length": 8, "n_truncated": 1, "truncated_share": 0.25,
                                              "zero_vector_share": 0.5}
    tok = Tokenizer(models.WordPiece({"[UNK]": 0, "hel": 1, "##lo": 2, "world": 3}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fit = M.tokenizer_fit(tok, ["hello world", "foo"])
    assert fit == {"pieces_per_word": pytest.approx(4 / 3), "unknown_token_share": pytest.approx(1 / 4)}


# --- the bootstrap --------------------------------------------------------------------------------------------------


def test_bootstrap_interval_covers_a_known_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = 0
    for rep in range(300):
        sample = M.MeanScore(rng.exponential(1.0, size=60))
        interval, _ = PairedBootstrap(n_boot=300, seed=rep).fit(60).interval(sample)
        covered += interval.low <= 1.0 <= interval.high
    assert 0.90 <= covered / 300 <= 0.99, covered


def test_holm_and_bootstrap_p():
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02])
    assert holm(np.array([0.5, 0.6])).max() <= 1.0
    assert bootstrap_p(np.zeros(99)) == 1.0 and bootstrap_p(np.ones(99)) == pytest.approx(0.02)


# --- the report card ------------------------------------------------------------------------------------------------


def _set(name: str, X: np.ndarray, texts: list[str], labels=None) -> EmbeddingSet:
    return EmbeddingSet(texts, X, name, "1", None if labels is None else list(labels))


def test_identical_models_show_no_detectable_difference():
    X, y = _clustered(noise=2.0)
    texts = [f"text {i}" for i in range(len(y))]
    report = choose_report({"a": _set("a", X, texts, y), "b": _set("b", X, texts, y)}, n_boot=200,
                           costs={"a": {"texts_per_s": 10}, "b": {"texts_per_s": 100}})
    between = [d for d in report.differences if {d["a"], d["b"]} == {"a", "b"}]
    assert between and all(d["low"] <= 0 <= d["high"] and not d["detectable"] for d in between)
    assert not any("beats" in s and "a" in s.split() and "b" in s.split() for s in report.verdict)
    assert any("no detectable difference" in s and "the cheaper one (b) is enough" in s for s in report.verdict)
    assert report.ranking == ["b", "a"]  # a tie goes to the faster model


def test_a_clearly_better_model_beats_the_other_and_the_json_has_every_key():
    X, y = _clustered(noise=0.5)
    noise = np.random.default_rng(9).normal(size=X.shape)
    texts = [f"Item {i} is in group {lab}. More words about item {i}." for i, lab in enumerate(y)]
    plan = plan_tasks(texts, y)
    extra = [t for t in plan.texts if t not in texts]
    pieces = np.random.default_rng(3).normal(size=(len(extra), X.shape[1]))
    sets = {"good": _set("good", np.vstack([X, pieces]), texts + extra),
            "noise": _set("noise", np.vstack([noise, pieces]), texts + extra)}
    report = choose_report(sets, texts, labels=y, n_boot=300, costs={"good": {"texts_per_s": 5.0}})
    out = json.loads(json.dumps(report.to_dict()))
    assert {"tasks", "models", "differences", "ranking", "rankings", "verdict", "n", "resamples", "seed",
            "disagreements"} <= set(out)
    assert [t["kind"] for t in out["tasks"]] == ["retrieval", "classification", "clustering"]
    good = next(m for m in out["models"] if m["model"] == "good")
    assert set(good["metrics"]) == {"recall@10", "mrr@10", "ndcg@10", "probe_accuracy", "knn_accuracy", "v_measure"}
    assert all(v["low"] <= v["value"] <= v["high"] for v in good["metrics"].values())
    assert good["cost"] == {"texts_per_s": 5.0} and good["fit"] == {"zero_vector_share": 0.0}
    assert any(m["model"] == BM25_ID and m["baseline"] and "k1 = 1.5" in m["description"] for m in out["models"])
    probe = next(d for d in out["differences"] if d["metric"] == "probe_accuracy" and {d["a"], d["b"]} ==
                 {"good", "noise"})
    assert {"a", "b", "metric", "value", "low", "high"} <= set(probe) and probe["low"] > 0
    assert out["ranking"] == ["good", "noise"] and out["rankings"]["classification"][0] == "good"
    assert any(s.startswith("good beats noise on classification by +") for s in out["verdict"])
    assert out["n"] == {"retrieval": 80, "classification": 80, "clustering": 80} and out["resamples"] == 300
    assert any(d["task"] == "classification" for d in out["disagreements"])


def test_similarity_pairs_and_missing_vectors():
    rng = np.random.default_rng(4)
    left, right = [f"l{i}" for i in range(30)], [f"r{i}" for i in range(30)]
    A, B = rng.normal(size=(30, 8)), rng.normal(size=(30, 8))
    gold = M.pair_cosines(A, B) + 0.1 * rng.normal(size=30)
    texts = [*left, *right, "x"]
    good = _set("good", np.vstack([A, B, np.ones((1, 8))]), texts)
    bad = _set("bad", rng.normal(size=(61, 8)), texts)
    pairs = list(zip(left, right, gold, strict=True))
    report = choose_report({"good": good, "bad": bad}, ["x"], pairs=pairs, n_boot=200)
    assert [t["kind"] for t in report.tasks] == ["similarity"] and report.n == {"similarity": 30}
    assert report.rankings["similarity"][0] == "good"
    assert any(s.startswith("good beats bad on similarity by +") for s in report.verdict)
    with pytest.raises(VecexploreError, match="has no vector for 60 of the 60 texts"):
        choose_report({"good": _set("good", A[:1], ["x"])}, ["x"], pairs=pairs)


def test_resamples_are_paired_and_repeatable():
    x = np.random.default_rng(5).normal(size=50)
    boot = PairedBootstrap(n_boot=250, seed=7, block=100).fit(50)
    first = boot.resampled(M.MeanScore(x))
    np.testing.assert_allclose(boot.resampled(M.MeanScore(x + 1.0)) - first, 1.0)  # the same items every time
    assert len(first) == 250 and not np.allclose(first, first[0])
    with pytest.raises(VecexploreError, match="at least 2 items"):
        PairedBootstrap().fit(1)


class _FakeEncoder:
    """diagnose() as a transformer's, and a WordPiece tokenizer as ``tokenizer_`` (the ONNX encoders')."""

    def __init__(self):
        from tokenizers import Tokenizer, models, pre_tokenizers

        self.tokenizer_ = Tokenizer(models.WordPiece({"[UNK]": 0, "hel": 1, "##lo": 2, "world": 3},
                                                     unk_token="[UNK]"))
        self.tokenizer_.pre_tokenizer = pre_tokenizers.Whitespace()

    def diagnose(self, texts):
        return {"max_seq_length": 2, "n_truncated": 1, "truncated_share": 0.5, "truncated_index": [0]}


def test_encoder_fit_is_passed_into_the_report():
    fit = M.encoder_fit(_FakeEncoder(), ["hello world", "foo"])
    assert fit == {"max_seq_length": 2, "n_truncated": 1, "truncated_share": 0.5,
                   "pieces_per_word": pytest.approx(4 / 3), "unknown_token_share": pytest.approx(1 / 4)}
    X, y = _clustered(n_per=6, n_labels=2)
    texts = [f"t{i}" for i in range(12)]
    eset = _set("m", X, texts, y).with_info(oov_share=0.1)
    report = choose_report({"m": eset}, n_boot=50, fit={"m": fit})
    assert report.models[0]["fit"]["oov_share"] == 0.1 and report.models[0]["fit"]["pieces_per_word"] == fit[
        "pieces_per_word"]
    assert report.differences == [] and report.ranking == ["m"]


def test_demo_topics_with_glove_and_tfidf(topics, glove):
    from vecexplore.encoders import TfidfLsaEncoder

    tfidf = TfidfLsaEncoder(64).fit(topics.texts)
    sets = {e.id: EmbeddingSet(topics.texts, e.encode(topics.texts), e.id, e.version, topics.labels)
            .with_info(**e.diagnose(topics.texts)) for e in (glove, tfidf)}
    report = choose_report(sets, n_boot=200)
    out = report.to_dict()
    assert set(out["ranking"]) == set(sets) and set(out["rankings"]) >= {"classification", "clustering"}
    glove_row = next(m for m in out["models"] if m["model"] == glove.id)
    assert 0 <= glove_row["fit"]["oov_share"] < 0.2
    assert glove_row["metrics"]["probe_accuracy"]["value"] > 0.6  # five clearly separate topics
    assert len(out["verdict"]) >= 3 and out["verdict"][0].startswith(f"Best overall: {out['ranking'][0]}")


def test_titles_find_their_texts_better_with_the_better_model():
    rng = np.random.default_rng(8)
    texts, titles = [f"body {i}" for i in range(60)], [f"title {i}" for i in range(60)]
    bodies = rng.normal(size=(60, 16))
    good = _set("good", np.vstack([bodies, bodies + 0.3 * rng.normal(size=bodies.shape)]), texts + titles)
    bad = _set("bad", np.vstack([bodies, rng.normal(size=bodies.shape)]), texts + titles)
    report = choose_report({"bad": bad, "good": good}, texts, titles=titles, n_boot=300)
    assert report.tasks[0]["source"] == "titles" and report.ranking == ["good", "bad"]
    mrr = next(d for d in report.differences if d["metric"] == "mrr@10" and {d["a"], d["b"]} == {"good", "bad"})
    assert mrr["high"] < 0 and mrr["detectable"] and mrr["p_holm"] < 0.05  # bad − good
    assert any(s.startswith("good beats bad on retrieval by +") and "MRR [+" in s for s in report.verdict)
    assert report.disagreements and report.disagreements[0]["item"].startswith("title ")
