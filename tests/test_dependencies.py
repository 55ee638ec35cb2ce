"""Every third-party module the package (and its tests) imports is a declared dependency.

A module that is importable here only because an earlier install left it behind works on
the developer's machine and fails on a user's fresh one (h5netcdf >= 1.8 stopped bringing
h5py, and every NetCDF test failed on a fresh machine while CI stayed green). This test
reads the imports from the source itself (``ast``), maps each top-level module to the
distribution that installs it (``importlib.metadata.packages_distributions``) and checks
that distribution against ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

#: Modules imported directly that come with a declared dependency on purpose, and why
#: they are not declared themselves (docs/developing.md, "Dependencies").
VIA_DECLARED = {
    # pydantic's own compiled core, released in lock-step with it: pinning it apart from
    # pydantic could only produce a combination pydantic refuses.
    "pydantic_core": "pydantic",
}

#: Distributions no module imports by name but the code selects as a backend: each must
#: be declared, or the feature fails on a fresh machine.
BACKENDS = {
    "h5netcdf": "xarray's NetCDF-4 engine (NetCDF inputs' metadata, NetCDF outputs, tests)",
    "h5py": "the HDF5 library h5netcdf reads and writes with (not installed by h5netcdf >= 1.8)",
    "openpyxl": "pandas' reader of .xlsx inventories (the CEADs county workbook)",
}


def _name(requirement: str) -> str:
    """Normalised distribution name of a requirement string (PEP 503)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(*extras: str) -> set[str]:
    project = PYPROJECT["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return {_name(r) for r in reqs}


def _imports(folder: Path) -> dict[str, set[str]]:
    """{top-level module: files importing it} for absolute imports of third-party code."""
    found: dict[str, set[str]] = {}
    local = ({folder.name} | {p.stem for p in folder.rglob("*.py")}
             | {p.name for p in folder.rglob("*") if p.is_dir()})
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "carbon_balance" or top in local:
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _undeclared(folder: Path, declared: set[str]) -> list[str]:
    dists = packages_distributions()
    problems = []
    for module, files in sorted(_imports(folder).items()):
        where = ", ".join(sorted(files)[:3])
        if module in VIA_DECLARED:
            if _name(VIA_DECLARED[module]) not in declared:
                problems.append(f"{module} ({where}) comes with {VIA_DECLARED[module]}, "
                                "which is not declared")
            continue
        names = {_name(d) for d in dists.get(module, [])}
        if not names:
            problems.append(f"{module} ({where}) is not installed: declare the distribution "
                            "that provides it in pyproject.toml")
        elif not names & declared:
            problems.append(f"{module} ({where}) comes from {', '.join(sorted(names))}, "
                            "which pyproject.toml does not declare")
    return problems


def test_every_module_the_package_imports_is_a_declared_dependency():
    assert _undeclared(ROOT / "src", _declared()) == []


def test_every_module_the_tests_import_is_declared_for_the_tests():
    assert _undeclared(ROOT / "tests", _declared("test")) == []


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_backends_the_code_selects_are_declared(backend):
    assert _name(backend) in _declared(), f"{backend}: {BACKENDS[backend]}"


def test_the_check_finds_an_undeclared_import(tmp_path):
    """The check itself can fail: an import of an installed but undeclared distribution
    (pytest, declared only for the tests) and of a module nothing provides."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("import pytest\nimport no_such_module_xyz\nimport numpy\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = _undeclared(pkg, _declared())
    finally:
        ROOT = saved
    assert len(problems) == 2
    assert problems[0].startswith("no_such_module_xyz") and "not installed" in problems[0]
    assert problems[1].startswith("pytest") and "does not declare" in problems[1]
