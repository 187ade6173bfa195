"""Data flows one way between the apps (CONVENTIONS: shops -> loyalty -> pricing,
notifications): the graph of imports between them, read from the source (imports inside
functions too), has no cycle."""

import ast
from pathlib import Path

import pytest

APPS = ("shops", "loyalty", "pricing", "notifications")
ROOT = Path(__file__).resolve().parent.parent


def imported_apps(app: str) -> dict[str, set[str]]:
    """{other app: the files of `app` that import it}."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in APPS and top != app:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


GRAPH = {app: imported_apps(app) for app in APPS}


def test_shops_imports_no_other_app():
    assert GRAPH["shops"] == {}


def test_loyalty_does_not_import_notifications_or_pricing():
    assert "notifications" not in GRAPH["loyalty"]
    assert "pricing" not in GRAPH["loyalty"]


def cycle_from(app, path=()):
    if app in path:
        return (*path[path.index(app):], app)
    for other in GRAPH[app]:
        if found := cycle_from(other, (*path, app)):
            return found
    return None


@pytest.mark.parametrize("app", APPS)
def test_no_import_cycle_between_apps(app):
    cycle = cycle_from(app)
    assert cycle is None, " -> ".join(cycle) + f": {GRAPH}"
