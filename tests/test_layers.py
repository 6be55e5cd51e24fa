"""The layers, enforced: every import of our own code, read from the source (no import runs).

collector.core    what every side needs: imports nothing of ours outside itself
pipelines         the stages: collector.core only (and one another)
collector.storage the store: collector.core only
none of them      imports the CLI
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from conftest import REPO

OURS = ("collector", "pipelines")


def imports_of(package: str) -> dict[str, set[str]]:
    """module -> the modules of ours it imports (relative imports resolved), for every .py under ``package``."""
    found = {}
    for path in sorted((REPO / package.replace(".", "/")).rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module
                names.update([base] if node.module else [f"{base}.{alias.name}" for alias in node.names])
        found[module] = {n for n in names if n.split(".")[0] in OURS}
    return found


def breaches(package: str, allowed: tuple[str, ...]) -> list[str]:
    return [f"{module} imports {name}" for module, names in imports_of(package).items() for name in sorted(names)
            if not any(name == a or name.startswith(a + ".") for a in allowed)]


def test_core_imports_nothing_of_ours_outside_core():
    assert breaches("collector.core", ("collector.core",)) == []


def test_pipelines_import_only_core():
    assert breaches("pipelines", ("collector.core", "pipelines")) == []


@pytest.mark.skipif(not (REPO / "collector" / "storage").is_dir(), reason="collector/storage/ does not exist yet")
def test_storage_imports_only_core():
    assert breaches("collector.storage", ("collector.core", "collector.storage")) == []


def test_no_lower_layer_imports_the_cli():
    lower = [p for p in ("collector.core", "pipelines", "collector.storage") if (REPO / p.replace(".", "/")).is_dir()]
    assert [f"{module} imports {name}" for p in lower for module, names in imports_of(p).items()
            for name in names if name == "collector.cli" or name.startswith("collector.cli.")] == []


def test_the_walk_sees_relative_and_absolute_imports():
    found = imports_of("collector.cli")
    assert "collector.core.errors" in found["collector.cli"]  # from ..core.errors import ...
    assert "collector.cli.common" in found["collector.cli.query"]  # from .common import ...


def test_loading_site_configs_loads_no_numerics():
    code = ("import sys, collector.core.sites; "
            "print(sorted(m for m in ('numpy', 'datasketch', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
