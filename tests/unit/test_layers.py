"""Dependencies point one way: handlers -> services -> persistence | downstream.

Read from the source (every ``import`` of every module), so a new import that breaks the
layering fails here, not in a review. What still crosses a line is listed in ``KNOWN`` with
the reason, to be emptied, never added to without one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from server.app import ContractApp
from server.persistence.database import Database
from server.settings import Settings

SERVER = Path(__file__).resolve().parents[2] / "server"

# package -> what its modules must not import
FORBIDDEN = {
    "persistence": (
        "starlette",
        "connexion",
        "server.handlers",
        "server.services",
        "server.http",
        "server.security",
        "server.downstream",
    ),
    "services": (
        "server.handlers",
        "server.http",
        "server.security",
        "server.ratelimit",
        "connexion",
    ),
    "downstream": ("starlette", "connexion", "server.handlers", "server.http", "server.services"),
    # Handlers talk to services only: no transaction, database, settings or gateway of
    # their own. The typed rows they name come from the service that hands them out.
    "handlers": (
        "sqlalchemy",
        "server.persistence",
        "server.downstream",
        "server.settings",
        "server.app",
    ),
}
KNOWN: set[tuple[str, str]] = set()  # (module, import) pairs: none are left


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


MODULES = [
    (package, path) for package in FORBIDDEN for path in sorted((SERVER / package).rglob("*.py"))
]


@pytest.mark.parametrize(
    ("package", "path"), MODULES, ids=[str(p.relative_to(SERVER)) for _, p in MODULES]
)
def test_no_import_against_the_layering(package: str, path: Path) -> None:
    relative = str(path.relative_to(SERVER))
    crossing = {
        name
        for name in imports(path)
        for banned in FORBIDDEN[package]
        if (name == banned or name.startswith(banned + ".")) and (relative, name) not in KNOWN
    }
    assert not crossing, f"{relative} imports {sorted(crossing)}"


def test_the_known_crossings_still_exist() -> None:
    """A crossing that went away leaves ``KNOWN``: the list only shrinks."""
    for relative, name in KNOWN:
        assert name in imports(SERVER / relative), (relative, name)


def test_the_settings_import_nothing_of_the_service() -> None:
    """Settings are read by the composition root and handed down, never the other way."""
    assert not {name for name in imports(SERVER / "settings.py") if name.startswith("server")}


def test_the_domain_errors_speak_no_http() -> None:
    """``server/errors.py`` is what services and persistence raise: it imports nothing of a
    web framework, nor of the service; ``server/http/problems.py`` says how each is answered."""
    assert imports(SERVER / "errors.py") <= {"__future__", "collections.abc", "typing"}


def test_handlers_are_given_services_not_the_database(app: ContractApp) -> None:
    """What the composition root hands to handlers by name: services and the edge's own
    collaborators, never the database, a session or the settings."""
    resources = app.resources
    assert not {"db", "session", "settings"} & set(resources)
    assert not [name for name, value in resources.items() if isinstance(value, Database | Settings)]


# The entry points: they read the environment and build the settings, and hand down what
# each part needs (alembic's CLI enters through migrations/env.py, outside this package).
ENTRY_POINTS = {"__main__.py", "asgi.py", "app.py", "settings.py"}


@pytest.mark.parametrize(
    "path",
    sorted(SERVER.rglob("*.py")),
    ids=[str(p.relative_to(SERVER)) for p in sorted(SERVER.rglob("*.py"))],
)
def test_only_the_entry_points_read_the_environment(path: Path) -> None:
    if str(path.relative_to(SERVER)) in ENTRY_POINTS:
        return
    source = path.read_text(encoding="utf-8")
    found = [word for word in ("os.environ", "getenv(", "Settings(") if word in source]
    assert not found, f"{path.relative_to(SERVER)} reads the settings itself: {found}"
    # Nor is it handed the whole Settings: the composition root gives each part its own
    # few values (Tokens its keys, Guard its limits, the pipeline its EdgeOptions).
    assert "server.settings" not in imports(path), f"{path.relative_to(SERVER)} takes Settings"
