"""Off-site copies: backup.offsite's second location, its key and its retention. That the
location lies outside MAINT_BACKUP_ROOT is checked where both are known
(:class:`maintenance.config.Settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from maintenance.config._base import Section, check_absolute


class OffsiteSection(Section):
    TITLE = "Off-site copies"

    offsite_root: Path | None = Field(
        None,
        description="Second location for encrypted copies (a mounted NFS/SMB/object-store path).",
    )
    offsite_key_file: Path | None = Field(
        None,
        description="File holding the 32-byte AES-256 key (raw, hex or base64) for off-site copies.",
    )
    offsite_retention_days: int = Field(
        730, ge=1, description="Age after which an off-site copy may go."
    )

    @field_validator("offsite_root", "offsite_key_file")
    @classmethod
    def _offsite_paths(cls, value: Path | None) -> Path | None:
        return check_absolute(value)
