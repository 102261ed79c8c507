"""``python -m vecexplore.serve`` (what ``make app`` runs) stops the server within its grace period of SIGTERM, even
when the server cannot handle the signal because a thread holds the GIL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# A stand-in server: it would exit on SIGTERM, but a thread (a session's script thread) runs Python's re on a
# catastrophic pattern, which backtracks for hours holding the GIL, so the main thread never gets to run the
# handler: what a filter pattern did to the app. It starts a helper process first.
STUCK = """
import os, re, signal, subprocess, sys, threading
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(helper.pid, os.getpid(), flush=True)  # before the thread takes the GIL for good
session = threading.Thread(target=re.match, args=(r"(a+)+$", "a" * 64 + "!"), daemon=True)
session.start()
session.join()
"""

POLITE = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
print("ready", flush=True)
time.sleep(600)
"""


def launch(child: str, grace: float) -> subprocess.Popen:
    code = (f"import sys; from vecexplore.serve import supervise; "
            f"sys.exit(supervise([sys.executable, '-c', {child!r}], {grace}))")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def in_regex(pid: int) -> bool:
    """Whether a thread of ``pid`` other than its main one has run for 0.2 s of CPU (only the match does)."""
    ticks = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        if task.name != str(pid):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ticks = max(ticks, int(fields[11]))  # utime
    return ticks >= 0.2 * os.sysconf("SC_CLK_TCK")


def test_a_server_holding_the_gil_is_killed_after_the_grace_period():
    launcher = launch(STUCK, grace=1.0)
    helper, server = map(int, launcher.stdout.readline().split())
    deadline = time.time() + 30
    while not in_regex(server) and time.time() < deadline:  # the GIL is held from here on
        time.sleep(0.05)
    asked = time.perf_counter()
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=30) == 0
    took = time.perf_counter() - asked
    assert 1.0 <= took < 10, took
    err = launcher.stderr.read()
    assert "did not stop within 1 s: killing it and its helpers" in err, err
    deadline = time.time() + 10
    while alive(helper) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(helper), "the server's helper process was left running"


def test_a_server_that_stops_by_itself_is_not_killed():
    launcher = launch(POLITE, grace=20.0)
    assert launcher.stdout.readline().strip() == "ready"
    asked = time.perf_counter()
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=30) == 0
    assert time.perf_counter() - asked < 10
    err = launcher.stderr.read()
    assert "server exit status 3" in err and "killing" not in err, err


# A stand-in server that starts the app's warm-up worker (as vecexplore.warmup does) from a thread that waits for
# it, and prints the worker's pid.
WARMING = """
import os, subprocess, sys, threading, time
worker = subprocess.Popen([sys.executable, "-m", "vecexplore.warmup", "--parent", str(os.getpid())],
                          stdout=subprocess.DEVNULL)
print(worker.pid, flush=True)
threading.Thread(target=worker.wait, daemon=True).start()
time.sleep(600)
"""


def test_the_warm_up_worker_dies_with_the_server(tmp_path):
    """The worker (compiling UMAP into an empty numba cache: minutes) ends within seconds of its server."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "VECEXPLORE_HOME": str(tmp_path / "home")}
    server = subprocess.Popen([sys.executable, "-c", WARMING], stdout=subprocess.PIPE, text=True, env=env)
    worker = int(server.stdout.readline())
    deadline = time.time() + 120
    while alive(worker) and "numba" not in maps(worker) and time.time() < deadline:  # compiling from here on
        time.sleep(0.05)
    server.kill()
    server.wait()
    deadline = time.time() + 20
    while alive(worker) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(worker), "the warm-up worker outlived its server"


def maps(pid: int) -> str:
    """The files process ``pid`` has mapped (its loaded libraries)."""
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""
