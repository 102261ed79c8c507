r"""Load: N concurrent sessions on one app server, each with its own corpus — paste, map, index, search.

Goal (issue 14): 20 concurrent sessions on this 2-core machine, zero errors, zero cross-session results, every
session's map within 60 s. Each session pastes lines that all begin with its own tag, so a hit from another
session's corpus is seen at once; the Search page must also list none of the other sessions' private collections.
Reported: p50/p95 of each step, the server's CPU time and peak memory (RSS), and every error.

Two kinds of client, run one after the other against a fresh server each:
- ``protocol``: Streamlit's own websocket protocol (bench/streamlit_session.py), as the browser speaks it but
  without drawing anything: the server's capacity, the goal's measure (in a class, browsers run on the students'
  machines, not on the server's two cores);
- ``browser``: Chromium tabs (Playwright contexts) on this same machine, drawing every page: the whole stack, with
  20 renderers competing with the server for the two cores.

Standalone: ``python bench/load.py [--sessions 20]`` rewrites the *Load* section of docs/benchmarks.md;
``bench/run.py`` runs it as one of its sections. The browser run needs Debian's Chromium (``/usr/bin/chromium``).

``python bench/load.py --hostile [--sessions 20]`` measures a hostile session instead (issue 25) and rewrites its
own section: the server as ``make app`` runs it (``python -m vecexplore.serve``); N sessions browse (Home, the
Projection page's map, a text filter) without, then with, one more session opening the catastrophic link
``/projection?filter_regex=true&filter_text=(\w+\s?)*$`` (Python's re backtracked on it for hours holding the GIL;
RE2 runs it in linear time); then SIGTERM while N sessions and the hostile one are running, timed to the exit,
and the same stop on a plain ``streamlit run app.py`` for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from vecexplore.machine import cpu_name
from vecexplore.serve import server_command, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks.md"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
STEPS = ("open", "paste", "map", "index", "search")
MAP_GOAL_S = 60
TOPICS = ("the goalkeeper saved a penalty in the final minute", "knead the dough and let the bread rise overnight",
          "the probe sent pictures of the rings of Saturn", "the central bank raised interest rates again",
          "drink water and sleep well to recover from the flu", "the violinist tuned her instrument before the concert")
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'


def lines(session: int, n: int = 24) -> list[str]:
    """Session ``session``'s corpus: every line starts with its tag, so its hits can be told from others'."""
    return [f"S{session:02d} note {j}: {TOPICS[j % len(TOPICS)]} ({j})." for j in range(n)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss(pid: int) -> int:
    """Resident memory of process ``pid`` and its children, in bytes (Linux /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Server:
    """``streamlit run app.py`` on a free port with its own data folder; samples its memory while it runs."""

    def __init__(self, home: Path, launcher: bool = False) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "VECEXPLORE_HOME": str(home), "HF_HUB_OFFLINE": "1", "VECEXPLORE_WARMUP": "1"}
        self.log = open(home / "streamlit.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(server_command(self.port, launcher), cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.peak = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        if wait_healthy(self.url):
            return
        raise RuntimeError("streamlit did not start; see " + self.log.name)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, _rss(self.proc.pid))

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> float:
        """SIGTERM; returns the seconds until the process exited (killed, and NaN returned, past 60 s)."""
        self._stop.set()
        start = time.perf_counter()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
            took = time.perf_counter() - start
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            took = float("nan")
        self.log.close()
        return took


async def _settled(page, timeout_ms: float) -> None:
    await page.locator(SETTLED).wait_for(timeout=timeout_ms)


