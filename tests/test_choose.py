"""The report card's workflow, command and documents: `vecexplore choose` JSON keys, costs measured in the run,
budgets, warnings, the cache on a re-run, Cancel, a model that fails midway, the Markdown/HTML/JSON card and its
figures."""

import json
from importlib import resources

import numpy as np
import pytest

from vecexplore.cache import EmbeddingCache
from vecexplore.choosing.card import to_html, to_markdown
from vecexplore.choosing.costs import bytes_per_vector, size_on_disk
from vecexplore.choosing.figures import forest, pareto_front, quality_vs_speed
from vecexplore.choosing.workflow import budget_verdicts, candidate, candidate_embedders, choose
from vecexplore.cli import main
from vecexplore.embedder import Embedder
from vecexplore.errors import Cancelled, VecexploreError
from vecexplore.files.corpus import Corpus, load_demo

TOPICS = str(resources.files("vecexplore.data").joinpath("demo_topics.csv"))
METRIC = {"value", "low", "high"}


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> dict:
    """GloVe against tfidf-lsa on the demo topics (labels: classification and clustering)."""
    corpus = load_demo("topics")
    cache = EmbeddingCache(tmp_path_factory.mktemp("cache") / "c.sqlite")
    embedders = candidate_embedders(["glove-6B-50d", "tfidf-lsa"], cache=cache, fit_texts=corpus.texts)
    return choose(corpus, embedders, n_boot=200, max_ms_per_text=1e-6, max_bytes_per_vector=300).to_dict()


def test_cli_choose_answers_the_issue_keys(capsys, tmp_path):
    code, out = run(capsys, "choose", TOPICS, "--models", "glove-6B-50d,tfidf-lsa", "--label-col", "label",
                    "--resamples", "200", "--max-bytes-per-vector", "300", "--json")
    assert code == 0, out
    assert {"tasks", "models", "differences", "ranking", "rankings", "verdict"} <= set(out)
    assert [t["kind"] for t in out["tasks"]] == ["classification", "clustering"]
    for m in out["models"]:
        assert {"model", "metrics", "cost", "fit"} <= set(m)
        assert set(m["metrics"]) == {"probe_accuracy", "knn_accuracy", "v_measure"}
        assert all(set(v) >= METRIC and v["low"] <= v["value"] <= v["high"] for v in m["metrics"].values())
        assert {"texts_per_s", "dims", "bytes_per_vector", "model_mb", "peak_mib"} <= set(m["cost"])
    for d in out["differences"]:
        assert {"a", "b", "metric", "value", "low", "high"} <= set(d)
    assert sorted(out["ranking"]) == ["glove-6B-50d", "tfidf-lsa"] and set(out["rankings"]) == {"classification",
                                                                                                 "clustering"}
    assert out["verdict"][0].startswith("Best overall: ")
    assert out["budgets"][0].startswith("Best under 300 bytes per vector: glove-6B-50d (200")
    assert any("tfidf-lsa is fitted on these very texts" in w for w in out["warnings"])
    assert out["resamples"] == 200 and out["seed"] == 0 and out["environment"]["cpu"]


def test_costs_are_measured_and_projected(card):
    glove = next(m for m in card["models"] if m["model"] == "glove-6B-50d")
    cost = glove["cost"]
    assert cost["dims"] == 50 and cost["bytes"] == {"float32": 200, "int8": 50, "binary": 7}
    assert cost["texts_per_s_low"] <= cost["texts_per_s"] <= cost["texts_per_s_high"] and cost["query_ms"] > 0
    assert cost["model_mb"] > 50  # the GloVe arrays on disk
    assert cost["projected"]["texts"] == 300
    assert cost["projected"]["seconds"] == pytest.approx(300 / cost["texts_per_s"])
    assert cost["projected"]["storage_mb"]["float32"] == pytest.approx(300 * 200 / 2**20)
    kept = cost["quantization_recall"]
    assert set(kept) == {"int8", "binary"} and kept["int8"]["recall_rescored"] >= kept["binary"]["recall"]
    tfidf = next(m for m in card["models"] if m["model"] == "tfidf-lsa")
    assert tfidf["cost"]["model_mb"] is None  # fitted in memory
    assert bytes_per_vector(384) == {"float32": 1536, "int8": 384, "binary": 48}
    assert size_on_disk(None) is None


