"""Which model for my texts? A report card ranking candidate models on the user's own corpus, with costs and
confidence: every score with a 95% paired-bootstrap interval, every difference between two models with an interval
adjusted for the number of pairs, a ranking ("best overall": not beaten by a detectable difference on any task, ties
to the cheaper), verdict sentences, and the texts the top two models disagree on most.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from vecexplore.choosing import metrics as M
from vecexplore.choosing.confidence import PairedBootstrap
from vecexplore.choosing.memo import SCORES, digest
from vecexplore.choosing.names import METRIC_NAMES, PRIMARY
from vecexplore.choosing.tasks import LabelTask, RetrievalTask, SimilarityTask, Task, plan_tasks
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.validation import check

BM25_ID = "BM25 (lexical baseline)"
BM25_ABOUT = ("Okapi BM25, Lucene's variant (k1 = 1.5, b = 0.75), on lower-cased word tokens without stemming or stop "
              "words: what plain word matching finds, with no model to run.")
K = 10


@dataclass
class ChoiceReport:
    tasks: list[dict]
    models: list[dict]
    differences: list[dict]
    ranking: list[str]
    rankings: dict[str, list[str]]
    verdict: list[str]
    disagreements: list[dict]
    n: dict[str, int]
    resamples: int
    seed: int
    method: str
    notes: list[str] = field(default_factory=list)
    budgets: list[str] = field(default_factory=list)  # the best model within each budget the user set
    warnings: list[str] = field(default_factory=list)  # candidates that may have seen the evaluation texts
    environment: dict = field(default_factory=dict)  # CPU, cores, versions, backends: where the costs come from

    def to_dict(self) -> dict:
        return asdict(self)

    def to_markdown(self) -> str:
        from vecexplore.choosing.card import to_markdown

        return to_markdown(self.to_dict())

    def _repr_markdown_(self) -> str:  # a notebook shows the card
        return self.to_markdown()


class _Vectors:
    """One model's vector for any text it embedded (sets may hold the queries and pieces the tasks need)."""

    def __init__(self, name: str, eset: EmbeddingSet) -> None:
        self.name, self.eset = name, eset
        self.row = {text: i for i, text in enumerate(eset.texts)}

    def check(self, texts: Sequence[str]) -> None:
        missing = [t for t in texts if t not in self.row]
        if missing:
            raise VecexploreError(f"{self.name} has no vector for {len(missing)} of the {len(texts)} texts the tasks "
                                  f"need (e.g. {missing[0][:80]!r}): embed plan_tasks(...).texts with every model "
                                  "and pass those sets.")

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.eset.vectors[[self.row[t] for t in texts]]


def task_key(task: Task) -> str:
    """What a task's scores depend on besides the vectors: its kind, texts and judgements."""
    return digest(task.kind, task.texts, getattr(task, "labels", None), getattr(task, "relevant", None),
                  getattr(task, "scores", None), getattr(task, "query_texts", None))


def task_scores(task: Task, vectors: _Vectors, seed: int = 0) -> dict[str, object]:
    """Every score of one model on one task, each bootstrappable (see :mod:`vecexplore.choosing.metrics`); kept
    per process for the same task, vectors and seed (a re-run of the card)."""
    return SCORES.get((task_key(task), vectors.eset.fingerprint, seed), lambda: _task_scores(task, vectors, seed))[0]


def _task_scores(task: Task, vectors: _Vectors, seed: int) -> dict[str, object]:
    if isinstance(task, RetrievalTask):
        top = M.cosine_top(vectors(task.query_texts), vectors(task.doc_texts), K)
        return {m: M.MeanScore(v) for m, v in M.ranking_metrics(top, task.relevant, K).items()}
    if isinstance(task, LabelTask) and task.kind == "classification":
        X = vectors(task.texts)
        return {"probe_accuracy": M.MeanScore(M.probe_correct(X, task.labels, seed=seed)),
                "knn_accuracy": M.MeanScore(M.knn_correct(X, task.labels, k=K, seed=seed))}
    if isinstance(task, LabelTask):
        return {"v_measure": M.kmeans_v_measure(vectors(task.texts), task.labels, seed=seed)}
    if isinstance(task, SimilarityTask):
        return {"spearman": M.Spearman(M.pair_cosines(vectors(task.left), vectors(task.right)), task.scores)}
    raise VecexploreError(f"Unknown task {task!r}.")