async def session(browser, url: str, number: int, step_timeout_s: float) -> dict:
    """One user: paste this session's lines, open the map, index them, search; times every step."""
    timeout = step_timeout_s * 1000
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(timeout)
    times: dict[str, float] = {}
    result: dict = {"session": number, "times": times, "errors": [], "foreign_hits": 0, "hits": 0}

    async def step(name: str, action) -> None:
        start = time.perf_counter()
        await action()
        await _settled(page, timeout)
        times[name] = time.perf_counter() - start

    async def open_home() -> None:
        await page.goto(url)
        await page.get_by_text("The data flow").wait_for()

    async def paste() -> None:
        await page.get_by_text("Paste text").click()
        area = page.get_by_label("One text per line")
        await area.fill("\n".join(lines(number)))
        await area.press("Control+Enter")
        await page.get_by_text(f"{len(lines(number))} texts").first.wait_for()

    async def open_map() -> None:
        await page.get_by_role("link", name="Projection").click()
        await page.get_by_text("UMAP map ready").or_(page.get_by_text("Method used")).first.wait_for()
        await page.locator('[data-testid="stMetric"]', has_text="Method used").wait_for()
        await page.locator(".js-plotly-plot").first.wait_for()

    async def index() -> None:
        await page.get_by_role("link", name="Search").click()
        await page.get_by_role("button", name="Index the corpus").click()
        await page.get_by_text("Indexed into").wait_for()

    async def search() -> None:
        query = page.get_by_label("Query")
        await query.fill("who scored in the final and what did the bank do")
        await query.press("Enter")
        await page.get_by_text("The hits ringed on a PCA map").wait_for()

    try:
        for name, action in zip(STEPS, (open_home, paste, open_map, index, search), strict=True):
            await step(name, action)
        table = page.locator('[data-testid="stDataFrame"]').nth(1)  # the hits (the first lists collections)
        await table.scroll_into_view_if_needed()
        # the grid writes its cells into a hidden table once drawn
        await table.locator("td", has_text=" note ").nth(9).wait_for(state="attached")
        cells = [c for c in await table.locator("td").all_text_contents() if " note " in c]
        result["hits"] = len(cells)
        result["foreign_hits"] = sum(not c.startswith(f"S{number:02d} ") for c in cells)
        hidden = page.get_by_text("private collections of other sessions are not listed")
        result["others_hidden"] = await hidden.count() > 0
    except Exception as exc:  # a timeout or a broken page: counted as an error of this session
        result["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    for kind in ("stException", "stAlertContentError"):
        count = await page.locator(f'[data-testid="{kind}"]').count()
        if count:
            texts = await page.locator(f'[data-testid="{kind}"]').all_inner_texts()
            result["errors"] += [f"{kind}: {t[:200]}" for t in texts]
    await context.close()
    return result


async def protocol_session(url: str, number: int, step_timeout_s: float) -> dict:
    """The same user as :func:`session`, over the websocket protocol: what the server does, nothing drawn."""
    from streamlit_session import ProtocolSession

    times: dict[str, float] = {}
    result: dict = {"session": number, "times": times, "errors": [], "foreign_hits": 0, "hits": 0}
    try:
        async with ProtocolSession(url) as app:

            async def step(name: str, *actions) -> None:
                start = time.perf_counter()
                for action in actions:
                    await action()
                    result["errors"] += app.errors()
                times[name] = time.perf_counter() - start

            async def paste() -> None:
                app.set_choice("source", "Paste text")
                await app.run(step_timeout_s)
                app.set_text("paste", "\n".join(lines(number)))
                await app.run(step_timeout_s)

            async def search() -> None:
                app.set_text("search_query", "who scored in the final and what did the bank do")
                await app.run(step_timeout_s)

            await step("open", lambda: app.run(step_timeout_s))
            await step("paste", paste)
            await step("map", lambda: app.open("projection", step_timeout_s))
            if not app.figures():
                result["errors"].append("no map was drawn")
            await step("index", lambda: app.open("search", step_timeout_s), lambda: app.click("index", step_timeout_s))
            await step("search", search)
            hits = [row["text"] for row in (app.tables() or [[]])[-1] if " note " in str(row.get("text"))]
            result["hits"] = len(hits)
            result["foreign_hits"] = sum(not h.startswith(f"S{number:02d} ") for h in hits)
            result["others_hidden"] = any("private collections of other sessions are not listed" in t
                                          for t in app.texts("markdown"))
    except Exception as exc:  # a timeout or a dropped connection: an error of this session
        result["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
    return result


async def run_load(server: Server, sessions: int, mode: str, step_timeout_s: float) -> dict:
    """Session 0 alone first, as the teacher opening the app (it pays the one-off costs: numba, the ONNX
    export), then ``sessions`` more, all at once."""
    if mode == "protocol":
        first = await protocol_session(server.url, 0, 300)
        cpu, start = server.cpu_seconds(), time.perf_counter()
        results = await asyncio.gather(*(protocol_session(server.url, i, step_timeout_s)
                                         for i in range(1, sessions + 1)))
        wall, cpu = time.perf_counter() - start, server.cpu_seconds() - cpu
        return {"first": first, "results": list(results), "wall_s": wall, "server_cpu_s": cpu}
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        first = await session(browser, server.url, 0, 300)
        cpu, start = server.cpu_seconds(), time.perf_counter()
        results = await asyncio.gather(*(session(browser, server.url, i, step_timeout_s)
                                         for i in range(1, sessions + 1)))
        wall, cpu = time.perf_counter() - start, server.cpu_seconds() - cpu
        await browser.close()
    return {"first": first, "results": list(results), "wall_s": wall, "server_cpu_s": cpu}


def measure(sessions: int = 20, mode: str = "protocol") -> dict:
    """One fresh server (empty data folder, background warm-up on, as a user gets it) under ``sessions``."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            load = asyncio.run(run_load(server, sessions, mode, 180))
        finally:
            server.stop()
    return {"sessions": sessions, "mode": mode, **load, "peak_rss_gib": server.peak / 2**30,
            "cores": os.cpu_count()}


# --- A hostile session among browsing ones (issue 25) ---

EVIL = r"(\w+\s?)*$"
HOSTILE_QUERY = "filter_regex=true&filter_text=(%5Cw%2B%5Cs%3F)*%24"  # /projection?filter_regex=true&filter_text=EVIL
BROWSE = ("open", "map", "filter")
STOP_GOAL_S = 5


async def browse_session(url: str, number: int, step_timeout_s: float, running: asyncio.Event | None = None) -> dict:
    """One user browsing: Home, the Projection page (the demo corpus's map), then a text filter typed on the map
    (a regular expression). ``running`` is set once its first page is served."""
    from streamlit_session import ProtocolSession

    times: dict[str, float] = {}
    result: dict = {"session": number, "times": times, "errors": []}
    try:
        async with ProtocolSession(url) as app:

            async def step(name: str, action) -> None:
                start = time.perf_counter()
                await action()
                times[name] = time.perf_counter() - start
                result["errors"] += app.errors()

            async def filtered() -> None:
                app.set_bool("filter_regex", True)
                app.set_text("filter_text", "goal|match|bank")
                await app.run(step_timeout_s)

            await step("open", lambda: app.run(step_timeout_s))
            if running is not None:
                running.set()
            await step("map", lambda: app.open("projection", step_timeout_s))
            if not app.figures():
                result["errors"].append("no map was drawn")
            await step("filter", filtered)
    except Exception as exc:  # a timeout or a dropped connection: an error of this session
        result["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
    return result


async def hostile_session(url: str, step_timeout_s: float) -> dict:
    """A fresh session opening the catastrophic link straight on the Projection page."""
    from streamlit_session import ProtocolSession

    result: dict = {"errors": [], "seconds": float("nan"), "map": False}
    try:
        async with ProtocolSession(url) as app:
            start = time.perf_counter()
            await app.open_link("projection", HOSTILE_QUERY, step_timeout_s)
            result["seconds"] = time.perf_counter() - start
            result["errors"] += app.errors()
            result["map"] = bool(app.figures())
    except Exception as exc:
        result["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
    return result


async def stop_while_busy(server: Server, sessions: int, step_timeout_s: float) -> dict:
    """``sessions`` browsing sessions and the hostile one start; SIGTERM once the first page is served. Returns
    the seconds to the server's exit, how many sessions were still being served, and whether it was killed."""
    served = asyncio.Event()
    running = [asyncio.ensure_future(browse_session(server.url, i, step_timeout_s, served)) for i in range(sessions)]
    running.append(asyncio.ensure_future(hostile_session(server.url, step_timeout_s)))
    await asyncio.wait_for(served.wait(), step_timeout_s)
    busy = sum(not t.done() for t in running)
    stop_s = await asyncio.to_thread(server.stop)
    await asyncio.gather(*running)  # each ends with a dropped connection
    said = Path(server.log.name).read_text(encoding="utf-8", errors="replace")
    return {"stop_s": stop_s, "busy_at_stop": busy, "killed": "did not stop within" in said}


async def run_hostile(server: Server, sessions: int, step_timeout_s: float) -> dict:
    """Session 0 alone (the one-off costs), then ``sessions`` browsing at once without, then with, the hostile
    session; then :func:`stop_while_busy`."""
    first = await browse_session(server.url, 0, 300)
    start = time.perf_counter()
    without = await asyncio.gather(*(browse_session(server.url, i, step_timeout_s) for i in range(1, sessions + 1)))
    wall_without = time.perf_counter() - start
    start = time.perf_counter()
    browsing = [browse_session(server.url, i, step_timeout_s) for i in range(1, sessions + 1)]
    *with_, hostile = await asyncio.gather(*browsing, hostile_session(server.url, step_timeout_s))
    wall_with = time.perf_counter() - start
    return {"first": first, "without": list(without), "with": list(with_), "hostile": hostile,
            "wall_without_s": wall_without, "wall_with_s": wall_with,
            "stop": await stop_while_busy(server, sessions, step_timeout_s)}


async def run_plain_stop(server: Server, sessions: int, step_timeout_s: float) -> dict:
    """For comparison, the same stop with no launcher: session 0 alone, then :func:`stop_while_busy`."""
    await browse_session(server.url, 0, 300)
    return await stop_while_busy(server, sessions, step_timeout_s)


def measure_hostile(sessions: int = 20) -> dict:
    """A fresh server run as ``make app`` runs it (the launcher) under :func:`run_hostile`, then a fresh plain
    ``streamlit run app.py`` under :func:`run_plain_stop`."""
    load_before = os.getloadavg()[0]
    out = {}
    for launcher, run in ((True, run_hostile), (False, run_plain_stop)):
        with tempfile.TemporaryDirectory() as tmp:
            server = Server(Path(tmp), launcher=launcher)
            try:
                result = asyncio.run(run(server, sessions, 180))
            finally:
                if server.proc.poll() is None:
                    server.stop()
        if launcher:
            out = {**result, "peak_rss_gib": server.peak / 2**30}
        else:
            out["plain_stop"] = result
    return {"sessions": sessions, **out, "cores": os.cpu_count(), "load": (load_before, os.getloadavg()[0])}


def hostile_lines(h: dict, cpu: str) -> list[str]:
    n = h["sessions"]

    def row(name: str, results: list[dict]) -> str:
        values = [r["times"][name] for r in results if name in r["times"]]
        if not values:
            return f"| {name} | — | — | — |"
        return f"| {name} | {_pct(values, 50):.1f} | {_pct(values, 95):.1f} | {max(values):.1f} |"

    def pages(results: list[dict]) -> list[float]:
        return [t for r in results for t in r["times"].values()]

    errors = [(label, r["session"], e) for label in ("without", "with") for r in h[label] for e in r["errors"]]
    hostile, stop, plain = h["hostile"], h["stop"], h["plain_stop"]
    p95 = {label: _pct(pages(h[label]), 95) for label in ("without", "with")}
    lines = [
        "## Hostile session: a catastrophic filter link among browsing sessions",
        "",
        f"`bench/load.py --hostile` on this {cpu} machine ({h['cores']} cores): one server run as `make app` runs "
        f"it (`python -m vecexplore.serve`), a fresh data folder; after a first session alone, {n} sessions "
        "(Streamlit's websocket protocol, nothing drawn) browse at once — Home, the Projection page with the demo "
        "corpus's UMAP map, then a regular-expression filter typed on it — first without, then with one more "
        f"session opening `/projection?filter_regex=true&filter_text={EVIL}`. Python's `re` backtracked on that "
        "pattern for hours while holding the GIL: every session froze and the server ignored SIGTERM. The filter "
        "now runs RE2 (linear time, GIL released: `vecexplore/patterns.py`). Page times run from the action to "
        f"the end of the script run it starts. Last, {n} sessions and the hostile one start again and the server "
        "gets SIGTERM as soon as the first page is served, timed to its exit; then the same on a fresh plain "
        "`streamlit run app.py`. The launcher gives the server 3 s to exit by itself, then kills it.",
        "",
        f"| step ({n} browsing sessions) | p50 s | p95 s | max s |",
        "|---|---|---|---|",
        *[row(name, h["without"]) for name in BROWSE],
        *[row(name, h["with"]).replace(f"| {name} |", f"| {name}, with the hostile session |", 1)
          for name in BROWSE],
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| the others' page times, p95, without the hostile session | {p95['without']:.1f} s | — |",
        f"| the others' page times, p95, with it | {p95['with']:.1f} s | about the same |",
        f"| the hostile link: its page, settled | {hostile['seconds']:.1f} s, map drawn: "
        f"{'yes' if hostile['map'] else 'NO'} | settles, map drawn |",
        f"| errors shown or raised (browsing sessions, hostile session) | {len(errors)}, {len(hostile['errors'])} "
        "| 0, 0 |",
        f"| wall time of the {n} sessions without / with | {h['wall_without_s']:.1f} s / {h['wall_with_s']:.1f} s "
        "| — |",
        f"| SIGTERM → server exited, with {stop['busy_at_stop']} sessions being served | {stop['stop_s']:.1f} s "
        f"({'killed by the launcher after its grace period' if stop['killed'] else 'exited by itself'}) | "
        f"≤ {STOP_GOAL_S} s |",
        f"| the same with a plain `streamlit run app.py` (no launcher; {plain['busy_at_stop']} sessions) | "
        f"{plain['stop_s']:.1f} s | — |",
        f"| load average of the machine (1 min) before / after the run | {h['load'][0]:.1f} / {h['load'][1]:.1f} "
        "| — (other work on the same cores slows every page alike) |",
        f"| server peak memory (RSS) | {h['peak_rss_gib']:.2f} GiB | — |",
        "",
        *[f"- {label} run, session {s}: {e}" for label, s, e in errors[:20]],
        *[f"- hostile session: {e}" for e in hostile["errors"]],
    ]
    return lines


def _pct(values: list[float], q: float) -> float:
    return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1]) if len(values) > 1 else values[0]


def _table(load: dict) -> tuple[list[str], bool]:
    """One run's table and whether it met the goal."""
    results = load["results"]
    errors = [(r["session"], e) for r in results for e in r["errors"]]
    foreign = sum(r["foreign_hits"] for r in results)
    maps = [r["times"]["map"] for r in results if "map" in r["times"]]
    complete = sum(len(r["times"]) == len(STEPS) and r["hits"] == 10 for r in results)
    hidden_ok = all(r.get("others_hidden") for r in results if len(r["times"]) == len(STEPS))
    met = not errors and foreign == 0 and complete == load["sessions"] and bool(maps) and max(maps) <= MAP_GOAL_S
    out = ["| step | p50 s | p95 s | max s | first session alone s |", "|---|---|---|---|---|"]
    for name in STEPS:
        values = [r["times"][name] for r in results if name in r["times"]]
        if values:
            out.append(f"| {name} | {_pct(values, 50):.1f} | {_pct(values, 95):.1f} | {max(values):.1f} | "
                       f"{load['first']['times'].get(name, float('nan')):.1f} |")
    out += [
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| sessions that finished every step (10 hits read) | {complete} / {load['sessions']} | all |",
        f"| errors shown or raised | {len(errors)} | 0 |",
        f"| hits from another session's corpus | {foreign} (of {sum(r['hits'] for r in results)} hits read) | 0 |",
        f"| other sessions' private collections listed | {'none' if hidden_ok else 'SOME'} | none |",
        f"| slowest map | {max(maps) if maps else float('nan'):.1f} s | ≤ {MAP_GOAL_S} s |",
        f"| all {load['sessions']} sessions, wall time | {load['wall_s']:.1f} s | — |",
        f"| server CPU time during the concurrent run | {load['server_cpu_s']:.0f} s of "
        f"{load['wall_s'] * load['cores']:.0f} s available ({load['cores']} cores × wall time) | — |",
        f"| server peak memory (RSS) | {load['peak_rss_gib']:.2f} GiB | — |",
        "",
    ]
    clean = not errors and foreign == 0 and complete == load["sessions"]
    share = load["server_cpu_s"] / (load["wall_s"] * load["cores"])
    if load["mode"] == "protocol":
        out.append(f"Goal met: **{'yes' if met else 'NO'}**.")
    else:
        out.append(f"No error and no foreign hit in any session: **{'yes' if clean else 'NO'}**; every map within "
                   f"{MAP_GOAL_S} s: **{'yes' if met else 'NO'}** — with the {load['sessions']} renderers on the "
                   f"server's own cores, the server got {share:.0%} of the CPU time and Chromium the rest.")
    out += [*[f"- session {s}: {e}" for s, e in errors[:20]], ""]
    return out, met


def load_lines(loads: list[dict], cpu: str) -> list[str]:
    n = loads[0]["sessions"]
    lines = [
        "## Load: concurrent sessions on one server",
        "",
        f"`bench/load.py` on this {cpu} machine ({loads[0]['cores']} cores): one `streamlit run app.py` "
        f"server, a fresh data folder, and {n} sessions started at once. Each session pastes 24 lines of its own "
        "(every line tagged with the session), opens the Projection page (embedding with the default "
        "all-MiniLM-L6-v2, then the UMAP map), indexes the corpus into its default (private) collection and "
        "searches it. A first session ran alone before, as the teacher opening the app (it pays the one-off "
        "costs). Step times run from the action to the end of the script run it starts.",
        "",
    ]
    titles = {"protocol": "Clients speaking Streamlit's websocket protocol (the server's capacity; the goal's "
                          "measure)",
              "browser": "Clients as Chromium tabs on the same two cores (the whole stack, renderers included)"}
    for load in loads:
        table, _ = _table(load)
        lines += [f"### {titles[load['mode']]}", "", *table]
    return lines


def write_section(section: list[str]) -> None:
    """Replace the section of docs/benchmarks.md that has ``section``'s heading (or append it)."""
    text = OUT.read_text(encoding="utf-8") if OUT.exists() else "# Benchmarks\n"
    head, marker, rest = text.partition(section[0])
    tail = ""
    if marker:
        nxt = rest.find("\n## ")
        tail = rest[nxt + 1:] if nxt >= 0 else ""
    OUT.write_text(head.rstrip("\n") + "\n\n" + "\n".join(section) + ("\n" + tail if tail else ""), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--modes", default="protocol,browser", help="protocol, browser or both (comma-separated)")
    parser.add_argument("--hostile", action="store_true", help="measure a hostile session among browsing ones, and "
                        "the stop on SIGTERM, instead (its own section)")
    args = parser.parse_args()
    if args.hostile:
        section = hostile_lines(measure_hostile(args.sessions), cpu_name())
        section[2:2] = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (standalone run).", ""]
        write_section(section)
        print("\n".join(section))
        return
    loads = [measure(args.sessions, mode) for mode in args.modes.split(",")]
    section = load_lines(loads, cpu_name())
    section.insert(2, f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (standalone run).")
    section.insert(3, "")
    write_section(section)
    print("\n".join(section))


if __name__ == "__main__":
    main()
