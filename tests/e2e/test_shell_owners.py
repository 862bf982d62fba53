"""`clientbase owner add|list|remove`: owners kept in the database, besides OWNER_IDS."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_shell import _clientbase


def test_owners_are_added_listed_and_removed_from_the_shell(tmp_path: Path) -> None:
    settings_owner = {"OWNER_IDS": "111"}
    added = _clientbase(tmp_path, "owner", "add", "424242", **settings_owner)
    assert added.returncode == 0, added.stderr
    assert "424242" in added.stdout
    listing = _clientbase(tmp_path, "owner", "list", **settings_owner)
    assert listing.stdout.splitlines() == ["111  (OWNER_IDS)", "424242  (в базе)"]

    from_settings = _clientbase(tmp_path, "owner", "remove", "111", **settings_owner)
    assert from_settings.returncode == 2 and "OWNER_IDS" in from_settings.stderr
    removed = _clientbase(tmp_path, "owner", "remove", "424242", **settings_owner)
    assert removed.returncode == 0, removed.stderr

    audit = _clientbase(tmp_path, "audit", OWNER_IDS="")
    assert "owner_add" in audit.stdout and "owner_remove" in audit.stdout
