"""Hostile command lines: every impossible value is refused before any work, as JSON with exit 2, never a
traceback; each case lands in docs/reliability.md."""

import json
import shlex
import subprocess
import sys

import pytest

from vecexplore.cli import main

CORPUS = "\n".join(f"The goalkeeper saved penalty number {i} in the final." for i in range(6)) + "\n" + "\n".join(
    f"Knead the dough for loaf {i} and let it rise." for i in range(6))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "c.txt").write_text(CORPUS)
    (root / "numbers.csv").write_text("id,score\n1,0.5\n2,0.25\n3,0.75\n")
    (root / "broken.jsonl").write_text('{"text": "one"}\n{"text": "two"}\n{"text": three}\n')
    (root / "q.jsonl").write_text('{"_id": "q1", "text": "goalkeeper penalty"}\n{"_id": "q2", "text": "qwertyzzz"}\n')
    (root / "qrels.tsv").write_text("q1\td1\t1\nq2\td2\t1\n")
    (root / "words.csv").write_text("w1,w2,score\ncat,dog,7\n")
    (root / "blank.csv").write_text("text\n\n  \n")
    (root / "empty.txt").write_text("")
    (root / "ft_pairs.csv").write_text("".join(f"question {i},answer {i}\n" for i in range(12)))
    (root / "one_col.csv").write_text("a single text per line\nanother one\n")
    (root / "dup_pairs.csv").write_text("anchor,positive\n" + "".join(f"q{i},a{i}\n" for i in range(12)) + "q1,b\n")
    (root / "bad_score.csv").write_text("s1,s2,score\n" + "a,b,4\n" * 11 + "c,d,high\n")
    return root


