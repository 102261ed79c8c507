"""The report card's one workflow (the page, ``vecexplore choose`` and the benchmark call it): candidates →
tasks from what the user has → each model's costs measured and its vectors embedded (from the cache on a re-run)
→ scores with paired-bootstrap intervals, the ranking, the verdicts per budget and the warnings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from vecexplore.choosing.costs import measure_cost, quantization_recall
from vecexplore.choosing.memo import COSTS, digest
from vecexplore.choosing.metrics import encoder_fit
from vecexplore.choosing.report import BM25_ID, ChoiceReport, choose_report
from vecexplore.choosing.tasks import plan_tasks
from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import BACKENDS, TFIDF_ID, finetuned
from vecexplore.errors import Cancelled, VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.machine import describe
from vecexplore.models.compare import embed_models
from vecexplore.validation import check

MIN_MODELS, MAX_MODELS = 2, 8
FIT_SAMPLE = 2000  # texts the fit (truncation, word pieces) is measured on
QUANT_SAMPLE = 2000  # corpus vectors the quantisation recall is measured on

# progress(done, total, what): ``done`` of ``total`` steps (two per model: measure, embed) finished
ChooseProgress = Callable[[int, int, str], None]


def candidate(spec: str) -> tuple[str, str | None]:
    """``"model"`` or ``"model@backend"`` (a backend as a candidate of its own, e.g. MiniLM on ONNX int8)."""
    spec = spec.strip()
    model, sep, backend = spec.rpartition("@")
    if sep and backend in BACKENDS and model:
        return model, backend
    return spec, None


def candidate_embedders(specs: Sequence[str], backend: str = "auto", cache=None,
                        fit_texts: Sequence[str] | None = None,
                        loader: Callable[[str, str], Callable] | None = None) -> list[Embedder]:
    """One Embedder per candidate spec (see :func:`candidate`), on ``backend`` unless the spec names one; ``loader``
    (model id, backend → a function building the encoder) lets the app hand in its process-wide copies."""
    specs = [s.strip() for s in specs if s and s.strip()]
    if len(dict.fromkeys(specs)) < MIN_MODELS:
        raise VecexploreError(f"Choose at least {MIN_MODELS} different candidate models (got "
                              f"{len(dict.fromkeys(specs))}): a report card ranks models against each other.")
    if len(dict.fromkeys(specs)) > MAX_MODELS:
        raise VecexploreError(f"Choose at most {MAX_MODELS} candidate models at once (got {len(set(specs))}).")
    out = []
    for spec in dict.fromkeys(specs):
        model, own = candidate(spec)
        chosen = own or backend
        out.append(Embedder(model, chosen, cache, fit_texts,
                            loader=loader(model, chosen) if loader is not None else None,
                            name=spec if own else model))
    return out


def corpus_column(corpus: Corpus, column: str, what: str) -> list[str]:
    """The values of one of the corpus table's other columns (titles, document ids), one per text."""
    if not corpus.columns or column not in corpus.columns[0]:
        have = ", ".join(repr(c) for c in (corpus.columns[0] if corpus.columns else {})) or "none"
        raise VecexploreError(f"The corpus has no column {column!r} for the {what} (its other columns: {have}).")
    return [str(row[column]) for row in corpus.columns]


def default_id_column(corpus: Corpus) -> str | None:
    """The column the qrels name corpus rows by when none is given: ``_id`` if the corpus has it, else ``doc_id``."""
    have = corpus.columns[0] if corpus.columns else {}
    return next((c for c in ("_id", "doc_id") if c in have), None)


def seen_data_warnings(embedders: Sequence[Embedder], corpus: Corpus) -> list[str]:
    """Candidates that may have seen the evaluation texts: tfidf-lsa is fitted on them; a fine-tuned model was
    trained on the data its manifest names (its data hash)."""
    warnings = []
    for e in embedders:
        if e.model_id == TFIDF_ID:
            warnings.append(f"{e.name} is fitted on these very texts (its vocabulary and components come from the "
                            "corpus), so it has seen the evaluation data: its scores are optimistic.")
        elif finetuned.is_finetuned(e.model_id):
            made = finetuned.manifest(e.model_id)
            warnings.append(f"{e.name} was fine-tuned on {made.get('data_source', 'pairs')} (data hash "
                            f"{made.get('data_hash', '?')}): if those pairs come from this corpus, it has seen the "
                            "evaluation texts and its scores are optimistic. Evaluate it on texts it was not "
                            "trained on.")
    return warnings


def budget_verdicts(report: ChoiceReport, max_ms_per_text: float | None = None,
                    max_bytes_per_vector: float | None = None) -> list[str]:
    """The best model (first in the ranking) among those within each budget the user set."""
    cost = {m["model"]: m["cost"] or {} for m in report.models if not m["baseline"]}
    sentences = []
    for limit, key, unit in ((max_ms_per_text, "ms_per_text", "ms per text"),
                             (max_bytes_per_vector, "bytes_per_vector", "bytes per vector")):
        if limit is None:
            continue
        within = [m for m in report.ranking if cost[m].get(key) is not None and cost[m][key] <= limit]
        if within:
            sentences.append(f"Best under {limit:g} {unit}: {within[0]} ({cost[within[0]][key]:.3g} {unit}).")
        else:
            cheapest = min(report.ranking, key=lambda m: cost[m].get(key, float("inf")))
            sentences.append(f"No candidate fits under {limit:g} {unit}: the closest is {cheapest} "
                             f"({cost[cheapest].get(key, float('nan')):.3g} {unit}).")
    return sentences


