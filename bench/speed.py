"""Speed and scale benchmarks (issue 8): encode backends, cold start, 100k texts end to end.

Imported by ``bench/run.py``; every function returns plain data that ``run.py`` writes to docs/benchmarks.md.
The cold-start and 100k measurements run in fresh processes (``bench/fresh.py``), as a new user's app process
would be. ``python bench/speed.py`` re-measures the 100k section alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, SHARED, hundred_k, interleaved, replace_section, sentences, write_table

FRESH = Path(__file__).resolve().parent / "fresh.py"  # the stages a fresh process runs


def fresh(*args: str, env: dict[str, str]) -> dict:
    """Run ``bench/fresh.py args`` in a new Python process and return the JSON it prints last."""
    done = subprocess.run([sys.executable, str(FRESH), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _folder(model_id: str) -> Path:
    from vecexplore.encoders import MINILM_ID, minilm_folder, mpnet_folder

    return minilm_folder() if model_id == MINILM_ID else mpnet_folder()


def bench_backends(texts: list[str], source: str, repeats: int, model_id: str | None = None) -> dict:
    """sentence-transformers' default torch path against vecexplore's backends: same model, same texts."""
    from sentence_transformers import SentenceTransformer

    from vecexplore.cache import embed
    from vecexplore.encoders import MINILM_ID, load_encoder

    model_id = model_id or MINILM_ID
    raw = SentenceTransformer(str(_folder(model_id)), device="cpu")
    encoders = {name: load_encoder(model_id, backend=name) for name in ("auto", "onnx-int8", "torch")}
    raw.encode(texts[:64])
    for enc in encoders.values():
        enc.encode(texts[:64])
    runs = {"sentence-transformers encode (torch, defaults)": lambda: raw.encode(texts)}
    runs.update({f"vecexplore embed, backend {name} ({enc.backend})": (lambda enc=enc: embed(texts, enc))
                 for name, enc in encoders.items()})
    times = interleaved(runs, repeats)
    med = {k: statistics.median(v) for k, v in times.items()}
    raw_s = med["sentence-transformers encode (torch, defaults)"]
    ref = raw.encode(texts)
    out = {"model": model_id, "n": len(texts), "source": source, "repeats": repeats, "times": times,
           "raw_per_s": len(texts) / raw_s, "backends": {}}
    for name, enc in encoders.items():
        key = f"vecexplore embed, backend {name} ({enc.backend})"
        cos = _cos(embed(texts, enc)[0].vectors, ref)
        out["backends"][name] = {"backend": enc.backend, "per_s": len(texts) / med[key], "ratio": raw_s / med[key],
                                 "min_cos": float(cos.min()), "mean_cos": float(cos.mean()),
                                 "export_fidelity": getattr(enc, "fidelity_", None)}
    return out


def bench_int8_quality(model_id: str | None = None) -> dict | None:
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
        enc = load_encoder(model_id or MINILM_ID, backend=name)
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


def bench_cold_start(X: np.ndarray) -> dict:
    """A fresh process maps ``X`` (10k MiniLM vectors): PCA first, then UMAP; timed from the process start."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, X)
        numba = Path(tmp) / "numba"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(numba), "VECEXPLORE_HOME": str(Path(tmp) / "home")}

        def run(mode: str) -> dict:
            return fresh("cold", str(path), mode, str(Path(tmp) / "proj"), env=env)

        out["new install, no warm-up (empty numba cache)"] = run("fresh")
        start = time.perf_counter()
        fresh("warm-umap", env=env)
        out["_warmup_cli_s"] = time.perf_counter() - start
        out["after install warm-up (numba disk cache filled)"] = run("plain")
        out["app start: warm-up thread done before the first map"] = run("warm-thread")
        out["restart, same corpus and settings (projection cache)"] = run("cache-hit")
    return out


def bench_scale(n: int = 100_000, home: Path | None = None) -> dict:
    """100k texts end to end in a fresh process, twice: cold (empty caches) and warm (caches filled). With
    ``home``, the state (the embedding cache among it) is kept there for later benchmarks."""
    texts, labels, source = hundred_k(n)
    out = {"source": source}
    with tempfile.TemporaryDirectory() as tmp:
        if home is not None:
            tmp = str(home)
        path = write_table(Path(tmp) / "big.csv", texts, labels)
        env = {**os.environ, "VECEXPLORE_HOME": str(Path(tmp) / "home")}
        (Path(tmp) / "home").mkdir(parents=True, exist_ok=True)
        for run in ("cold", "warm"):
            out[run] = fresh("scale", str(path), run, env=env)
    return out


def backend_lines(enc: dict, q: dict | None) -> list[str]:
    b = enc["backends"]
    lines = [
        f"## Encoding: backends ({enc.get('model', 'all-MiniLM-L6-v2')})",
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
    goals = {"auto": "≥ 2× and cosine ≥ 0.999", "onnx-int8": "≥ 2×, STS-B within 0.5 points",
             "torch": "≥ 0.95× (no overhead)"}
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


def transformer_backends(n: int, repeats: int, quick: bool = False) -> list[tuple[dict, dict | None]]:
    """The backends table of each installed transformer model (MiniLM on ``n`` texts, mpnet on half as many:
    it is about 5× slower per text), with int8's cost on STS-B dev unless ``quick``."""
    from vecexplore.encoders import MINILM_ID, MPNET_ID, mpnet_installed

    texts, source = sentences(n)
    out = []
    for model_id, count in ((MINILM_ID, n), (MPNET_ID, n // 2)):
        if model_id == MPNET_ID and not mpnet_installed():
            continue
        out.append((bench_backends(texts[:count], source, repeats, model_id),
                    None if quick else bench_int8_quality(model_id)))
    return out


def main() -> None:
    """Re-measure one section alone (the 100,000-text end-to-end run, or with ``--backends`` the encoding
    backends of each transformer model) and replace it in docs/benchmarks.md, saying so."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--backends", action="store_true", help="re-measure the encoding backends tables")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.backends:
        for enc, int8 in transformer_backends(2000, 3):
            print(replace_section(backend_lines(enc, int8), "bench/speed.py --backends", time.perf_counter() - start))
        return
    lines = scale_lines(bench_scale(100_000))
    print(replace_section(lines, "bench/speed.py", time.perf_counter() - start))


if __name__ == "__main__":
    main()
