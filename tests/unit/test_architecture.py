"""The import rules of the layers (see README, Layout): imports point down only.

The domain is pure rules; services reuse it for every messenger and the till; handlers are thin
adapters that reach the database only through services; nothing but the assembly wires handlers.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module in {"bot", "handlers", "db"}:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot/domain", ("aiogram", "sqlalchemy", "db", "bot.services", "bot.telegram", "handlers")),
        ("bot/services", ("aiogram", "bot.telegram", "handlers", "bot.pos", "bot.cli")),
        ("bot/render", ("aiogram", "sqlalchemy", "db", "bot.services", "handlers")),
        ("db", ("aiogram", "handlers", "bot.services", "bot.telegram")),
        ("handlers", ("db", "bot.cli", "bot.pos")),
        ("bot/telegram", ("handlers",)),
    ],
)
def test_layers_import_down_only(package: str, forbidden: tuple[str, ...]) -> None:
    assert _offenders(package, forbidden) == []


def test_handlers_do_not_import_each_other() -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in (ROOT / "handlers").glob("*.py")
        if path.name != "__init__.py"
        for name in _imports(path)
        if name == "handlers" or name.startswith("handlers.")
    ]
    assert offenders == []


def test_only_the_assembly_imports_handlers() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("bot", "db")
        for path in (ROOT / package).rglob("*.py")
        if path.relative_to(ROOT).as_posix() != "bot/app.py"
        and any(name == "handlers" or name.startswith("handlers.") for name in _imports(path))
    ]
    assert offenders == []


def test_no_private_imports_across_modules() -> None:
    """A name with a leading underscore is a module's own: share it under a public name."""
    offenders = []
    for package in ("bot", "handlers", "db"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    private = [a.name for a in node.names if a.name.startswith("_")]
                    if private and node.module.split(".")[0] in {"bot", "handlers", "db"}:
                        offenders.append(f"{path.relative_to(ROOT)}: {node.module}.{private}")
    assert offenders == []
