"""The package declares every distribution it imports, pinned as constraints.txt pins it.

An import that works only because another dependency happens to pull the distribution in
breaks on the day that dependency drops it; a pin that differs from constraints.txt makes a
fresh install differ from the tested one.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "identity"


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_top_level_modules() -> dict[str, set[str]]:
    """Every absolute import's top-level module in identity/, with the files importing it."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def pyproject_pins() -> dict[str, str]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = {}
    for requirement in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)", requirement)
        assert match, f"{requirement!r} is not pinned with =="
        pins[canonical(match.group(1))] = match.group(3)
    return pins


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version
    return pins


def test_every_third_party_import_is_a_declared_dependency() -> None:
    providers = packages_distributions()
    declared = set(pyproject_pins())
    undeclared = {}
    for module, files in imported_top_level_modules().items():
        if module == "identity" or module in sys.stdlib_module_names:
            continue
        distributions = {canonical(name) for name in providers.get(module, [])}
        assert distributions, f"{module} (imported in {sorted(files)}) is provided by no installed distribution"
        if not distributions & declared:
            undeclared[module] = sorted(distributions)
    assert undeclared == {}, f"imported but not in pyproject.toml's dependencies: {undeclared}"


def test_the_check_sees_the_imports_it_must_see() -> None:
    # Guards the walker itself: these are imported in function bodies or submodules too.
    modules = imported_top_level_modules()
    for module in ("click", "werkzeug", "limits", "flask", "stdnum", "pycountry"):
        assert module in modules


def test_every_dependency_is_pinned_as_constraints_txt_pins_it() -> None:
    pinned = constraints()
    mismatched = {name: (version, pinned.get(name)) for name, version in pyproject_pins().items()
                  if pinned.get(name) != version}
    assert mismatched == {}, "pyproject.toml pin vs constraints.txt: " + repr(mismatched)
