"""Run the app — ``streamlit run app.py`` — so that it stops within a few seconds of SIGTERM, whatever it is doing.

Streamlit stops on SIGTERM or Ctrl+C from its main thread, and a Python signal handler runs only once that thread
gets the GIL. Native code that holds the GIL for long in a session delays the stop by as long: scikit-learn's
HDBSCAN on 10,000 random 384-d vectors held it for 24 s here, and Python's ``re`` on a catastrophic pattern held
it for good (the text filter now runs RE2, which releases it: vecexplore/patterns.py). No code inside the server
can help, since none runs without the GIL. And once Streamlit has stopped (within a second: sessions closed, the
port freed), Python's own exit — a full garbage collection of a heap holding torch, numba and ONNX Runtime, then
their native destructors — took 1 to 5 s more here, and sometimes ended in an abort from a C++ thread still running.

This launcher is a separate process with nothing else to do: it starts the server, passes SIGTERM, SIGINT and
SIGHUP on to it, waits up to ``VECEXPLORE_STOP_GRACE`` seconds (default 3) for it to exit by itself, and then
kills the server and the helpers it started (SIGKILL to its process group).

``python -m vecexplore.serve [streamlit options]`` (``make app`` runs it); the options go to ``streamlit run``.
It exits with 0 once the server stopped on request, or with the server's own status if it ended by itself.

The server it starts (``python -m vecexplore.serve --server ...``) is ``streamlit run app.py`` that first starts,
in a background thread, what the first page would otherwise wait for (:func:`preload`): the app's warm-up (the
model loaded, UMAP compiled by a worker process) and the imports of the pages' core modules (scikit-learn, pandas,
plotly: seconds on 2 cores). Streamlit runs app.py only when a browser connects, so without it a teacher who opens
Projection as soon as the server answers waited for all of that.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"
GRACE_S = 3.0  # seconds the server gets to exit by itself once asked
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PRELOAD = ("vecexplore.maps.report", "vecexplore.maps.drawing", "vecexplore.maps.selection", "vecexplore.pipeline",
           "vecexplore.files.export", "vecexplore.maps.html", "pandas", "plotly.graph_objects")


def grace_s() -> float:
    try:
        return max(0.0, float(os.environ.get("VECEXPLORE_STOP_GRACE", GRACE_S)))
    except ValueError:
        return GRACE_S


def _die_with_parent() -> None:
    """In the child, before exec: get SIGKILL if this launcher dies without passing a signal on (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _say(message: str) -> None:
    print(f"vecexplore.serve: {message}", file=sys.stderr, flush=True)


def supervise(command: list[str], grace: float) -> int:
    """Run ``command`` in a session of its own, pass stop signals on to it, and kill its process group if it has
    not stopped ``grace`` seconds after the first. Returns 0 once it stopped on request, else its exit status."""
    server: subprocess.Popen | None = None
    asked: list[float] = []

    def stop(signum: int, _frame) -> None:
        if not asked:
            asked.append(time.monotonic())
            _say(f"{signal.Signals(signum).name}: stopping the server (killed if still running after {grace:g} s)")
        if server is not None and server.poll() is None:  # Streamlit stops on SIGTERM and SIGINT, not SIGHUP
            server.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    # A session of its own: a Ctrl+C in the terminal reaches the launcher only, which passes it on once.
    server = subprocess.Popen(command, start_new_session=True,
                              preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    if asked:  # asked to stop while the server was starting
        server.terminate()
    while True:
        try:
            code = server.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            pass
        if asked and time.monotonic() - asked[0] > grace:
            _say(f"the server did not stop within {grace:g} s: killing it and its helpers")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            code = server.wait()
            break
    if asked:
        _say(f"stopped {time.monotonic() - asked[0]:.1f} s after the signal (server exit status {code})")
        return 0
    return code if code >= 0 else 128 - code


def server_command(port: int, launcher: bool = True) -> list[str]:
    """The command that serves the app headless on ``127.0.0.1:port``: through this launcher (what ``make app``
    runs) or, with ``launcher=False``, plain ``streamlit run`` (benchmarks and tests compare the two)."""
    command = [sys.executable, "-m", "vecexplore.serve"] if launcher else \
        [sys.executable, "-m", "streamlit", "run", str(APP)]
    return [*command, "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false"]


def wait_healthy(url: str, timeout: float = 120.0) -> bool:
    """Whether the server at ``url`` answers Streamlit's health check within ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.5)
    return False


def preload() -> None:
    """Start the app's warm-up (unless ``VECEXPLORE_WARMUP=0``), then import the pages' core modules."""
    from vecexplore.config import warmup_enabled

    if warmup_enabled():
        from vecexplore.warmup import start_background

        start_background()
    for module in PRELOAD:
        importlib.import_module(module)


def serve(args: list[str]) -> None:
    """``streamlit run app.py args`` in this process, with :func:`preload` running beside it."""
    threading.Thread(target=preload, name="vecexplore-preload", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *args]
    runpy.run_module("streamlit", run_name="__main__", alter_sys=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--server"]:
        serve(args[1:])
        return 0
    return supervise([sys.executable, "-m", "vecexplore.serve", "--server", *args], grace_s())


if __name__ == "__main__":
    sys.exit(main())