def test_budget_verdicts_name_the_best_within_or_the_closest(card):
    assert card["budgets"][0].startswith("No candidate fits under 1e-06 ms per text: the closest is")
    assert card["budgets"][1].startswith("Best under 300 bytes per vector: glove-6B-50d")


def test_rerun_comes_from_the_cache_and_cancel_stops(tmp_path):
    corpus = load_demo("topics").sample(120)
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    said: list[str] = []

    def progress(done: int, total: int, what: str) -> None:
        said.append(what)

    first = candidate_embedders(["glove-6B-50d", "tfidf-lsa"], cache=cache, fit_texts=corpus.texts)
    report = choose(corpus, first, n_boot=100, progress=progress)
    assert any(w.startswith("embedding") for w in said) and said[-1] == "scoring with paired bootstrap"
    said.clear()
    again = choose(corpus, candidate_embedders(["glove-6B-50d", "tfidf-lsa"], cache=cache, fit_texts=corpus.texts),
                   n_boot=100, progress=progress)
    for before, after in zip(report.to_dict()["models"], again.to_dict()["models"], strict=True):
        assert after["metrics"] == before["metrics"]
        if not after["baseline"]:  # every vector came from the cache
            assert before["cost"]["embedded"]["encoded"] == after["cost"]["embedded"]["from_cache"] > 100
            assert after["cost"]["embedded"]["encoded"] == 0
    with pytest.raises(Cancelled, match="cancelled .* cached: running it again starts from there"):
        choose(corpus, first, n_boot=100, should_stop=lambda: True)


def test_hostile_choices_get_a_message(tmp_path, capsys, hostile):
    corpus = load_demo("topics").sample(60)
    with pytest.raises(VecexploreError, match="at least 2 different candidate models") as err:
        candidate_embedders(["glove-6B-50d", "glove-6B-50d"])
    hostile("choosing a model: candidates", "one model (glove-6B-50d twice)", str(err.value))
    with pytest.raises(VecexploreError, match="at most 8"):
        candidate_embedders([f"m{i}" for i in range(9)])
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    embedders = [Embedder("glove-6B-50d"), Embedder(str(broken))]
    with pytest.raises(VecexploreError, match="could not be run: .* The models before it are cached") as err:
        choose(corpus, embedders, n_boot=100)
    hostile("choosing a model: workflow", "a model folder that fails to load (second of two)", str(err.value))
    flat = Corpus(["one sentence only", "another single one", "and a third"])
    with pytest.raises(VecexploreError, match="Nothing to rank the models on") as err:
        choose(flat, [Embedder("glove-6B-50d"), Embedder("tfidf-lsa", fit_texts=flat.texts)], n_boot=100)
    hostile("choosing a model: workflow", "three single-sentence texts, no labels", str(err.value))
    docs = tmp_path / "docs.csv"
    docs.write_text("doc_id,text\n" + "".join(f"d{i},The text number {i} is about goal {i}. It ends here.\n"
                                              for i in range(10)))
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "goal"}\n')
    (tmp_path / "r.tsv").write_text("q1\tmissing-id\t1\n")
    code, out = run(capsys, "choose", str(docs), "--models", "glove-6B-50d,tfidf-lsa", "--queries",
                    str(tmp_path / "q.jsonl"), "--qrels", str(tmp_path / "r.tsv"))
    assert code == 2 and "qrels" in out["error"], out
    hostile("CLI: choose", "--qrels naming a document id the corpus lacks", out["error"])
    code, out = run(capsys, "choose", str(docs), "--models", "glove-6B-50d,tfidf-lsa", "--title-col", "headline")
    assert code == 2 and "no column 'headline'" in out["error"]
    hostile("CLI: choose", "--title-col naming a missing column", out["error"])
    code, out = run(capsys, "choose", str(docs), "--models", "glove-6B-50d,tfidf-lsa", "--resamples", "5")
    assert code == 2 and "--resamples: must be between 100 and 100000" in out["error"]
    hostile("CLI: choose", "--resamples 5", out["error"])


