"""Where the monthly reports are kept: ``MAINT_REPORT_DIR`` (default
``MAINT_BACKUP_ROOT/reports``), a 0700 folder of ``maintenance-report-YYYY-MM.html`` and
``.json`` files, each 0600 and written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from maintenance.config import Settings
from maintenance.fs import atomic, digest

PREFIX = "maintenance-report-"


def folder(settings: Settings) -> Path:
    return settings.report_dir or settings.backup_root / "reports"


def paths(settings: Settings, month: str) -> tuple[Path, Path]:
    """(html, json) of ``month`` (already checked: YYYY-MM)."""
    base = folder(settings) / f"{PREFIX}{month}"
    return base.with_suffix(".html"), base.with_suffix(".json")


def filename(month: str) -> str:
    return f"{PREFIX}{month}.html"


def fingerprint(data: dict[str, Any]) -> str:
    """SHA-256 of the report's content without its sign-offs: what a signature signs
    (the same before and after other sign-offs are added)."""
    return digest.of_bytes(encode({k: v for k, v in data.items() if k != "approvals"}))


def encode(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=False, default=str) + "\n").encode()


def write(settings: Settings, month: str, data: dict[str, Any], page: str) -> tuple[Path, Path]:
    """Write both files (the JSON last: its presence says the report was built)."""
    atomic.private_dir(folder(settings))
    html_path, json_path = paths(settings, month)
    atomic.write_bytes(html_path, page.encode())
    atomic.write_bytes(json_path, encode(data))
    return html_path, json_path


def read(settings: Settings, month: str) -> dict[str, Any] | None:
    """The report's data, or None when it was never built."""
    _, json_path = paths(settings, month)
    if not json_path.is_file():
        return None
    data: dict[str, Any] = json.loads(json_path.read_bytes())
    return data
