"""The storage layer imports only ``collector.core`` of ours (and its libraries): never the
stages, the drivers or the crawl, so a second backend or a test can stand in for it."""

from __future__ import annotations

import ast
import sys

from conftest import REPO

ALLOWED = {"collector.core", "collector.storage", "sqlite_utils", "datasketch", "numpy", "psycopg", "warcio"}


def _imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = ".".join(path.relative_to(REPO).parent.parts)
            base = "" if node.level == 0 else ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) + "."
            names.add((base + (node.module or "")).rstrip("."))
    return names


def test_storage_imports_only_the_core_and_its_libraries():
    wrong = {}
    for path in sorted((REPO / "collector" / "storage").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or any(name == a or name.startswith(a + ".") for a in ALLOWED):
                continue
            wrong.setdefault(str(path.relative_to(REPO)), []).append(name)
    assert not wrong, f"collector/storage imports outside its layer: {wrong}"


def _members(protocol) -> set[str]:
    """The methods and attributes a protocol names, its bases' included."""
    return {name for cls in protocol.__mro__ if getattr(cls, "_is_protocol", False)
            for name in [*vars(cls), *getattr(cls, "__annotations__", {})] if not name.startswith("_")}


def test_the_store_provides_every_contract(db_url):
    import inspect

    from collector.core import contracts
    from collector.storage import open_store

    store = open_store(db_url)
    parts = {"documents": contracts.DocumentStore, "lsh": contracts.CandidateIndex, "lineage": contracts.LineageStore,
             "chrome": contracts.ChromeMemory, "crawl": contracts.UrlAliases, "provenance": contracts.ProvenanceLog}
    try:
        for attr, protocol in [(None, contracts.Transactions), (None, contracts.Freshness), *parts.items()]:
            part = store if attr is None else getattr(store, attr)
            for name in _members(protocol):
                assert hasattr(part, name), f"store.{attr or ''} lacks {protocol.__name__}.{name}"
                wanted = getattr(protocol, name, None)
                if callable(wanted):
                    expected = list(inspect.signature(wanted).parameters)[1:]
                    assert list(inspect.signature(getattr(part, name)).parameters) == expected, (attr, name)
    finally:
        store.close()