def test_queries_and_qrels_by_id_column(capsys, tmp_path):
    docs = tmp_path / "docs.jsonl"
    texts = ["The goalkeeper saved a penalty in the last minute.", "Knead the dough and let it rise overnight.",
             "The central bank raised interest rates again.", "The probe sent pictures of Saturn's rings.",
             "The striker scored twice before half time.", "Bake the bread until the crust is golden."]
    docs.write_text("".join(json.dumps({"text": t, "_id": f"doc {i}"}) + "\n" for i, t in enumerate(texts)))
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "penalty saved by the goalkeeper"}\n'
                                      '{"_id": "q2", "text": "bread dough rising"}\n')
    (tmp_path / "r.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tdoc 0\t1\nq2\tdoc 1\t1\nq2\tdoc 5\t1\n")
    code, out = run(capsys, "choose", str(docs), "--models", "glove-6B-50d,tfidf-lsa", "--queries",
                    str(tmp_path / "q.jsonl"), "--qrels", str(tmp_path / "r.tsv"), "--resamples", "100")
    assert code == 0, out
    assert out["tasks"][0]["source"] == "qrels" and out["tasks"][0]["n"] == 2
    assert {"recall@10", "mrr@10", "ndcg@10"} == set(out["models"][0]["metrics"])
    assert out["models"][-1]["baseline"]  # BM25


def test_candidate_specs_make_a_backend_a_candidate():
    assert candidate("all-MiniLM-L6-v2@onnx-int8") == ("all-MiniLM-L6-v2", "onnx-int8")
    assert candidate("my@folder") == ("my@folder", None)
    made = candidate_embedders(["all-MiniLM-L6-v2", "all-MiniLM-L6-v2@onnx-int8"], backend="torch")
    assert [(e.name, e.model_id, e.backend) for e in made] == [
        ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2", "torch"), ("all-MiniLM-L6-v2@onnx-int8", "all-MiniLM-L6-v2",
                                                            "onnx-int8")]


def test_card_as_markdown_html_and_figures(card):
    md = to_markdown(card)
    assert md.startswith("# Which model for these texts?") and "## Ranking: classification" in md
    assert "| rank | model | probe accuracy (primary) | k-NN accuracy |" in md and "## Costs, measured" in md
    assert card["environment"]["cpu"] in md
    page = to_html(card, [forest(card, "classification"), quality_vs_speed(card, "classification")])
    assert page.startswith("<!doctype html>") and page.count("<table>") >= 4 and "plotly" in page
    hostile_card = {**card, "verdict": ["<script>alert(1)</script>"]}
    assert "<script>alert(1)</script>" not in to_html(hostile_card) and "&lt;script&gt;" in to_html(hostile_card)
    fig = forest(card, "classification")
    assert [a.text for a in fig.layout.annotations] == ["probe accuracy", "k-NN accuracy"]
    scatter = quality_vs_speed(card, "classification").data[-1]
    assert sorted(scatter.text) == ["glove-6B-50d", "tfidf-lsa"]


def test_pareto_front_keeps_the_undominated():
    speed, quality = np.array([10.0, 100.0, 50.0, 5.0]), np.array([0.9, 0.5, 0.4, 0.95])
    assert pareto_front(speed, quality).tolist() == [1, 0, 3]


def test_budgets_skip_what_was_not_set(card):
    from vecexplore.choosing.report import ChoiceReport

    report = ChoiceReport(**{k: v for k, v in card.items()})
    assert budget_verdicts(report) == []
