"""Past one machine: all-MiniLM-L6-v2 on AG News texts embedded by ``ray_embed`` (what ``embed --ray local``
runs) with 1 and 2 workers, interleaved with the local path, vectors compared with the local path's; then how a
50M-text corpus would run, from the measured per-worker throughput. Rewrites its own section of
docs/benchmarks.md (needs the ``ray`` extra and ../shared/data)::

    flock /tmp/bench.lock .venv/bin/python bench/ray_scale.py [--n 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ag_news, machine, replace_section, table

from vecexplore.distributed import ray_embed
from vecexplore.encoders import MINILM_ID, load_encoder
from vecexplore.files.corpus import Corpus
from vecexplore.pipeline import embed_corpus

HEADING = "## Past one machine: Ray Data (`embed --ray`, issue 30 item 5)"
TARGET = 50_000_000


def spread(values: list[float], digits: int = 1) -> str:
    """The median, then the range of ``values``."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    items = ag_news(args.n)
    if items is None:
        raise SystemExit("needs ../shared/data/ag_news_test.csv")
    corpus = Corpus([f"{title}. {desc.replace(chr(92), ' ')}" for _, title, desc in items],
                    [label for label, _, _ in items], name="ag_news")
    load = os.getloadavg()
    began = time.perf_counter()
    n = len(corpus.texts)
    reference = embed_corpus(corpus, load_encoder(MINILM_ID))[0].vectors  # the local path (embed without --ray)
    wall: dict[str, list[float]] = {"local": [], "ray, 1 worker": [], "ray, 2 workers": []}
    rate: dict[str, list[float]] = {name: [] for name in wall}
    diff: dict[str, list[float]] = {name: [] for name in wall}
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(args.repeats):  # interleaved: local, 1 worker, 2 workers, local, …
            start = time.perf_counter()
            encoder = load_encoder(MINILM_ID)
            loaded = time.perf_counter()
            vectors = encoder.encode(corpus.texts, batch_size=64)  # what a worker runs on its block
            rate["local"].append(n / (time.perf_counter() - loaded))
            encoder.diagnose(corpus.texts)  # as a run with or without --ray does
            wall["local"].append(time.perf_counter() - start)
            diff["local"].append(float(np.abs(vectors - reference).max()))
            for workers in (1, 2):
                name = f"ray, {workers} worker{'s' if workers > 1 else ''}"
                eset, _, run = ray_embed(corpus, MINILM_ID, address="local", workers=workers,
                                         shards=Path(scratch) / f"{r}-{workers}")
                wall[name].append(run.seconds)
                rate[name].append(run.worker_texts_per_s)
                diff[name].append(float(np.abs(eset.vectors - reference).max()))
    seconds = time.perf_counter() - began
    m = machine()
    rows = [[name, spread(wall[name]), f"{n / statistics.median(wall[name]):.0f}",
             spread(rate[name], 0), f"{max(diff[name]):.1e}"] for name in wall]
    per_worker = statistics.median(rate["ray, 1 worker"])
    worker_hours = TARGET / per_worker / 3600
    overhead = statistics.median(wall["ray, 1 worker"]) - n / per_worker
    lines = [
        HEADING,
        "",
        f"{m['cpu']}, {m['cores']} cores; load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) "
        f"at the start, shared with other work. {n:,} AG News test texts (title + description, "
        f"seeded sample), all-MiniLM-L6-v2 on the default backend (ONNX Runtime fp32), no embedding cache; "
        f"{args.repeats} interleaved rounds (local, Ray with 1 worker, Ray with 2 workers, …): median (range). "
        "Ray runs are `ray_embed(..., address=\"local\")`, what `vecexplore embed --ray local` runs: a Ray instance "
        "started in the process and shut down after, one model copy a worker, Parquet shards read back in row "
        "order. *While embedding* is one worker's rate over its own encode time (`worker_texts_per_s`); *end to "
        "end* counts the driver's model load and diagnosis (truncated texts) and, with Ray, Ray's start, the "
        "workers' model loads, writing and reading the shards.",
        "",
        *table(["path", "wall s, end to end", "texts/s end to end", "texts/s a worker while embedding",
                "max abs diff from the local path's vectors"], rows),
        "",
        f"**Ray local run equal to the local path**: every vector within {max(max(d) for d in diff.values()):.1e} "
        "of the local path's (the same model version on every worker; tests/test_ray.py checks atol 1e-5 and "
        "cosine ≥ 0.9999 on 40 texts for `embed --ray local`, and that `index --ray local` searches the same).",
        "",
        f"Each worker runs its model copy on the one CPU Ray gives it (Ray sets `OMP_NUM_THREADS`, which "
        "vecexplore's ONNX Runtime sessions follow), so one worker here is one core, and two workers embed about "
        f"{2 * statistics.median(rate['ray, 2 workers']):.0f} texts/s together (each one's rate while embedding, "
        f"their blocks running at once) against one worker's {statistics.median(rate['ray, 1 worker']):.0f}; the "
        "local path runs one copy on both cores. What a run costs besides embedding (Ray's start, the model loads, "
        f"the shards: ~{overhead:.0f} s here) is paid once a run, not per text. The machine was shared with other "
        "work (the load average above): a rate measured under load is a floor, so the worker-hours below are an "
        "upper bound, and the local path's two threads can fare worse than one worker's one.",
        "",
        f"**A 50M-text corpus**, from the measured per-worker rate ({per_worker:.1f} texts/s for one 1-CPU worker "
        "on AG News-length texts, the 1-worker run):",
        "",
        f"- worker-hours: 50,000,000 texts ÷ {per_worker:.1f} texts/s ÷ 3,600 s/h = **{worker_hours:.1f} "
        "worker-hours** (1-CPU workers; the rate falls with texts' length: MiniLM reads up to 256 tokens);",
        *[f"- done in {h} h: ⌈{worker_hours:.1f} ÷ {h}⌉ = **{math.ceil(worker_hours / h)} workers** "
          "(one CPU each), plus the run's start" for h in (1, 8)],
        f"- shards: 50,000,000 × 384 × 4 B = {TARGET * 384 * 4 / 1e9:.1f} GB of vectors, plus the texts, on storage "
        "every worker sees (`--ray-shards`, e.g. a shared file system);",
        "- the driver reads the corpus and then every vector back (`-o`, `index`): about 1.5 GB a million texts, so "
        "a 50M corpus runs as parts of a few million texts each (each part's `index --ray` upserts into the same "
        "collection, which checks the model version), or its shards are used as they are.",
    ]
    print(replace_section(lines, "bench/ray_scale.py", seconds))


if __name__ == "__main__":
    main()
