"""The layout holds: the core never imports Streamlit, no module imports itself back, and the pages and the CLI
call reports instead of doing analysis themselves."""

import ast
import re
from pathlib import Path

from conftest import ROOT

PACKAGES = ("vecexplore", "pages")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            sub = {f"{node.module}.{a.name}" for a in node.names} & known
            out |= sub or ({node.module} & known)
    return out


def test_no_import_cycle():
    mods = modules()
    graph = {name: imports(path, set(mods)) - {name} for name, path in mods.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                cycle = trail[trail.index(other):] + [other] if other in trail else [name, other]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if other not in state:
                visit(other, [*trail, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_core_never_imports_streamlit():
    core = [p for name, p in modules().items() if name.startswith("vecexplore")]
    assert core and not [p for p in core if re.search(r"^\s*(import|from) streamlit", p.read_text(), re.M)]


# what doing analysis in a page or the CLI looks like: statistics, thresholds, loops over models
ANALYSIS = re.compile(r"np\.(mean|median|std|linalg|corrcoef)|(import|from) (scipy|sklearn)|(scipy|sklearn)\.|"
                      r"spearmanr|pearsonr|\.mean\(\)|^\s*for \w+ in (models|model_ids)\b|p_value\w* [<>]|"
                      r"[<>]=? 0\.0[15]\b")


def test_pages_and_cli_leave_analysis_to_the_core():
    shells = [p for name, p in modules().items()
              if name.startswith(("pages", "vecexplore.cli.")) or name == "vecexplore.cli"]
    assert ROOT / "vecexplore" / "cli" / "maps.py" in shells  # every command module of the CLI is scanned
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in shells
             for n, line in enumerate(p.read_text().splitlines(), 1) if ANALYSIS.search(line)]
    assert not found, found