def run(capsys, argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


# (command line with {dir} for the files folder, what the error must say)
REFUSED = [
    ("analogy man king woman --top -5", "--top: must be between 1 and 1000"),
    ("analogy man king woman --top 0", "--top: must be between 1 and 1000"),
    ("analogy man king woman --top many", "--top: takes a whole number"),
    ("analogy-eval {dir}/q.jsonl --restrict-vocab 10", "--restrict-vocab: must be between 1000 and 400000"),
    ("word-sim {dir}/words.csv --method 3cosmul", "unrecognized arguments: --method"),
    ("shift {dir}/c.txt {dir}/c.txt --permutations -5", "cannot report a p-value below 1/(N + 1)"),
    ("shift {dir}/c.txt {dir}/c.txt --permutations 0", "--permutations: must be between 100 and 10000"),
    ("shift {dir}/c.txt {dir}/c.txt --seed -1", "--seed: must be between 0"),
    ("isotropy {dir}/c.txt --model glove-6B-50d --transform abtt --d -5", "--d: must be between 1 and 100"),
    ("isotropy {dir}/c.txt --model glove-6B-50d --transform whiten --k 0", "--k: must be between 1 and 4096"),
    ("project {dir}/c.txt --model glove-6B-50d --k 0", "--k: must be between 1 and 100"),
    ("project {dir}/c.txt --model glove-6B-50d --method umap --n-neighbors 0", "--n-neighbors: must be between 2"),
    ("project {dir}/c.txt --model glove-6B-50d --max-points 3", "--max-points: must be between 100"),
    ("project {dir}/c.txt --model glove-6B-50d --dims 4", "invalid choice: 4"),
    ("clusters {dir}/c.txt --model glove-6B-50d --k 1", "--k: must be between 2 and 100"),
    ("clusters {dir}/c.txt --model glove-6B-50d --k many", "--k: takes a whole number"),
    ("clusters {dir}/c.txt --model glove-6B-50d --k 20", "Finding 20 clusters needs at least 20 texts (got 12)"),
    ("clusters {dir}/c.txt --model glove-6B-50d --method dbscan", "invalid choice: 'dbscan'"),
    ("clusters {dir}/c.txt --model glove-6B-50d --method hdbscan --k 3", "HDBSCAN finds the number of clusters"),
    ("clusters {dir}/c.txt --model glove-6B-50d --method hdbscan --min-cluster-size 1",
     "--min-cluster-size: must be between 2"),
    ("clusters {dir}/c.txt --model glove-6B-50d --granularity medium", "invalid choice: 'medium'"),
    ("clusters {dir}/c.txt --model glove-6B-50d --label-col topic", "has no column 'topic'"),
    ("clusters {dir}/empty.txt --model glove-6B-50d", "empty.txt is empty"),
    ("retrieval-eval --collection c --queries {dir}/q.jsonl --qrels {dir}/qrels.tsv --k -5",
     "--k: must be between 1 and 1000"),
    ("search anything --collection c --k 5000", "--k: must be between 1 and 1000"),
    ("search anything", "the following arguments are required: --collection"),
    ("compare {dir}/c.txt --models glove-6B-50d,tfidf-lsa --k 0", "--k: must be between 1 and 100"),
    ("embed {dir}/c.txt --model all-MiniLM-L6-v2 --backend tpu", "invalid choice: 'tpu'"),
    ("teleport {dir}/c.txt", "invalid choice: 'teleport'"),
    ("embed {dir}/numbers.csv --model glove-6B-50d", "name the column to embed with --text-col"),
    ("embed {dir}/broken.jsonl --model glove-6B-50d", "line 3 is not valid JSON"),
    ("embed {dir}/missing.txt --model glove-6B-50d", "Cannot read"),
    ("analogy man kng woman", "did you mean"),
    ("embed {dir}/c.txt --model no-such-org/no-such-model", "Unknown model 'no-such-org/no-such-model'"),
    ("embed {dir}/c.txt", "--model is required"),
    ("embed {dir}/numbers.csv --model glove-6B-50d --text-col text", "has no column 'text'"),
    ("embed {dir}/blank.csv --model glove-6B-50d", "has no texts"),
    ("sts {dir}/words.csv --model glove-6B-50d", "only 0 usable pairs (1 scores outside 0–5)"),
    ("search ' ' --collection c", "The query is empty"),
    ("search anything --collection c --filter year", "A filter takes field=value"),
    ("search anything --collection c --filter year=5..1", "the range 5..1 is empty"),
    ("search anything --collection c --filter year=x..", "'x' is not a number"),
    ("compress {dir}/c.txt --model glove-6B-50d --queries 5", "--queries: must be between 20"),
    ("copy c from-server --server http://127.0.0.1:9 --qdrant-path {dir}/qd", "Cannot reach the Qdrant server"),
    ("copy c to-server --server http://127.0.0.1:9 --qdrant-path {dir}/qd", "No collection 'c'"),
    ("copy c sideways --server http://127.0.0.1:9", "invalid choice: 'sideways'"),
    ("finetune {dir}/one_col.csv --name m", "has one column"),
    ("finetune {dir}/empty.txt --name m", "has no pairs"),
    ("finetune {dir}/bad_score.csv --name m", "line 13's score 'high' is not a number"),
    ("finetune {dir}/missing.csv --name m", "Cannot read"),
    ("finetune {dir}/ft_pairs.csv", "the following arguments are required: --name"),
    ("finetune {dir}/ft_pairs.csv --name 'my model'", "cannot name a model"),
    ("finetune {dir}/ft_pairs.csv --name m --epochs 0", "--epochs: must be between 1 and 20"),
    ("finetune {dir}/ft_pairs.csv --name m --lr 0.5", "--lr: must be between 1e-07 and 0.001"),
    ("finetune {dir}/ft_pairs.csv --name m --batch-size 1", "--batch-size: must be between 2 and 512"),
    ("finetune {dir}/ft_pairs.csv --name m --test-share 0.9", "--test-share: must be between 0.05 and 0.5"),
    ("finetune {dir}/ft_pairs.csv --name m --base glove-6B-50d", "glove-6B-50d is not a sentence-transformers model"),
]


@pytest.mark.parametrize("line,message", REFUSED)
def test_refused_with_json_and_exit_2(capsys, files, hostile, line, message):
    argv = shlex.split(line.format(dir=files))
    code, out = run(capsys, argv)
    assert code == 2 and message in out["error"], out
    hostile(f"CLI: {argv[0]}", " ".join(argv[1:]).replace(str(files), "…"), out["error"])


def test_queries_the_model_cannot_see_are_refused(capsys, files, tmp_path, hostile):
    """With GloVe, 'qwertyzzz' has no known word: a zero vector would rank the corpus in index order with
    cosine 0, so search and retrieval-eval refuse it instead of answering."""
    store = ["--collection", "c", "--qdrant-path", str(tmp_path / "q")]
    code, _ = run(capsys, ["index", str(files / "c.txt"), "--model", "glove-6B-50d", *store])
    assert code == 0
    code, out = run(capsys, ["search", "qwertyzzz", *store])
    assert code == 2 and "knows none of the words in 'qwertyzzz'" in out["error"]
    hostile("CLI: search", "qwertyzzz (collection embedded with glove-6B-50d)", out["error"])
    code, out = run(capsys, ["retrieval-eval", "--queries", str(files / "q.jsonl"), "--qrels",
                             str(files / "qrels.tsv"), *store])
    assert code == 2 and "1 of 2 texts have no word glove-6B-50d knows" in out["error"]
    hostile("CLI: retrieval-eval", "queries.jsonl with a query 'qwertyzzz'", out["error"])
    code, out = run(capsys, ["search", "goalkeeper", *store])
    assert code == 0 and "goalkeeper" in out["hits"][0]["text"]


def test_impossible_k_for_a_small_corpus_is_lowered_and_said(capsys, files, hostile):
    code, out = run(capsys, ["project", str(files / "c.txt"), "--model", "glove-6B-50d", "--method", "pca",
                             "--k", "50"])
    note = next(n for n in out["notes"] if "k lowered" in n)
    assert code == 0 and out["quality_k"] == 4 and "k lowered from 50 to 4" in note
    hostile("CLI: project", "--k 50 on a 12-text corpus", f"answers with quality_k 4 and the note: {note}")


@pytest.mark.slow
def test_finetune_accepts_an_anchor_with_several_positives(capsys, files, tmp_path, monkeypatch, hostile):
    from vecexplore.encoders import finetuned

    monkeypatch.setattr(finetuned, "root", lambda: tmp_path / "finetuned")
    code, out = run(capsys, ["finetune", str(files / "dup_pairs.csv"), "--name", "dup", "--threads", "1",
                             "--backend", "torch"])
    assert code == 0, out
    note = next(n for n in out["notes"] if "several positives" in n)
    assert note.startswith("1 anchor comes with several positives (up to 2)") and out["metrics"]
    assert any("the same thread count (1 CPU thread(s) here)" in n for n in out["notes"])
    hostile("CLI: finetune", "…/dup_pairs.csv --name dup (anchor 'q1' with two positives)",
            f"trains and reports before/after, with the note: {note}")


def test_no_traceback_even_from_a_fresh_process(files):
    result = subprocess.run([sys.executable, "-m", "vecexplore.cli", "project", str(files / "c.txt"), "--method",
                             "umap", "--n-neighbors", "0"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert "--n-neighbors" in json.loads(result.stdout)["error"]
