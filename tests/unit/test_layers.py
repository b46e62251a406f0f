"""The layering rules of STYLE.md, checked on the import statements of the tree."""
from __future__ import annotations

import ast
import importlib.metadata
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = ("identity", "compute", "image", "network", "blockstorage", "objectstore",
            "dashboard")


def _modules(package: str) -> list[tuple[str, set[str]]]:
    found = []
    for root, _dirs, files in os.walk(os.path.join(REPO, package)):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            with open(path) as handle:
                tree = ast.parse(handle.read(), path)
            imports: set[str] = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imports.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imports.add(node.module)
            found.append((os.path.relpath(path, REPO), imports))
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return ["%s imports %s" % (path, name) for path, imports in _modules(package)
            for name in sorted(imports)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_common_imports_no_service() -> None:
    assert _offenders("common", SERVICES) == []


@pytest.mark.parametrize("service", SERVICES)
def test_services_import_no_other_service(service: str) -> None:
    others = tuple(s for s in SERVICES if s != service)
    assert _offenders(service, others) == []


def test_identity_api_does_not_import_db() -> None:
    assert _offenders(os.path.join("identity", "api"), ("identity.db",)) == []


def test_no_eventlet() -> None:
    for package in ("common",) + SERVICES:
        assert _offenders(package, ("eventlet",)) == []


@pytest.mark.parametrize("package", ("common",) + SERVICES)
def test_no_other_distribution_provides_our_top_level_names(package: str) -> None:
    # Our packages have generic names (common, image, network...): an installed
    # distribution shipping the same top-level name would shadow one of them.
    providers = set(importlib.metadata.packages_distributions().get(package, ["stratus"]))
    assert providers == {"stratus"}, providers


def test_test_module_names_are_unique() -> None:
    """pytest imports test modules by basename (no __init__.py in tests/): two
    files with one name make the second fail to import, in CI only."""
    seen: dict[str, str] = {}
    clashes = []
    for root, _dirs, files in os.walk(os.path.join(REPO, "tests")):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                path = os.path.relpath(os.path.join(root, name), REPO)
                if name in seen:
                    clashes.append("%s and %s" % (seen[name], path))
                seen[name] = path
    assert clashes == []
