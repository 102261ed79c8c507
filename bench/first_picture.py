"""The first picture on a freshly started server: a teacher starts the app and opens Projection at once.

Each run starts the server as ``make app`` does (``python -m vecexplore.serve``) on a home of its own, opens
``/projection`` in Chromium as soon as the server answers its health check, and times, from that moment, the
first map drawn (the PCA preview) and the UMAP map that replaces it. Two set-ups, interleaved run by run:

- ``warmed``: a copy of a home and a numba cache prepared by the set-up (``vecexplore warmup``, what ``make app``
  runs once at install);
- ``empty``: an empty ``VECEXPLORE_HOME`` and an empty numba cache (a per-user home on a machine, or a container,
  built without the warm-up).

``python bench/first_picture.py [--runs 3] [--write]`` prints the timings as JSON (``--write``: the section of
``docs/benchmarks.md``). ``python bench/first_picture.py steps HOME`` runs the page's steps in one fresh process,
as the server does them (imports, the warm-up started, the model loaded, the demo corpus embedded, PCA, UMAP),
and prints when each ended: where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()  # the steps are timed from here: before numpy and vecexplore are imported

CHROMIUM = Path(os.environ.get("VECEXPLORE_CHROMIUM", "/usr/bin/chromium"))
SETUPS = ("warmed", "empty")
TIMEOUT_MS = 300_000  # ms


def steps(home: str) -> dict:
    """The Projection page's first run in one process, as the server does it; seconds since the process start."""
    os.environ["VECEXPLORE_HOME"] = home
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = round(time.perf_counter() - T0, 2)

    import numpy as np  # noqa: F401
    import streamlit  # noqa: F401

    mark("imports (numpy, streamlit)")
    from vecexplore.config import warmup_enabled
    from vecexplore.warmup import encoder as page_encoder
    from vecexplore.warmup import start_background, wait_for_umap

    if warmup_enabled():
        start_background()
    mark("warm-up started")
    from vecexplore.cache import EmbeddingCache
    from vecexplore.encoders import MINILM_ID
    from vecexplore.files.corpus import load_demo
    from vecexplore.maps.projection import ProjectionCache, Projector
    from vecexplore.pipeline import embed_corpus

    mark("imports (vecexplore)")
    encoder = page_encoder(MINILM_ID)
    mark(f"model loaded ({encoder.backend})")
    eset, stats = embed_corpus(load_demo("topics"), encoder, cache=EmbeddingCache())
    mark(f"demo corpus embedded ({stats.encoded} encoded, {stats.cache_hits} from the cache)")
    maps = ProjectionCache()
    maps.fit(eset.vectors, Projector("pca"))
    mark("PCA map")
    wait_for_umap()
    mark("UMAP compiled by the warm-up worker")
    maps.fit(eset.vectors, Projector("umap"))
    mark("UMAP map")
    return marks


