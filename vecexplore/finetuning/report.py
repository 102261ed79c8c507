"""The fine-tuning workflow's before/after report: held-out retrieval (recall@1/@10, MRR) and STS Spearman with
bootstrap intervals on the change, the corpus in both models (maps aligned by Procrustes, per-text k-NN Jaccard,
the texts whose neighbours changed most), anisotropy before and after, and a plain verdict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vecexplore.embedder import Embedder
from vecexplore.errors import VecexploreError
from vecexplore.finetuning.tuner import (
    FineTuner,
    Pairs,
    Split,
    TrainProgress,
    bootstrap_change,
    held_out_ranks,
    new_name,
    retrieval_per_query,
)
from vecexplore.models.report import SideBySide, side_by_side
from vecexplore.numeric import cosine
from vecexplore.owners import CLI_OWNER
from vecexplore.transforms.isotropy import metrics as anisotropy

PRIMARY = "MRR"  # the held-out metric the verdict reads
ANISOTROPY = ("mean_cosine", "isoscore", "effective_rank", "top_pc_share")


@dataclass(frozen=True)
class FinetuneReport:
    """Base model vs fine-tuned model. ``metrics``: one row per held-out metric (before, after, change and its
    bootstrap interval; the retrieval rows have one item per distinct held-out anchor, ``n_held_out`` of them);
    ``texts``: the corpus compared; ``side``: the corpus in both (``left_map`` base, ``right_map`` fine-tuned aligned
    onto it, ``jaccard`` per text, ``disagreements`` = the texts whose neighbours changed most)."""

    base: str
    tuned: str
    tuned_version: str
    n_held_out: int
    n_candidates: int
    metrics: list[dict]
    outcome: str
    verdict: str
    texts: list[str]
    side: SideBySide
    anisotropy: list[dict]
    training: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"base": self.base, "model": self.tuned, "version": self.tuned_version,
                "n_held_out": self.n_held_out, "n_candidates": self.n_candidates, "metrics": self.metrics,
                "outcome": self.outcome, "verdict": self.verdict, "knn_k": self.side.k,
                "knn_jaccard_mean": self.side.mean_jaccard, "n_corpus": len(self.texts),
                "most_changed": self.side.disagreements, "anisotropy": self.anisotropy, "training": self.training,
                "notes": self.notes}


def verdict(rows: list[dict], n: int) -> tuple[str, str]:
    """The reading of the primary held-out metric, ``(outcome, sentence)``: ``better``, ``worse``, or ``noise``
    when the bootstrap interval of the change holds 0."""
    row = next(r for r in rows if r["metric"] == PRIMARY)
    span = f"{row['change']:+.3f}; 95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f}, {n} held-out anchors"
    if row["ci_low"] > 0:
        outcome = "better"
        text = f"Fine-tuning helped: held-out {PRIMARY} went from {row['before']:.3f} to {row['after']:.3f} ({span})."
    elif row["ci_high"] < 0:
        outcome = "worse"
        text = (f"Fine-tuning made held-out retrieval worse: {PRIMARY} went from {row['before']:.3f} to "
                f"{row['after']:.3f} ({span}). Lower the learning rate or the epochs.")
    elif row["before"] >= 1 - 1e-9:
        outcome = "noise"
        text = (f"Held-out {PRIMARY} was already 1 before fine-tuning ({span}): every held-out anchor found a "
                "positive first, so held-out retrieval has no room to show a gain; harder held-out pairs (or the STS "
                "row, when the file has scores) tell more.")
    else:
        outcome = "noise"
        text = (f"The change in held-out {PRIMARY} is within noise ({span}): this run did not measurably change "
                "retrieval. More pairs, another epoch or hard negatives may help, or the base model already handles "
                "this domain.")
    sts = next((r for r in rows if r["metric"] == "STS Spearman"), None)
    if sts is not None and sts["ci_high"] < 0:
        text += (f" STS Spearman fell ({sts['before']:.3f} → {sts['after']:.3f}): the model is losing general "
                 "similarity while it learns your pairs.")
    return outcome, text


def _row(metric: str, before: np.ndarray, after: np.ndarray, scores: np.ndarray | None, n_boot: int,
         seed: int) -> dict:
    change, low, high = bootstrap_change(before, after, scores, n_boot=n_boot, seed=seed)
    if scores is None:
        b, a = float(np.mean(before)), float(np.mean(after))
    else:
        from scipy.stats import spearmanr

        b, a = float(spearmanr(before, scores).statistic), float(spearmanr(after, scores).statistic)
    return {"metric": metric, "before": b, "after": a, "change": change, "ci_low": low, "ci_high": high,
            "n": len(before)}


def finetune_report(base: Embedder, tuned: Embedder, held: Pairs, corpus: Sequence[str] | None = None,
                    labels: Sequence[str] | None = None, *, k: int = 10, n_boot: int = 1000, seed: int = 0,
                    training: dict | None = None) -> FinetuneReport:
    """Evaluate ``base`` and ``tuned`` on the held-out pairs (each distinct anchor with a positive ranks every
    distinct held-out positive but its own text: recall@k = the share of its positives in the top k, MRR = 1 / the
    rank of its first) and on ``corpus`` (default: the held-out texts)."""
    positives = held.positive_pairs()
    candidates = list(dict.fromkeys(positives.positives))
    where = {text: i for i, text in enumerate(candidates)}
    relevant: dict[str, list[int]] = {}  # per held-out anchor, its distinct positives
    for anchor, positive in zip(positives.anchors, positives.positives, strict=True):
        if where[positive] not in relevant.setdefault(anchor, []):
            relevant[anchor].append(where[positive])
    if len(relevant) < 2:
        raise VecexploreError("The held-out pairs hold fewer than 2 anchors with a positive: nothing to retrieve.")
    anchors = list(relevant)
    own = [where[a] if a in where and where[a] not in relevant[a] else -1 for a in anchors]
    notes = []
    if len(candidates) <= 10:
        notes.append(f"Only {len(candidates)} distinct held-out positives: recall@10 is 1 by construction.")
    several = sum(len(found) > 1 for found in relevant.values())
    if several:
        notes.append(f"{several:,} of {len(anchors):,} held-out anchors have several positives (up to "
                     f"{max(map(len, relevant.values()))}): their recall@k is the share of their positives in the top "
                     "k (so recall@1 stays below 1), their MRR 1 / the rank of the first.")
    per_model = {}
    for side, embedder in (("before", base), ("after", tuned)):
        ranks = held_out_ranks(embedder.vectors(anchors), embedder.vectors(candidates), list(relevant.values()), own)
        per_model[side] = retrieval_per_query(ranks)
    rows = [_row(m, per_model["before"][m], per_model["after"][m], None, n_boot, seed) for m in per_model["before"]]
    if held.scores is not None:
        cos = {side: cosine(e.vectors(held.anchors), e.vectors(held.positives))
               for side, e in (("before", base), ("after", tuned))}
        rows.append(_row("STS Spearman", cos["before"], cos["after"], held.scores, n_boot, seed))
    texts = list(dict.fromkeys(corpus if corpus else [*held.anchors, *held.positives]))
    if len(texts) < 4:
        raise VecexploreError("The corpus needs at least 4 distinct texts to compare neighbours before and after.")
    before_set, after_set = base.embed(texts)[0], tuned.embed(texts)[0]
    side = side_by_side(before_set, after_set, k=min(k, len(texts) - 1), method="pca")
    iso_before, iso_after = anisotropy(before_set.vectors, seed=seed), anisotropy(after_set.vectors, seed=seed)
    iso = [{"metric": m, "before": iso_before[m], "after": iso_after[m]} for m in ANISOTROPY]
    return FinetuneReport(base.model_id, tuned.model_id, tuned.encoder().version, len(anchors), len(candidates), rows,
                          *verdict(rows, len(anchors)), texts, side, iso, training or {}, notes)


def finetune(tuner: FineTuner, split: Split, name: str, base: Embedder, *, corpus: Sequence[str] | None = None,
             source: str = "pairs", owner: str = CLI_OWNER, shared: bool = True, seed: int = 0,
             progress: TrainProgress | None = None, should_stop: Callable[[], bool] | None = None,
             ) -> tuple[FinetuneReport, dict]:
    """The one fine-tuning workflow (the lab's page, the CLI and the benchmark call it): train ``tuner`` on
    ``split.train``, save the model as ``finetuned/<name>`` (made by ``owner``, ``shared`` or private), and report
    it against ``base`` (the tuner's base model, on the caller's backend and cache) on ``split.held`` and
    ``corpus``. Returns the report and the saved model's manifest."""
    if base.model_id != tuner.base:
        raise VecexploreError(f"The tuner starts from {tuner.base}, not {base.model_id}.")
    name = new_name(name)  # checked before a long run, not after it
    tuner.fit(split.train, progress=progress, should_stop=should_stop)
    manifest = tuner.save(name, source=source, owner=owner, shared=shared)
    report = finetune_report(base, base.sibling(manifest["id"]), split.held, corpus, seed=seed,
                             training=tuner.summary())
    return report, manifest