def bm25_scores(task: RetrievalTask) -> dict[str, object]:
    def compute() -> dict[str, object]:
        top = M.BM25().fit(task.doc_texts).top(task.query_texts, K)
        return {m: M.MeanScore(v) for m, v in M.ranking_metrics(top, task.relevant, K).items()}

    return SCORES.get((task_key(task), "bm25"), compute)[0]


def _cost_key(model: str, costs: Mapping[str, Mapping], sets: Mapping[str, EmbeddingSet]) -> tuple[float, float]:
    """Cheaper first: more texts per second, then fewer bytes per vector (float32 vectors when not given)."""
    cost = costs.get(model) or {}
    speed = cost.get("texts_per_s", cost.get("sent_per_s"))
    size = cost.get("bytes_per_vector", 4 * sets[model].dims)
    return -(float(speed) if speed is not None else 0.0), float(size)


def _signed(x: float) -> str:
    return f"{x:+.2f}".replace("-", "−")


def _sentence(row: dict, task: str, cheaper: str | None) -> str:
    """A difference in words, the better model first; when it is not detectable, which one is cheaper (None:
    no cost tells them apart)."""
    a, b, value, low, high = row["a"], row["b"], row["value"], row["low"], row["high"]
    if value < 0:
        a, b, value, low, high = b, a, -value, -high, -low
    what = METRIC_NAMES[row["metric"]]
    if row["detectable"]:
        return f"{a} beats {b} on {task} by {_signed(value)} {what} [{_signed(low)}, {_signed(high)}]."
    enough = f"the cheaper one ({cheaper}) is enough" if cheaper else "the cheaper one is enough"
    return (f"{a} vs {b} on {task}: no detectable difference ({_signed(value)} {what} [{_signed(low)}, "
            f"{_signed(high)}]) — {enough}.")


def _disagreements(task: Task, scores: dict, a: str, b: str, n: int = 5) -> list[dict]:
    metric = PRIMARY[task.kind]
    per_a, per_b = scores[a][metric].per_item, scores[b][metric].per_item
    if per_a is None:
        return []
    gap = per_a - per_b
    order = [i for i in np.argsort(-np.abs(gap), kind="stable")[:n] if gap[i] != 0]
    if isinstance(task, RetrievalTask):
        items = task.query_texts
    elif isinstance(task, SimilarityTask):
        items = [f"{x} ⟷ {y}" for x, y in zip(task.left, task.right, strict=True)]
    else:
        items = task.texts
    return [{"task": task.kind, "metric": metric, "item": items[i], "a": a, "b": b, "a_score": float(per_a[i]),
             "b_score": float(per_b[i])} for i in order]


