"""The machine a measurement ran on: what every speed figure names beside it (CPUs differ: Intel AVX-512/AMX vs
AMD EPYC), and the versions of the libraries that did the work."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

LIBRARIES = ("vecexplore", "torch", "sentence-transformers", "transformers", "onnxruntime", "model2vec",
             "scikit-learn", "numpy")


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what the platform says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def versions(libraries: Sequence[str] = LIBRARIES) -> dict[str, str]:
    """The installed version of each library (those not installed are left out)."""
    found = {}
    for lib in libraries:
        try:
            found[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            continue
    return found


def describe(libraries: Sequence[str] = LIBRARIES) -> dict:
    """CPU, cores, memory, Python and library versions."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "memory_gib": round(memory, 1),
            "python": platform.python_version(), "versions": versions(libraries)}
