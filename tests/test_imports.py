"""No import cycles in the package, and every module imports on its own.

The static check reads every ``import`` under src/ (module level and inside functions)
and fails on a cycle between modules; the dynamic one imports each module first in a
fresh interpreter, where a cycle shows up as a half-initialised module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "carbon_balance"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(_module_name(p) for p in (SRC / PACKAGE).rglob("*.py"))


def _imports(path: Path, name: str) -> set[str]:
    """Package modules ``path`` imports (a package's ``from . import x`` names x)."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = base[:len(base) - node.level + 1]
                stem = ".".join(root + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [stem] + [f"{stem}.{a.name}" for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        name = _module_name(path)
        graph[name] = _imports(path, name)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _parent_packages(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    # importing a.b.c runs a/__init__ and a/b/__init__ first: those edges are not cycles
    graph = {m: {t for t in targets if t not in _parent_packages(m)}
             for m, targets in graph.items()}
    assert _cycle(graph) is None


#: Third-party libraries the driver imports before forking: the children then import only
#: the package, fresh, without paying ~1.5 s of numpy/pandas/numba/GDAL imports each.
THIRD_PARTY = ("numpy", "pandas", "numba", "rasterio", "geopandas", "pyproj", "shapely",
               "dask", "xarray", "matplotlib", "matplotlib.pyplot", "scipy", "statsmodels",
               "statsmodels.api", "pydantic", "typer", "rich", "jinja2", "esda", "libpysal",
               "exactextract", "pyogrio", "rioxarray", "dask.array",
               "mapclassify", "sklearn")

DRIVER = """
import importlib, json, os, sys, traceback
for lib in {third_party!r}:
    importlib.import_module(lib)
assert not any(m.startswith("carbon_balance") for m in sys.modules)
failed = {{}}
for module in {modules!r}:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                     # a child: the package imported first here
        os.close(read)
        try:
            importlib.import_module(module)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as fh:
        message = fh.read()
    if os.waitpid(pid, 0)[1] != 0:
        failed[module] = message[-2000:]
print(json.dumps(failed))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_every_module_imports_first_in_a_fresh_process():
    """Each module is the first of the package imported in its own (forked) process."""
    import json

    modules = [m for m in MODULES if m != f"{PACKAGE}.__main__"]   # that runs the CLI
    code = DRIVER.format(third_party=THIRD_PARTY, modules=modules)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert failed == {}, "\n".join(f"{m}:\n{e}" for m, e in failed.items())
