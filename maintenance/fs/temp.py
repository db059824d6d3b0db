"""The one temp-name format, ``.<final name>.tmp-<pid>-<8 hex>``: :func:`temp_path` makes
it, :func:`temp_target` reads it. Every writer of a temp file (:mod:`.atomic`, pg_dump's
output) and everything that counts or removes leftovers goes through these two, so they
cannot disagree about what a leftover is. What a final name means (a backup's dump, a
log file) is the caller's business."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

TEMP_MARK = ".tmp-"

_TEMP_NAME = re.compile(
    r"^\.(?P<final>[^/]+?)" + re.escape(TEMP_MARK) + r"(?P<pid>[0-9]+)-(?P<rand>[0-9a-f]{8})$",
    re.ASCII,
)


def temp_path(final: Path) -> Path:
    """A hidden, unique temp name beside ``final`` (same folder, so the rename is atomic).
    Random as well as the pid: container pids repeat after a crash."""
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def temp_target(name: str) -> str | None:
    """The final name a temp file named ``name`` was being written for (what
    :func:`temp_path` put in it), or None if ``name`` is not such a temp name."""
    match = _TEMP_NAME.match(name)
    return match.group("final") if match else None


def is_temp(path: Path) -> bool:
    return temp_target(path.name) is not None


def leftovers_of(final: Path) -> list[Path]:
    """The temp files beside ``final`` of writes of ``final`` (interrupted or running)."""
    try:
        entries = sorted(final.parent.iterdir())
    except FileNotFoundError:
        return []
    return [p for p in entries if temp_target(p.name) == final.name]