def choose(corpus: Corpus, embedders: Sequence[Embedder], *, titles: Sequence[str] | None = None,
           queries: Mapping[str, str] | None = None, qrels: Mapping[str, Mapping[str, float]] | None = None,
           doc_ids: Sequence[str] | None = None, pairs: Sequence[tuple[str, str, float]] | None = None,
           n_boot: int = 1000, seed: int = 0, max_ms_per_text: float | None = None,
           max_bytes_per_vector: float | None = None, progress: ChooseProgress | None = None,
           should_stop: Callable[[], bool] | None = None) -> ChoiceReport:
    """Rank ``embedders`` on ``corpus`` (its labels give classification and clustering) and what else the user
    has (titles, queries + qrels, scored pairs), measuring each model's costs in the same run."""
    check("resamples", n_boot)
    check("seed", seed)
    if not MIN_MODELS <= len({e.name for e in embedders}) <= MAX_MODELS:
        raise VecexploreError(f"Choose {MIN_MODELS} to {MAX_MODELS} different candidate models "
                              f"(got {len({e.name for e in embedders})}).")
    plan = plan_tasks(corpus.texts, corpus.labels, queries=queries, qrels=qrels, doc_ids=doc_ids, titles=titles,
                      pairs=pairs, seed=seed)
    needed = Corpus(list(dict.fromkeys([*corpus.texts, *plan.texts])), name=corpus.name)
    steps, done = 2 * len(embedders), 0
    costs: dict[str, dict] = {}
    fit: dict[str, dict] = {}

    def tick(what: str) -> None:
        nonlocal done
        if should_stop is not None and should_stop():
            raise Cancelled(f"The report card was cancelled ({what}). The vectors embedded so far are cached: "
                            "running it again starts from there.")
        if progress is not None:
            progress(done, steps, what)

    def measure_and_embed(embedder: Embedder, texts: Corpus) -> tuple[EmbeddingSet, object]:
        nonlocal done
        tick(f"loading and timing {embedder.name}")
        try:
            key = (embedder.name, embedder.model_id, finetuned.stamp(embedder.model_id), embedder.backend,
                   corpus.fingerprint)
            cost, reused = COSTS.get(key, lambda: measure_cost(embedder, corpus.texts, len(corpus)))
            encoder = embedder.encoder()  # loaded (and its memory counted) by measure_cost
            cost = {**cost, "reused": reused}  # True: measured by an earlier card in this process
            done += 1

            def embedding(n: int, total: int) -> None:
                tick(f"embedding {total:,} texts with {embedder.name}: {n:,} / {total:,}")

            eset, stats = embedder.embed(texts, progress=embedding)
        except (Cancelled, MemoryError):
            raise
        except VecexploreError as exc:
            raise VecexploreError(f"{embedder.name} could not be run: {exc} The models before it are cached: "
                                  "remove it (or fix it) and run the card again.") from exc
        except Exception as exc:  # a model folder that loads but breaks midway: say which, keep the others
            raise VecexploreError(f"{embedder.name} failed while embedding ({type(exc).__name__}: {exc}). The "
                                  "models before it are cached: remove it and run the card again.") from exc
        done += 1
        rows = {t: i for i, t in enumerate(eset.texts)}
        sample = [rows[t] for t in corpus.texts[:QUANT_SAMPLE]]
        cost["quantization_recall"] = COSTS.get((eset.fingerprint, digest(sample), seed), lambda: quantization_recall(
            eset.vectors[sample], seed))[0]
        cost["embedded"] = {"texts": stats.n, "from_cache": stats.cache_hits, "encoded": stats.encoded,
                            "seconds": stats.seconds}
        costs[embedder.name] = cost
        fit[embedder.name] = COSTS.get(("fit", *key), lambda: encoder_fit(encoder, corpus.texts[:FIT_SAMPLE]))[0]
        return eset, stats

    sets = embed_models(needed, embedders, throughput_sample=0, embed=measure_and_embed, drop_blind=False)[0]
    if progress is not None:
        progress(steps, steps, "scoring with paired bootstrap")
    report = choose_report(sets, corpus.texts, labels=corpus.labels, queries=queries, qrels=qrels, doc_ids=doc_ids,
                           titles=titles, pairs=pairs, n_boot=n_boot, seed=seed, costs=costs, fit=fit)
    report.budgets = budget_verdicts(report, max_ms_per_text, max_bytes_per_vector)
    report.warnings = seen_data_warnings(embedders, corpus)
    report.environment = {**describe(), "backends": {e.name: costs[e.name]["backend"] for e in embedders},
                          "corpus_texts": len(corpus)}
    return report


__all__ = ["BM25_ID", "candidate", "candidate_embedders", "choose"]