def choose_report(sets: Mapping[str, EmbeddingSet], texts: Sequence[str] | None = None, *,
                  labels: Sequence[str] | None = None, queries: Mapping[str, str] | None = None,
                  qrels: Mapping[str, Mapping[str, float]] | None = None, doc_ids: Sequence[str] | None = None,
                  titles: Sequence[str] | None = None, pairs: Sequence[tuple[str, str, float]] | None = None,
                  n_boot: int = 1000, seed: int = 0, costs: Mapping[str, Mapping] | None = None,
                  fit: Mapping[str, Mapping] | None = None, max_queries: int = 1000) -> ChoiceReport:
    """Rank the models of ``sets`` (name → the set of every text the tasks need, embedded by that model) on the
    tasks :func:`~vecexplore.choosing.tasks.plan_tasks` builds from ``texts`` (default: the first set's texts, and
    its labels) and the other inputs. ``costs`` (name → e.g. ``{"texts_per_s", "bytes_per_vector"}``) is passed
    through and breaks ties; ``fit`` (name → e.g. :func:`~vecexplore.choosing.metrics.encoder_fit`'s answer) is added
    to what each set's ``info`` says of truncation and unknown words."""
    if not sets:
        raise VecexploreError("Give at least one embedded model to rank.")
    check("seed", seed)
    first = next(iter(sets.values()))
    if texts is None:
        texts, labels = first.texts, labels if labels is not None else first.labels
    plan = plan_tasks(texts, labels, queries=queries, qrels=qrels, doc_ids=doc_ids, titles=titles, pairs=pairs,
                      max_queries=max_queries, seed=seed)
    lookups = {name: _Vectors(name, eset) for name, eset in sets.items()}
    for lookup in lookups.values():
        lookup.check(plan.texts)
    costs = dict(costs or {})
    models = list(sets)

    values: dict[str, dict] = {m: {} for m in [*models, BM25_ID]}
    differences, beaten, by_task = [], {}, {}
    method = ""
    for task in plan.tasks:
        scores = {m: task_scores(task, lookups[m], seed) for m in models}
        if isinstance(task, RetrievalTask):
            scores[BM25_ID] = bm25_scores(task)
        boot = PairedBootstrap(n_boot, 0.95, seed).fit(task.n)
        method = boot.method
        for metric in scores[models[0]]:
            point, resampled = {}, {}
            for m, its in scores.items():
                interval, resampled[m] = boot.interval(its[metric])
                values[m][metric] = interval.to_dict()
                point[m] = interval.value
            for row in boot.differences(point, resampled):
                differences.append({"task": task.kind, "metric": metric, **row})
        by_task[task.kind] = scores
        primary = [d for d in differences if d["task"] == task.kind and d["metric"] == PRIMARY[task.kind]
                   and d["detectable"] and BM25_ID not in (d["a"], d["b"])]
        beaten[task.kind] = _beaten_by(primary, models)

    def mean_primary(m: str) -> float:
        return float(np.mean([values[m][PRIMARY[t]]["value"] for t in by_task]))

    rankings = {t: sorted(models, key=lambda m, t=t: (len(beaten[t][m]), _cost_key(m, costs, sets),
                                                      -values[m][PRIMARY[t]]["value"], m)) for t in by_task}
    ranking = sorted(models, key=lambda m: (sum(bool(beaten[t][m]) for t in by_task), _cost_key(m, costs, sets),
                                            -mean_primary(m), m))
    verdict = _verdict(ranking, rankings, beaten, differences, lambda m: _cost_key(m, costs, sets))
    disagreements = [] if len(ranking) < 2 else [
        row for task in plan.tasks for row in _disagreements(task, by_task[task.kind], ranking[0], ranking[1])]
    model_rows = [{"model": m, "metrics": values[m], "cost": costs.get(m),
                   "fit": {**M.fit_from_info(dict(sets[m].info), lookups[m](plan.texts)), **(fit or {}).get(m, {})},
                   "baseline": False}
                  for m in models]
    if values[BM25_ID]:
        model_rows.append({"model": BM25_ID, "metrics": values[BM25_ID], "cost": None, "fit": {}, "baseline": True,
                           "description": BM25_ABOUT})
    return ChoiceReport(
        tasks=[{"kind": t.kind, "source": getattr(t, "source", t.kind), "description": t.description, "n": t.n,
                "primary_metric": PRIMARY[t.kind], "notes": list(t.notes)} for t in plan.tasks],
        models=model_rows, differences=differences, ranking=ranking, rankings=rankings, verdict=verdict,
        disagreements=disagreements, n={t.kind: t.n for t in plan.tasks}, resamples=n_boot, seed=seed, method=method,
        notes=plan.notes)


def _beaten_by(rows: list[dict], models: list[str]) -> dict[str, set[str]]:
    """Per model, the models that beat it by a detectable difference in ``rows``."""
    out: dict[str, set[str]] = {m: set() for m in models}
    for d in rows:
        winner, loser = (d["a"], d["b"]) if d["low"] > 0 else (d["b"], d["a"])
        out[loser].add(winner)
    return out


def _verdict(ranking: list[str], rankings: dict[str, list[str]], beaten: dict[str, dict[str, set]],
             differences: list[dict], cost: Callable[[str], tuple]) -> list[str]:
    """Sentences: the best model overall, then per task the best against each other model and BM25."""
    best = ranking[0]
    lost = [t for t in rankings if beaten[t][best]]
    head = (f"Best overall: {best} — not beaten by a detectable difference on any task" if not lost else
            f"Best overall: {best} — beaten on {', '.join(lost)}, but no model is beaten on fewer tasks")
    sentences = [head + ("; ties go to the cheaper model." if len(ranking) > 1 else ".")]

    def cheaper(a: str, b: str) -> str | None:
        if BM25_ID in (a, b):
            return BM25_ID  # no model to run, a small index
        return None if cost(a) == cost(b) else min((a, b), key=cost)

    for task, order in rankings.items():
        for d in differences:
            if d["task"] == task and d["metric"] == PRIMARY[task] and order[0] in (d["a"], d["b"]):
                sentences.append(_sentence(d, task, cheaper(d["a"], d["b"])))
    return sentences
