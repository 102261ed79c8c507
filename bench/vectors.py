"""Your own vectors at scale (issue 28), written to the "Your own vectors" section of ``docs/benchmarks.md``:

1. a Parquet file of 1,000,000 × 384 float32 unit vectors (synthetic, seeded: 40 clusters of different sizes and
   spreads, a text and a label column beside them) → opened (``files/vectors.open_vectors``, what the CLI and
   ``vecexplore.load`` call) → the imported set → the PCA map (through the map cache, as the Projection page's
   first map) → the drawn density map coloured by the file's labels (``maps/drawing.density_map``, what the page
   draws past 100,000 points) with its figure JSON: no embedding, in a fresh process whose peak memory is its own;
   then, outside the goal, the clusters named on it;
2. the map of the first 100,000 rows as one HTML file (``maps/html.map_page``, what ``project --html`` writes).

Usage: ``python bench/vectors.py [--n 1000000] [--dims 384]``. The file is written to a temporary folder (never the
repository) and deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from common import ROOT, Stages, machine, peak_gib, replace_section, table  # noqa: E402

HEADING = "## Your own vectors: 1,000,000 × 384 from Parquet to a drawn map"
GOALS = {"seconds": 60.0, "peak_gib": 6.0, "html_mb": 25.0}
CLUSTERS = 40
CHUNK = 100_000  # rows generated and written at a time (one Parquet row group each)
HTML_POINTS = 100_000
WORDS = ("river", "bank", "loan", "rate", "goal", "match", "pitch", "recipe", "oven", "flour", "orbit", "rocket",
         "probe", "vote", "court", "judge", "virus", "vaccine", "chip", "phone", "cloud", "storm", "rain", "harvest",
         "wheat", "cattle", "film", "actor", "stage", "novel", "poem", "museum", "train", "ship", "port", "engine",
         "battery", "solar", "wind", "coal", "oil", "gas", "price", "market", "stock", "fund", "tax")
STAGES = {
    "open": "open: Parquet → corpus (vector column guessed, 65,536 rows decoded at a time; text and label read)",
    "set": "the imported set (content hash of the vectors as its version)",
    "map": "map: PCA 2-D of every vector (through the map cache, cold)",
    "draw": "draw: density of every point by label + 10,000-point layer + figure JSON",
    "clusters": "outside the goal: named clusters (cluster_report, the page's defaults) + a draw with their names",
    "html": f"outside the goal: the first {HTML_POINTS:,} rows as one HTML map (PCA, clusters named, plotly.js "
            "inlined)",
}
GOAL_STAGES = ("open", "set", "map", "draw")


def write_vectors(path: Path, n: int, dims: int, seed: int = 0) -> Path:
    """``n`` seeded unit vectors around :data:`CLUSTERS` centres of different sizes and spreads, with a text (three
    words of its cluster's and the row number) and a label (its cluster), as a Parquet file with a list<float>
    vector column ``embedding``, one row group per :data:`CHUNK` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, dims)).astype(np.float32)
    weights = rng.dirichlet(np.full(CLUSTERS, 2.0))
    spread = rng.uniform(0.4, 1.2, CLUSTERS).astype(np.float32)
    vocab = [rng.choice(len(WORDS), 4, replace=False) for _ in range(CLUSTERS)]
    schema = pa.schema([("text", pa.string()), ("label", pa.string()), ("embedding", pa.list_(pa.float32()))])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n, CHUNK):
            size = min(CHUNK, n - start)
            which = rng.choice(CLUSTERS, size, p=weights)
            X = centres[which] + spread[which, None] * rng.standard_normal((size, dims), dtype=np.float32)
            X /= np.linalg.norm(X, axis=1, keepdims=True)
            picks = rng.integers(0, 4, (size, 3))
            texts = [f"{WORDS[vocab[c][a]]} {WORDS[vocab[c][b]]} {WORDS[vocab[c][d]]} #{start + i}"
                     for i, (c, (a, b, d)) in enumerate(zip(which.tolist(), picks.tolist(), strict=True))]
            offsets = pa.array(np.arange(0, (size + 1) * dims, dims, dtype=np.int32))
            column = pa.ListArray.from_arrays(offsets, pa.array(X.ravel()))
            writer.write_table(pa.table([pa.array(texts), pa.array([f"topic {c}" for c in which]), column],
                                        schema=schema), row_group_size=CHUNK)
    return path


