"""The layout holds: the core never imports Streamlit, no module imports itself back (the benchmarks included), the
pages and the CLI call reports instead of doing analysis themselves, and the benchmarks go through the core: nothing
from the pages, no code in strings."""

import ast
import re
from pathlib import Path

from conftest import ROOT

PACKAGES = ("vecexplore", "pages")
SCRIPTS = "bench"  # run as ``python bench/x.py``: bench/ comes first on sys.path, so they import each other as ``x``


def modules() -> dict[str, Path]:
    """Every project module by the name it is imported as: dotted for the packages, bare for the benchmarks."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    for path in sorted((ROOT / SCRIPTS).glob("*.py")):
        assert path.stem not in found and path.stem.split(".")[0] not in PACKAGES, f"{path} shadows a module"
        found[path.stem] = path
    return found


def benchmarks() -> dict[str, Path]:
    return {name: path for name, path in modules().items() if path.parent == ROOT / SCRIPTS}


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


def test_benchmarks_import_nothing_from_the_pages():
    """A benchmark measures what the pages run by calling the same core workflows (e.g. the density draw:
    ``vecexplore.maps.drawing.density_map``), never the pages' own modules."""
    found = []
    for name, path in benchmarks().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{name}: {n}" for n in named if n.split(".")[0] in ("pages", "app")]
    assert benchmarks() and not found, found


def test_benchmarks_hold_no_code_in_strings():
    """What a fresh process runs is a function in a script (``python bench/fresh.py <stage>``), not Python source
    in a string handed to ``python -c`` or ``exec``."""
    found = []
    for name, path in benchmarks().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "-c":
                found.append(f"{name}:{node.lineno}: python -c")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval"):
                found.append(f"{name}:{node.lineno}: {node.func.id}")
    assert not found, found


def test_only_the_whole_run_gathers_other_benchmarks():
    """``run.py`` gathers the sections; every other benchmark imports only helpers (modules that are not scripts:
    ``common`` and the like), so none imports another's entry script and none imports ``run`` back."""
    mods = modules()
    scripts = {name for name, path in benchmarks().items() if "__main__" in path.read_text(encoding="utf-8")}
    assert {"run", "speed", "fresh"} <= scripts and "common" not in scripts
    found = {name: imports(path, set(mods)) & scripts for name, path in benchmarks().items() if name != "run"}
    assert not any(found.values()), found
