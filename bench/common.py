"""What every benchmark shares: where things are, the texts they measure on, the machine they name, and how a
re-measured section replaces its part of ``docs/benchmarks.md``. Imported by the benchmark scripts; imports none
of them."""

from __future__ import annotations

import csv
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "docs" / "benchmarks.md"
LIBS = ["vecexplore", "torch", "sentence-transformers", "transformers", "onnxruntime", "umap-learn", "numba",
        "scikit-learn", "numpy", "qdrant-client", "streamlit", "plotly", "gensim"]


def sentences(n: int) -> tuple[list[str], str]:
    """``n`` distinct real sentences (STS-B) if the shared data is present, else the demo corpus, varied."""
    path = SHARED / "stsb-en-train.csv"
    if path.exists():
        seen: dict[str, None] = {}
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                seen.update(dict.fromkeys(row[:2]))
        texts = list(seen)
        if len(texts) >= n:
            return texts[:n], f"STS-B train sentences ({path.name})"
    from vecexplore.files.corpus import load_demo

    base = load_demo("topics").texts
    return [f"{base[i % len(base)]} ({i})" for i in range(n)], "demo topics corpus, numbered variants"


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


def ag_news(n: int, seed: int = 0) -> list[tuple[str, str, str]] | None:
    """``n`` AG News test items drawn with ``seed`` as (class name, title, description); None without the shared
    data."""
    path = SHARED / "ag_news_test.csv"
    if not path.exists():
        return None
    classes = (SHARED / "ag_news_classes.txt").read_text().split()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return [(classes[int(rows[i][0]) - 1], rows[i][1], rows[i][2])
            for i in np.random.default_rng(seed).choice(len(rows), n, replace=False)]


def write_table(path: Path, texts: list[str], labels: list[str]) -> Path:
    """``texts`` and their ``labels`` as a CSV with a header (text, label), as a user uploads them."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def store_vectors(texts: list[str], cache_path: Path | None = None) -> np.ndarray:
    """MiniLM vectors (the app's default backend) of ``texts``, through an embedding cache."""
    from vecexplore.cache import EmbeddingCache, embed
    from vecexplore.encoders import load_encoder

    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(cache_path or Path(tmp) / "c.sqlite")
        return embed(texts, load_encoder("all-MiniLM-L6-v2"), cache=cache)[0].vectors


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Run each function ``repeats`` times, alternating, and return all timings."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return times


class Stages(dict):
    """Seconds and peak memory (GiB) of each named stage, in order: ``stages("open", fn)`` runs and times ``fn``."""

    def __call__(self, key: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        value = fn()
        self[key] = {"s": time.perf_counter() - start, "peak_gib": peak_gib()}
        return value


def peak_gib() -> float:
    """This process's peak resident memory so far, in GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is KiB on Linux


def machine(libs: list[str] = LIBS) -> dict:
    """The CPU, cores, memory, Python, BLAS and the versions of ``libs``: what every benchmark doc names."""
    from threadpoolctl import threadpool_info

    from vecexplore.machine import describe

    blas = ", ".join(sorted({f"{i['internal_api']} ({i.get('num_threads')} threads)" for i in threadpool_info()}))
    return {**describe(libs), "platform": platform.platform(), "blas": blas}


def replace_section(lines: list[str], by: str, seconds: float) -> str:
    """Put the re-measured section ``lines`` (its heading first) in place of the same section of the report (or
    after the others, when new), saying what re-measured it and when; the other sections keep their run. Returns
    the new section."""
    m = machine()
    head = (f"Re-measured alone by `{by}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({seconds:.0f} s) "
            f"on the machine above ({m['cpu']}, {m['cores']} cores); the other sections are from the full run.")
    section = "\n".join([lines[0], "", head, *lines[1:]]).rstrip() + "\n"
    text = OUT.read_text(encoding="utf-8")
    begin = text.find(lines[0])
    if begin < 0:  # a new section: appended
        OUT.write_text(text.rstrip() + "\n\n" + section, encoding="utf-8")
        return section
    end = text.find("\n## ", begin + len(lines[0]))
    OUT.write_text(text[:begin] + section + (text[end:] if end >= 0 else ""), encoding="utf-8")
    return section


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines: the header, its rule and one line per row (cells already formatted)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(row) + " |" for row in rows]]