def _environment(home: Path, numba: Path) -> dict[str, str]:
    return {**os.environ, "VECEXPLORE_HOME": str(home), "NUMBA_CACHE_DIR": str(numba), "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "VECEXPLORE_WARMUP": "1"}


def prepare(template: Path) -> float:
    """The set-up's warm-up into ``template`` (home and numba cache); returns its seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vecexplore.cli", "warmup"], check=True, capture_output=True,
                   env=_environment(template / "home", template / "numba"))
    return time.perf_counter() - start


def first_picture(browser, setup: str, template: Path, work: Path) -> dict:
    """One fresh server on a home as ``setup`` makes it: seconds from opening Projection to the preview map and
    to the UMAP map."""
    from vecexplore.serve import server_command, wait_healthy

    if setup == "warmed":
        shutil.copytree(template, work)
    else:
        (work / "home").mkdir(parents=True)
    env = _environment(work / "home", work / "numba")
    port = _free_port()
    log = open(work / "server.log", "w+")  # noqa: SIM115
    started = time.perf_counter()
    server = subprocess.Popen(server_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
    context = None
    try:
        url = f"http://127.0.0.1:{port}"
        if not wait_healthy(url):
            raise RuntimeError("the server did not start: " + (work / "server.log").read_text())
        healthy = time.perf_counter() - started
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        opened = time.perf_counter()
        page.goto(url + "/projection")
        page.locator(".js-plotly-plot").first.wait_for()
        first = time.perf_counter() - opened
        was_preview = page.get_by_text("PCA map shown while").count() > 0
        used = page.locator('[data-testid="stMetric"]').filter(has_text="Method used")
        used.filter(has=page.locator('[data-testid="stMetricValue"]', has_text="UMAP")).wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        umap = time.perf_counter() - opened
        return {"server_healthy_s": round(healthy, 2), "first_map_s": round(first, 2),
                "first_was_preview": was_preview, "umap_map_s": round(umap, 2)}
    except Exception:
        if context is not None and context.pages:
            print("page:", context.pages[0].locator("body").inner_text(), file=sys.stderr)
        print("server log:", (work / "server.log").read_text()[-5000:], file=sys.stderr)
        raise
    finally:
        if context is not None:
            context.close()
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(runs: int) -> dict:
    """``runs`` rounds of (warmed, empty), interleaved; the load average before each run is kept beside it."""
    from playwright.sync_api import sync_playwright

    out: dict = {"load_before": os.getloadavg()[0], "runs": {s: [] for s in SETUPS}}
    with tempfile.TemporaryDirectory(prefix="first-picture-") as tmp:
        template = Path(tmp) / "template"
        out["setup_warmup_s"] = round(prepare(template), 1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            try:
                for i in range(runs):
                    for setup in SETUPS:
                        load = os.getloadavg()[0]
                        got = first_picture(browser, setup, template, Path(tmp) / f"{setup}-{i}")
                        out["runs"][setup].append({**got, "load": round(load, 2)})
                        print(setup, out["runs"][setup][-1], file=sys.stderr, flush=True)
            finally:
                browser.close()
    return out


def summary(values: list[float]) -> str:
    """Median with the range, in seconds."""
    return f"{statistics.median(values):.1f} s ({min(values):.1f}–{max(values):.1f})"


def section(out: dict, before: dict | None = None) -> list[str]:
    """The section of docs/benchmarks.md: this run's figures, and ``before``'s (the same script run on the code
    before the change) beside them when given."""
    from common import machine, table

    m = machine()
    rows = []
    for label, result in (("before", before), ("now", out)):
        if result is None:
            continue
        for setup, named in (("warmed", "after the set-up's warm-up (`make app`)"),
                             ("empty", "empty `VECEXPLORE_HOME` and numba cache")):
            runs = result["runs"][setup]
            rows.append([label, named, summary([r["first_map_s"] for r in runs]),
                         summary([r["umap_map_s"] for r in runs]), summary([r["server_healthy_s"] for r in runs]),
                         f"{result['setup_warmup_s']:.0f} s", ", ".join(f"{r['load']:.1f}" for r in runs)])
    return ["## First picture: Projection opened on a freshly started server", "",
            f"{m['cpu']}, {m['cores']} cores, shared with other work (the load average before each run is listed). "
            "The demo corpus (300 texts, all-MiniLM-L6-v2, `auto` backend), `/projection` opened in Chromium as "
            "soon as the server (`python -m vecexplore.serve`, as `make app` runs it) answers its health check; "
            "times from that moment to the first map drawn (the PCA preview) and to the UMAP map that replaces it. "
            "Runs of the two set-ups interleaved; median (range). *before*: the same script on the code before "
            "issue 30's item 1 (`--before`). Goal on a quiet 2-core machine: warmed 2 s and 15 s, empty home "
            "5 s and 25 s. `python bench/first_picture.py --runs N --write`.", "",
            *table(["code", "set-up", "first map", "UMAP map", "server answers", "set-up's warm-up",
                    "load average at each run"], rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stage", nargs="?", choices=("browser", "steps"), default="browser")
    parser.add_argument("home", nargs="?", help="steps: the VECEXPLORE_HOME to run in")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite this section of docs/benchmarks.md")
    parser.add_argument("--before", help="the JSON this script printed on the code before the change")
    args = parser.parse_args()
    if args.stage == "steps":
        print(json.dumps(steps(args.home or tempfile.mkdtemp(prefix="first-picture-home-"))))
        return
    start = time.perf_counter()
    out = measure(args.runs)
    print(json.dumps(out))
    if args.write:
        from common import replace_section

        before = json.loads(Path(args.before).read_text()) if args.before else None
        print(replace_section(section(out, before), "bench/first_picture.py", time.perf_counter() - start))


if __name__ == "__main__":
    main()
