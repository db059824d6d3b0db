"""Helpers of the log tests: settings for a folder, running a task in-process, reading
logs back through the real zcat, file ages."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maintenance import catalog, runner
from maintenance.config import Settings, load_settings
from maintenance.results import Trigger

_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>[0-9]+)(\.gz)?$")


def log_settings(root: Path, **kw: object) -> Settings:
    return load_settings(log_root=root, **kw)


def run(task: str, settings: Settings, **params: object) -> runner.Outcome:
    return runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)


def checks(outcome: runner.Outcome) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in (outcome.result or {}).get("checks", [])}


def read_log(path: Path) -> bytes:
    """A log's bytes: plain, or through the real zcat."""
    if path.name.endswith(".gz"):
        return subprocess.run(["zcat", str(path)], check=True, capture_output=True).stdout
    return path.read_bytes()


def family(root: Path, base: str) -> list[Path]:
    """Every file of a log, oldest first: the highest number first, the live log last."""
    rotated = []
    for p in root.iterdir():
        m = _NUMBERED.match(p.name)
        if m and m.group("base") == base:
            rotated.append((int(m.group("n")), p))
    out = [p for _, p in sorted(rotated, reverse=True)]
    live = root / base
    return out + ([live] if live.exists() else [])


def set_age(path: Path, age: timedelta) -> None:
    t = (datetime.now(UTC) - age).timestamp()
    os.utime(path, (t, t), follow_symlinks=False)


def gz(path: Path, data: bytes, age: timedelta | None = None) -> Path:
    path.write_bytes(gzip.compress(data))
    if age is not None:
        set_age(path, age)
    return path


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``root`` (links not followed): size, mtime, content hash."""
    out = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(top) / name
            st = p.lstat()
            digest = (
                hashlib.sha256(p.read_bytes()).hexdigest()
                if p.is_file() and not p.is_symlink()
                else ""
            )
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture
def logroot(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    root.mkdir()
    return root


def month(age: timedelta) -> str:
    """The local month (the tests' MAINT_TIMEZONE) of a file last written ``age`` ago."""
    return (datetime.now(UTC) - age).astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m")