def child(path: Path) -> dict:
    """One fresh process: every stage from the file to the drawn map, timed, with the peak memory after each."""
    from vecexplore.files.vectors import open_vectors
    from vecexplore.maps.drawing import density_map, name_marks
    from vecexplore.maps.html import map_page
    from vecexplore.maps.projection import ProjectionCache, Projector
    from vecexplore.maps.report import cluster_report, map_report
    from vecexplore.pipeline import imported_set

    stage = stages = Stages()

    corpus = stage("open", lambda: open_vectors(path, label_col="label"))
    eset = stage("set", lambda: imported_set(corpus))
    coords = stage("map", lambda: ProjectionCache().fit(eset.vectors, Projector("pca"))[0].embedding_)

    def draw(names=None) -> dict:
        drawn = density_map(coords, None, eset.texts, eset.labels, names=names)
        return {"json_mib": len(drawn.figure.to_json()) / 2**20, "shown": len(drawn.shown),
                "pixels": [drawn.image.width, drawn.image.height], "density_s": drawn.density_s}

    first = stage("draw", draw)
    peak = peak_gib()

    def named() -> int:
        clusters = cluster_report(eset)
        draw(name_marks(coords, clusters.labels, clusters.labeler.names_))
        return clusters.labeler.n_clusters_

    n_clusters = stage("clusters", named)
    part = eset.subset(np.arange(min(HTML_POINTS, eset.n)))
    html_bytes = stage("html", lambda: len(map_page(map_report(part, Projector("pca")), cluster_report(part))
                                           .encode("utf-8")))
    return {"n": eset.n, "dims": eset.dims, "stages": stages, "peak_gib": peak, "first": first,
            "clusters": n_clusters, "html_points": part.n, "html_bytes": html_bytes,
            "normalised": eset.info["normalised"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of vectors")
    parser.add_argument("--dims", type=int, default=384, help="dimensions")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    started, load = time.perf_counter(), os.getloadavg()[0]
    m = machine(["numpy", "pyarrow", "scikit-learn", "datashader", "plotly"])
    with tempfile.TemporaryDirectory(prefix="vecexplore-vectors-") as tmp:
        begin = time.perf_counter()
        path = write_vectors(Path(tmp) / "vectors.parquet", args.n, args.dims)
        written_s, file_mib = time.perf_counter() - begin, path.stat().st_size / 2**20
        home = Path(tmp) / "home"  # empty caches: the map is computed, not read back
        home.mkdir()
        done = subprocess.run([sys.executable, __file__, "--child", str(path)], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "VECEXPLORE_HOME": str(home)})
        if done.returncode:
            raise SystemExit(done.stderr[-4000:])
        out = json.loads(done.stdout.strip().splitlines()[-1])
    end_load = os.getloadavg()[0]
    stages = out["stages"]
    total = sum(stages[k]["s"] for k in GOAL_STAGES)
    html_mb = out["html_bytes"] / 1e6
    ok = lambda good: "✅" if good else "❌"  # noqa: E731
    first = out["first"]
    lines = [HEADING, "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM; load average (1 min) "
             f"{load:.1f} when it started, {end_load:.1f} when it ended (the machine is shared: other work ran on "
             f"the same cores, so these times are upper bounds). "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ". `python bench/vectors.py`.", "",
             f"{out['n']:,} × {out['dims']} float32 unit vectors (synthetic, seeded: {CLUSTERS} clusters of different "
             f"sizes and spreads) with a text and a label column, written as a {file_mib:,.0f} MiB Parquet file "
             f"(list<float> column, {CHUNK:,}-row groups; {written_s:.0f} s to make, not counted). A fresh process "
             "opens it and draws the map; no model, no embedding. Peak = the process's peak resident memory so far "
             "(`ru_maxrss`).", "",
             *table(["stage", "s", "peak GiB"],
                    [[STAGES[k], f"{v['s']:.2f}", f"{v['peak_gib']:.2f}"] for k, v in stages.items()]), "",
             *table(["goal", "measured", ""], [
                 [f"file → drawn map ≤ {GOALS['seconds']:.0f} s (open + set + map + draw)", f"{total:.1f} s",
                  ok(total <= GOALS["seconds"])],
                 [f"peak memory ≤ {GOALS['peak_gib']:.0f} GiB (up to the drawn map)", f"{out['peak_gib']:.2f} GiB",
                  ok(out["peak_gib"] <= GOALS["peak_gib"])],
                 [f"the HTML of a {out['html_points']:,}-point map ≤ {GOALS['html_mb']:.0f} MB", f"{html_mb:.1f} MB",
                  ok(html_mb <= GOALS["html_mb"])]]), "",
             f"The drawn map: a {first['pixels'][0]}×{first['pixels'][1]} px density image of all {out['n']:,} points "
             f"({first['density_s']:.2f} s of the draw, datashader's first compilation included), {first['shown']:,} "
             f"sampled points with their hover text; figure JSON {first['json_mib']:.1f} MiB. The clusters stage "
             f"found {out['clusters']} clusters. The vectors were read as unit length: {out['normalised']}.", ""]
    print(replace_section(lines, "bench/vectors.py", time.perf_counter() - started))


if __name__ == "__main__":
    main()
