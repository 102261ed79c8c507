"""The report card on this CPU, written to the "Report card" section of ``docs/benchmarks.md``:

1. the card on the shipped demo corpus (300 labelled sentences: classification and clustering) and on an AG News
   test sample (title → description retrieval with a BM25 row, classification, clustering), with its ranking and
   intervals; the retrieval ranking set beside MTEB's published retrieval order of the same models
   (all-mpnet-base-v2 > all-MiniLM-L6-v2 > static models);
2. the speed goal: 2,000 AG News texts × MiniLM, m2v and GloVe, models already built, an empty embedding cache,
   1,000 resamples — the whole card, then the same card again (vectors, costs and scores kept), over interleaved
   repeats;
3. mpnet's texts per second against MiniLM's on the same texts, interleaved.

Usage: ``python bench/choose.py [--repeats 3]``. Needs ``../shared/data`` for AG News (the demo part runs
without it); mpnet where ``make mpnet`` installed it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from common import ag_news, interleaved, machine, replace_section, table  # noqa: E402

from vecexplore.cache import EmbeddingCache  # noqa: E402
from vecexplore.choosing.card import ranked_rows  # noqa: E402
from vecexplore.choosing.memo import COSTS, SCORES  # noqa: E402
from vecexplore.choosing.workflow import choose  # noqa: E402
from vecexplore.embedder import Embedder  # noqa: E402
from vecexplore.encoders import GLOVE_ID, M2V_ID, MINILM_ID, MODELS, MPNET_ID, load_encoder  # noqa: E402
from vecexplore.files.corpus import Corpus, load_demo  # noqa: E402

MTEB_ORDER = [MPNET_ID, MINILM_ID, M2V_ID, GLOVE_ID]  # MTEB retrieval: large transformer > small > static
SPEED_MODELS = [MINILM_ID, M2V_ID, GLOVE_ID]
HEADING = "## Report card: which model for my texts?"


def news_corpus(n: int, seed: int = 0) -> tuple[Corpus, list[str]] | None:
    """``n`` AG News test items (seeded): descriptions as texts, classes as labels, and their titles."""
    picked = ag_news(n, seed)
    if picked is None:
        return None
    return (Corpus([d for _, _, d in picked], [c for c, _, _ in picked], name=f"AG News test ({n})"),
            [t for _, t, _ in picked])


def candidates() -> list[str]:
    return [m for m in MTEB_ORDER if MODELS[m].available()]


def card_lines(title: str, card: dict, seconds: float) -> list[str]:
    lines = [f"### {title}", "", f"Candidates: {', '.join(m['model'] for m in card['models'] if not m['baseline'])}"
             f"; {card['resamples']:,} resamples, seed {card['seed']}; the card took {seconds:.0f} s (models "
             "loaded, vectors embedded, costs measured).", ""]
    lines += [f"- {s}" for s in card["verdict"]] + ["", "Each table's order: models that no other beats by a "
                                                    "detectable difference on the primary metric first, ties to the "
                                                    "cheaper (more texts/s); BM25 is a baseline row.", ""]
    for task in card["rankings"]:
        header, rows = ranked_rows(card, task)
        lines += [f"**{task}** ({card['n'][task]:,} items)", "", *table(header, rows), ""]
    speed = [[m["model"], m["cost"]["backend"], f"{m['cost']['texts_per_s']:,.0f}", f"{m['cost']['query_ms']:.2f}",
              f"{m['cost']['peak_mib']:,.0f}", f"{m['cost']['model_mb'] or 0:,.0f}", str(m["cost"]["dims"])]
             for m in card["models"] if not m["baseline"]]
    lines += [*table(["model", "backend", "texts/s", "one query ms", "peak MiB", "size MB", "dims"], speed), ""]
    return lines


def measured_card(corpus: Corpus, titles: list[str] | None, models: list[str], n_boot: int) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "c.sqlite")
        start = time.perf_counter()
        card = choose(corpus, [Embedder(m, cache=cache, fit_texts=corpus.texts) for m in models], titles=titles,
                      n_boot=n_boot).to_dict()
        return card, time.perf_counter() - start


def mteb_lines(card: dict) -> list[str]:
    order = card["rankings"].get("retrieval", [])
    mrr = {m["model"]: m["metrics"]["mrr@10"]["value"] for m in card["models"] if "mrr@10" in m["metrics"]}
    by_score = sorted((m for m in order), key=lambda m: -mrr[m])
    expected = [m for m in MTEB_ORDER if m in by_score]
    agree = by_score == expected
    return [f"Retrieval by MRR@10 on AG News titles: {' > '.join(by_score)}. MTEB's published retrieval order of "
            f"the same models: {' > '.join(expected)} — {'the same order' if agree else 'a different order'}. The "
            f"card's own ranking (ties to the cheaper when no difference is detectable): {' > '.join(order)}.", ""]


def speed_goal(corpus: Corpus, titles: list[str], repeats: int) -> dict:
    """The whole card with an empty cache, then again, ``repeats`` times; models built once beforehand."""
    encoders = {m: load_encoder(m, corpus.texts) for m in SPEED_MODELS}
    first, again = [], []
    for _ in range(repeats):
        COSTS.clear()
        SCORES.clear()
        with tempfile.TemporaryDirectory() as tmp:
            cache = EmbeddingCache(Path(tmp) / "c.sqlite")
            for runs in (first, again):
                start = time.perf_counter()
                choose(corpus, [Embedder.of(e, cache) for e in encoders.values()], titles=titles, n_boot=1000)
                runs.append(time.perf_counter() - start)
    return {"first": first, "again": again}


def mpnet_speed(texts: list[str], repeats: int) -> dict | None:
    if not MODELS[MPNET_ID].available():
        return None
    encoders = {m: load_encoder(m) for m in (MINILM_ID, MPNET_ID)}
    sample = texts[:200]
    for e in encoders.values():
        e.encode(sample[:8])
    times = interleaved({m: (lambda e=e: e.encode(sample)) for m, e in encoders.items()}, repeats)
    return {m: {"per_s": [len(sample) / t for t in ts], "backend": encoders[m].backend} for m, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    m = machine()
    lines = [HEADING, "", f"Machine: {m['cpu']}, {m['cores']} cores. `python bench/choose.py` "
             f"({time.strftime('%Y-%m-%d', time.gmtime())}).", ""]
    demo = load_demo("topics")
    card, seconds = measured_card(demo, None, candidates(), 1000)
    lines += card_lines("The shipped demo corpus (300 sentences, 5 topics)", card, seconds)
    news = news_corpus(2000)
    if news is None:
        lines += ["AG News: skipped (`../shared/data/ag_news_test.csv` not found).", ""]
    else:
        corpus, titles = news
        small = news_corpus(500)
        card, seconds = measured_card(small[0], small[1], candidates(), 1000)
        lines += card_lines("AG News test, 500 items: title → description retrieval, 4 classes", card, seconds)
        lines += mteb_lines(card)
        goal = speed_goal(corpus, titles, args.repeats)
        f, a = goal["first"], goal["again"]
        lines += ["### Speed goal", "",
                  f"2,000 AG News descriptions + their 2,000 titles, {', '.join(SPEED_MODELS)} (models built "
                  f"beforehand), empty embedding cache, 1,000 resamples; {args.repeats} repeats.", "",
                  *table(["run", "median s", "runs (s)", "goal"], [
                      ["whole card, empty cache", f"{statistics.median(f):.1f}", ", ".join(f"{t:.1f}" for t in f),
                       "≤ 60 s"],
                      ["same card again (cache, costs and scores kept in the process)",
                       f"{statistics.median(a):.2f}", ", ".join(f"{t:.2f}" for t in a), "≤ 5 s"]]), ""]
        speeds = mpnet_speed(corpus.texts, max(args.repeats, 5))
        if speeds is None:
            lines += [f"{MPNET_ID}: not installed (`make mpnet`), no speed comparison.", ""]
        else:
            rows = [[model, s["backend"], f"{statistics.median(s['per_s']):.1f}",
                     f"{min(s['per_s']):.1f}–{max(s['per_s']):.1f}"] for model, s in speeds.items()]
            ratio = statistics.median(speeds[MINILM_ID]["per_s"]) / statistics.median(speeds[MPNET_ID]["per_s"])
            lines += ["### all-mpnet-base-v2 against all-MiniLM-L6-v2", "",
                      f"200 AG News descriptions encoded (no cache), default backend, interleaved runs: MiniLM is "
                      f"**{ratio:.1f}×** faster.", "", *table(["model", "backend", "texts/s median", "range"], rows),
                      ""]
    print(replace_section(lines, "bench/choose.py", time.perf_counter() - started))


if __name__ == "__main__":
    main()
