"""Where things are: the databases, Redis, the folders, the scheduler API, the client
tools and the zone of "system time"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from maintenance.config._base import (
    Section,
    check_absolute,
    check_postgres_url,
    check_redis_url,
)


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "maint"


class CoreSection(Section):
    TITLE = "Where things are"
    SECRETS: ClassVar[tuple[str, ...]] = (
        "target_dsn",
        "history_dsn",
        "broker_url",
        "result_backend",
        "cache_url",
    )

    target_dsn: SecretStr = Field(
        SecretStr("postgresql://postgres@127.0.0.1:5432/residency_scheduler"),
        description="The scheduler database that is backed up, verified and restored.",
    )
    history_dsn: SecretStr = Field(
        SecretStr("postgresql://postgres@127.0.0.1:5432/maintenance"),
        description="The job-history database; never the target (a restore must not erase "
        "its own record).",
    )
    broker_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"), description="Celery broker (Redis)."
    )
    result_backend: SecretStr | None = Field(
        None, description="Celery result backend; defaults to the broker URL."
    )
    cache_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/1"),
        description="The application's Redis cache; must differ from the broker URL. No task "
        "reads it yet (the cache tasks will).",
    )
    backup_root: Path = Field(
        default_factory=lambda: _state_dir() / "backups",
        description="Root of all backup files (tiers are sub-folders).",
    )
    log_root: Path = Field(
        default_factory=lambda: _state_dir() / "logs",
        description="The scheduler's log folder on the host that writes it: logs.rotate, "
        "logs.cleanup and logs.report touch nothing outside it and follow no link.",
    )
    api_url: str = Field(
        "http://127.0.0.1:8000",
        description="The scheduler API's base URL (restore.run probes its health there).",
    )
    timezone: str = Field("UTC", description="IANA zone of 'system time' for the calendar.")
    pg_bin_dir: Path | None = Field(
        None,
        description="Folder of pg_dump/pg_restore/psql; default: the server's major version under "
        "/usr/lib/postgresql, else PATH.",
    )

    @field_validator("target_dsn", "history_dsn")
    @classmethod
    def _postgres(cls, value: SecretStr) -> SecretStr:
        return check_postgres_url(value)

    @field_validator("broker_url", "cache_url", "result_backend")
    @classmethod
    def _redis(cls, value: SecretStr | None) -> SecretStr | None:
        return check_redis_url(value)

    @field_validator("backup_root", "log_root", "pg_bin_dir")
    @classmethod
    def _core_paths(cls, value: Path | None) -> Path | None:
        return check_absolute(value)

    @field_validator("api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s):// URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known IANA time zone (e.g. America/New_York)"
            ) from None
        return value

    @model_validator(mode="after")
    def _apart(self) -> Self:
        if _db_identity(self.target_dsn) == _db_identity(self.history_dsn):
            raise ValueError(
                "MAINT_HISTORY_DSN must not point at the target database: a restore of the "
                "target would erase the record of the restore"
            )
        if self.broker_url.get_secret_value() == self.cache_url.get_secret_value():
            raise ValueError(
                "MAINT_CACHE_URL must differ from MAINT_BROKER_URL: cache clearing would "
                "delete the broker's own keys"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def result_backend_url(self) -> str:
        return (self.result_backend or self.broker_url).get_secret_value()


def _db_identity(dsn: SecretStr) -> tuple[str, int, str]:
    parts = urlsplit(dsn.get_secret_value())
    return (parts.hostname or "localhost", parts.port or 5432, parts.path.strip("/"))
