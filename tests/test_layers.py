"""Imports point down (docs/architecture.md): read from the source with `ast`, nothing imported.

Edges: the HTTP layer (`faktur/http/`, `faktur/auth.py`, `faktur/app.py`), the dialects
(`faktur/dialects/`), each domain's `endpoints.py`, and the command line (`faktur/cli*.py` and each
domain's `cli.py`). Every other module is below the edges: it imports no edge module and none of the
frameworks that belong to an edge (FastAPI, Starlette, Typer, Rich). `calc/` is pure: it imports
nothing of faktur outside `calc/`. `models/` imports only `models/` and modules that stand alone
(import nothing of faktur: `errors`, `field_paths`, ...); the base modules under every domain (paging,
request context, field paths, field types) import only one another, `errors`, `models`, `calc` and
modules that stand alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SOURCE / "faktur"

EDGE_PACKAGES = ("faktur.http", "faktur.dialects")
EDGE_MODULES = ("faktur.auth", "faktur.app")
EDGE_LEAVES = ("endpoints", "cli")  # faktur.<domain>.endpoints, faktur.<domain>.cli
EDGE_FRAMEWORKS = ("fastapi", "starlette", "typer", "rich")
BASE_MODULES = ("faktur.paging", "faktur.context", "faktur.field_paths", "faktur.fields")
BASE_MAY_IMPORT = (*BASE_MODULES, "faktur.errors", "faktur.models", "faktur.calc")


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def is_edge(module: str) -> bool:
    parts = module.split(".")
    if any(_within(module, package) for package in EDGE_PACKAGES) or module in EDGE_MODULES:
        return True
    if len(parts) == 2 and (parts[1] == "cli" or parts[1].startswith("cli_")):
        return True
    return len(parts) == 3 and parts[2] in EDGE_LEAVES


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exists(module: str) -> bool:
    path = SOURCE.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _path(module: str) -> Path:
    path = SOURCE.joinpath(*module.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"


def stands_alone(module: str) -> bool:
    """A module of faktur that imports nothing of faktur: it cannot drag a layer in."""
    path = _path(module)
    if not path.is_file():
        return False
    imported = imported_modules(module, path.read_text(), is_package=path.name == "__init__.py")
    return not any(_within(target, "faktur") for target in imported)


def imported_modules(module: str, source: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module `source` imports, at any depth (in functions, under TYPE_CHECKING too);
    `from faktur.billing import queue` names faktur.billing.queue, the module it reaches."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: len(module.split(".")) - node.level + int(is_package)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield target if _exists(target) else base


def _modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for path in PACKAGE.rglob("*.py"))


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What `module` imports against the layering rules, one line each."""
    if is_edge(module):
        return []
    found = []
    for target in sorted(set(imported_modules(module, source, is_package=is_package))):
        root = target.split(".")[0]
        if root in EDGE_FRAMEWORKS:
            found.append(f"{module} imports {target}: frameworks of the edges stay in the edges")
        elif root != "faktur":
            continue
        elif is_edge(target):
            found.append(f"{module} imports {target}: an edge, above this module")
        elif _within(module, "faktur.calc") and not _within(target, "faktur.calc"):
            found.append(f"{module} imports {target}: calc is pure and stands alone")
        elif _within(module, "faktur.models") and not (
            _within(target, "faktur.models") or stands_alone(target)
        ):
            found.append(f"{module} imports {target}: models import only models and modules that stand alone")
        elif module in BASE_MODULES and not (
            any(_within(target, base) for base in BASE_MAY_IMPORT) or stands_alone(target)
        ):
            found.append(f"{module} imports {target}: a base module imports only the base")
    return found


def test_the_layers_hold_in_every_module() -> None:
    modules = _modules()
    assert len(modules) > 100, "the walk found too few modules: is SOURCE right?"
    found = [
        line
        for module, path in modules
        for line in violations(module, path.read_text(), is_package=path.name == "__init__.py")
    ]
    assert found == [], "\n".join(found)


def test_every_edge_named_in_the_rules_exists() -> None:
    """A rule about a module that was renamed away would guard nothing."""
    for module in (*EDGE_PACKAGES, *EDGE_MODULES, "faktur.cli", *BASE_MODULES):
        assert _exists(module), module


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("faktur.sql", "from faktur.http.pagination import Cursor"),
        ("faktur.usage.service", "from faktur.http import error_handlers"),
        ("faktur.organisations.service", "import faktur.auth"),
        ("faktur.billing.runs", "def f():\n    from faktur.dialects.common import actor"),
        ("faktur.billing.queue", "from rich.console import Console"),
        ("faktur.invoices.service", "from faktur.invoices import endpoints"),
        ("faktur.documents.service", "from faktur.cli_database import open_engine"),
        ("faktur.invoices.repository", "from ..http.deps import SessionDep"),
        ("faktur.calc.totals", "from faktur.errors import FakturError"),
        ("faktur.models.invoice", "from faktur.calc import Money"),
        ("faktur.models.invoice", "from faktur.invoices.rows import build_rows"),
        ("faktur.paging", "from faktur.invoices import repository"),
    ],
)
def test_an_import_against_the_layers_is_found(module: str, source: str) -> None:
    assert len(violations(module, source)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("faktur.invoices.endpoints", "from faktur.http.pagination import Page"),
        ("faktur.dialects.common", "from faktur.auth import authenticate"),
        ("faktur.billing.cli", "from rich.console import Console"),
        ("faktur.cli_database", "from rich.console import Console"),
        ("faktur.sql", "from faktur.paging import Cursor"),
        ("faktur.billing.runs", "from faktur.context import Actor"),
        ("faktur.calc.totals", "from .errors import CalcError"),
        ("faktur.context", "from faktur.models import Organisation"),
        ("faktur.models.invoice", "from faktur.field_paths import field_path"),
        ("faktur.paging", "from faktur.fields import text"),
    ],
)
def test_an_import_that_points_down_is_allowed(module: str, source: str) -> None:
    assert violations(module, source) == []
