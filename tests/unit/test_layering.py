"""The layering runs one way: maintenance.fs knows nothing of the areas that use it, and
backup/ does not import restore/ (restore builds on backup)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent.parent / "maintenance"

#: backup/ modules that still reach into restore/, and why; this list only shrinks.
#: create.py counts schema objects with restore.checks.schema_objects (an SQL query that
#: belongs in dbcheck); verify.py's restore level loads into a scratch database with
#: restore's loader, which is moving into the archive-format package.
KNOWN = {"create.py", "verify.py"}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_backup_does_not_import_restore() -> None:
    offenders = {
        str(p.relative_to(PKG / "backup"))
        for p in (PKG / "backup").rglob("*.py")
        if any(m.startswith("maintenance.restore") for m in _imports(p))
    }
    assert offenders <= KNOWN, f"backup/ must not import restore/: {sorted(offenders - KNOWN)}"
    assert "retention" not in {o.split("/")[0].removesuffix(".py") for o in offenders}


def test_fs_knows_nothing_of_the_areas_that_use_it() -> None:
    allowed = {
        "maintenance.fs",
        "maintenance.errors",
        "maintenance.clock",
        "maintenance.logs_setup",
    }
    for path in (PKG / "fs").glob("*.py"):
        ours = {m for m in _imports(path) if m.startswith("maintenance.")}
        assert all(any(m == a or m.startswith(f"{a}.") for a in allowed) for m in ours), (
            path.name,
            sorted(ours),
        )
