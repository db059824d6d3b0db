"""Test doubles that are real files: fabricated backups with valid manifests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from maintenance.backup import layout, manifest
from maintenance.fs import atomic


def fabricate_backup(
    root: Path,
    backup_id: str,
    size: int = 100_000,
    *,
    level: str = "full",
    passed: bool = True,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """A backup as backup.create leaves it, with random bytes for the dump: its manifest
    carries their size and SHA-256 and a verification at ``level``. Returns the bytes."""
    tier, created = layout.parse_id(backup_id)
    folder = atomic.private_dir(root / tier.value)
    data = os.urandom(size)
    with atomic.atomic_write(folder / f"{backup_id}{layout.DUMP_SUFFIX}") as handle:
        handle.write(data)
    manifest.write_document(
        folder / f"{backup_id}{layout.MANIFEST_SUFFIX}",
        {
            "format_version": manifest.FORMAT_VERSION,
            "id": backup_id,
            "tier": tier.value,
            "created_at": created.isoformat(),
            "size_bytes": size,
            "sha256": hashlib.sha256(data).hexdigest(),
            "verification": {"level": level, "passed": passed, "at": created.isoformat()},
        }
        | (extra or {}),
    )
    return data
