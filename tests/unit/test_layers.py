"""The import contracts (pyproject.toml, [tool.importlinter]) hold, and they bite: an
upward import added on purpose breaks them. scripts/test runs ``lint-imports`` too."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, venv_bin


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_bin("lint-imports"), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and the contracts, to break on purpose."""
    for name in ("maintenance", "tasks"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "beat_schedule.py", tmp_path / "beat_schedule.py")
    return tmp_path


def test_the_layers_hold(tree: Path) -> None:
    res = _lint(tree)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(
    ("module", "upward", "broken"),
    [
        ("maintenance/backup/layout.py", "maintenance.restore.run", "maintenance.backup is not allowed to import maintenance.restore"),
        ("maintenance/history/store.py", "maintenance.catalog", "maintenance.history is not allowed to import maintenance.catalog"),
        ("maintenance/runner.py", "tasks.app", "maintenance/ is plain Python"),
        ("maintenance/pgarchive/dump.py", "maintenance.backup.layout", "maintenance.pgarchive is not allowed to import maintenance.backup"),
    ],
)
def test_an_upward_import_breaks_them(tree: Path, module: str, upward: str, broken: str) -> None:
    with (tree / module).open("a") as f:
        f.write(f"\nimport {upward}  # noqa: E402, F401\n")
    res = _lint(tree)
    assert res.returncode != 0
    assert broken in res.stdout, res.stdout
