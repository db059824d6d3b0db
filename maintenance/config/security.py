"""security.audit and security.access_review (docs/security.md)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from maintenance.config._base import Section, check_absolute


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s):// URL, got {value!r}")
    return value.rstrip("/")


class SecuritySection(Section):
    TITLE = "Security"

    security_requirement_files: list[Path] = Field(
        default_factory=list,
        description="JSON list of absolute paths: the application backend's requirement files. "
        "security.audit audits their pinned name==version lines with pip-audit and classifies "
        "them outdated or not; an unpinned line is a finding, never guessed.",
    )
    security_audit_own: bool = Field(
        True,
        description="Also audit the suite's own installed packages (this environment).",
    )
    security_osv_url: str = Field(
        "https://api.osv.dev/v1/query",
        description="OSV query endpoint pip-audit asks (its --osv-url): a mirror for offline sites.",
    )
    security_index_url: str = Field(
        "https://pypi.org/simple",
        description="Simple package index (PEP 691 JSON, or HTML) read for the newest versions.",
    )
    security_http_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Time limit of each request to the index, OSV and Flower."
    )
    security_index_concurrency: int = Field(8, ge=1, le=64, description="Index requests at once.")
    security_audit_timeout_s: int = Field(
        900, ge=10, description="Time limit of each pip-audit child process."
    )
    security_eol_warn_days: int = Field(
        183, ge=0, description="A server whose end of life is this near warns (past it fails)."
    )
    security_flower_url: str | None = Field(
        None,
        description="Flower's URL: access_review probes whether it answers without credentials. "
        "Unset: only MAINT_FLOWER_BASIC_AUTH is looked at.",
    )
    security_unseen_days: int = Field(
        90,
        ge=1,
        description="access_review reports a login role not seen connected in the reviews of "
        "this many days (once the reviews span them).",
    )

    @field_validator("security_requirement_files")
    @classmethod
    def _security_files(cls, value: list[Path]) -> list[Path]:
        return [p for p in (check_absolute(v) for v in value) if p is not None]

    @field_validator("security_osv_url", "security_index_url", "security_flower_url")
    @classmethod
    def _security_urls(cls, value: str | None) -> str | None:
        return _http_url(value)
