"""Business rules must be reusable by another messenger: no aiogram below the handlers."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSENGER_FREE = ["bot/domain", "bot/services", "db"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", MESSENGER_FREE)
def test_no_messenger_imports(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / package).rglob("*.py")
        if any(
            name.split(".")[0] in {"aiogram", "handlers"} or name.startswith("bot.telegram")
            for name in _imports(path)
        )
    ]
    assert offenders == []
