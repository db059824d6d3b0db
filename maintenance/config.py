"""Settings: one typed object read from the environment (prefix ``MAINT_``).

Every secret setting can also be given as ``MAINT_<NAME>_FILE``, a path whose content is
the value (Docker and Kubernetes secrets). Giving both is an error. A bad value fails at
start with a :class:`~maintenance.errors.ConfigError` that names the variable.

docs/configuration.md lists every setting; ``tests/unit/test_config.py`` checks that the
document and this class agree.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from maintenance import pg, redact, schema
from maintenance.errors import ConfigError

ENV_PREFIX = "MAINT_"

#: Settings that may hold credentials: they accept ``*_FILE`` and are never logged.
SECRET_FIELDS = (
    "target_dsn",
    "history_dsn",
    "broker_url",
    "result_backend",
    "cache_url",
    "flower_basic_auth",
)


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "maint"


class _FileSecretsSource(PydanticBaseSettingsSource):
    """Reads ``MAINT_<NAME>_FILE`` for the secret settings."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        var = f"{ENV_PREFIX}{field_name.upper()}_FILE"
        path = os.environ.get(var)
        if not path:
            return None, field_name, False
        if os.environ.get(f"{ENV_PREFIX}{field_name.upper()}"):
            raise ConfigError(
                f"{var}: set either {ENV_PREFIX}{field_name.upper()} or {var}, not both"
            )
        try:
            value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{var}: cannot read {path}: {exc.strerror}") from None
        if not value:
            raise ConfigError(f"{var}: {path} is empty")
        return value, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SECRET_FIELDS:
            value, key, _ = self.get_field_value(self.settings_cls.model_fields[name], name)
            if value is not None:
                out[key] = value
        return out


def _check_postgres_url(name: str, value: SecretStr) -> SecretStr:
    pg.check_url(value.get_secret_value())
    return value


def _check_redis_url(value: SecretStr) -> SecretStr:
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"must be a redis:// URL, got scheme {parts.scheme or 'none'!r}")
    return value


class Settings(BaseSettings):
    """Every setting of the suite, with defaults for a developer machine."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    # --- where things are -------------------------------------------------------------
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
        description="The application's Redis cache (a different DB index than the broker).",
    )
    backup_root: Path = Field(
        default_factory=lambda: _state_dir() / "backups",
        description="Root of all backup files (tiers are sub-folders).",
    )
    log_root: Path = Field(
        default_factory=lambda: _state_dir() / "logs",
        description="The scheduler's log folder that log housekeeping manages.",
    )
    api_url: str = Field("http://127.0.0.1:8000", description="The scheduler API's base URL.")
    timezone: str = Field("UTC", description="IANA zone of 'system time' for the calendar.")

    # --- the workers ------------------------------------------------------------------
    queue: str = Field("maintenance", description="Celery queue the tasks are sent to.")
    heartbeat_interval_s: float = Field(
        15.0, gt=0, description="How often a running task refreshes its history row."
    )
    lost_after_s: float = Field(
        90.0, gt=0, description="A running row whose heartbeat is older than this is marked lost."
    )
    retry_backoff_s: float = Field(
        15.0, gt=0, description="First retry delay of a transient failure; doubles, at most 600 s."
    )
    time_limits: dict[str, tuple[int, int]] = Field(
        default_factory=dict,
        description="Per-task [soft, hard] time limits in seconds, overriding the built-in ones.",
    )
    reap_interval_s: float = Field(60.0, gt=0, description="How often beat sends history.reap.")

    # --- logging ----------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO")
    log_format: Literal["json", "console"] = Field("json")

    # --- tasks ------------------------------------------------------------------------
    stats_counts: dict[str, str] = Field(
        default_factory=lambda: dict(schema.STATS_COUNTS),
        description="db.stats count queries, JSON object name -> SQL returning one integer.",
    )

    # --- backups ----------------------------------------------------------------------
    backup_compression_level: int = Field(
        3,
        ge=1,
        le=19,
        description="zstd level of backup files (3: as small as gzip -6, far faster).",
    )
    backup_compression_threads: int = Field(
        0, ge=0, le=64, description="zstd worker threads; 0 means one per CPU core."
    )
    backup_min_free_bytes: int = Field(
        1 << 30, ge=0, description="backup.create refuses to start with less free space than this."
    )
    backup_min_bytes: dict[str, int] = Field(
        default_factory=lambda: {"daily": 10_000_000, "weekly": 50_000_000, "monthly": 50_000_000},
        description="A backup file smaller than this (per tier) fails its size check (playbook: "
        "daily > 10 MB, weekly > 50 MB).",
    )
    backup_budget_bytes: int = Field(
        100 * 10**9, gt=0, description="Total size of BACKUP_ROOT above which retention warns."
    )
    backup_size_window: int = Field(
        7, ge=1, description="How many previous backups of a tier the size-consistency check uses."
    )
    backup_shrink_warn_ratio: float = Field(
        0.5, gt=0, lt=1, description="Warn when a backup is smaller than this share of the median."
    )
    backup_expected_tables: list[str] = Field(
        default_factory=lambda: list(schema.EXPECTED_TABLES),
        description="Tables every backup must contain (the playbook's EXPECTED_TABLES).",
    )
    integrity_checks: dict[str, str] | None = Field(
        None,
        description="Restore checks, name -> SQL returning a count of violations; default: the "
        "scheduler schema's orphan, duplicate and date checks (maintenance/schema.py).",
    )
    retention_days: dict[str, int] = Field(
        default_factory=lambda: {"daily": 7, "weekly": 56, "monthly": 365},
        description="Age in days after which a backup of a tier may be deleted.",
    )
    retention_min_verified: int = Field(
        3,
        ge=1,
        description="Never fewer verified backups than this left in a tier, whatever their age.",
    )
    forensics_keep_days: int = Field(
        30,
        ge=1,
        description="Age in days after which a forensic dump (BACKUP_ROOT/forensics) may go.",
    )
    forensics_min_keep: int = Field(
        3,
        ge=1,
        description="The newest forensic dumps of each database kept whatever their age.",
    )
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
    pg_bin_dir: Path | None = Field(
        None,
        description="Folder of pg_dump/pg_restore/psql; default: the server's major version under "
        "/usr/lib/postgresql, else PATH.",
    )

    # --- restores ---------------------------------------------------------------------
    restore_targets: list[str] | None = Field(
        None,
        description="Databases `maint restore` may replace; default: only the target's own.",
    )
    restore_stop_app_cmd: list[str] | None = Field(
        None, description="argv run before the swap to stop the application (no shell)."
    )
    restore_start_app_cmd: list[str] | None = Field(
        None, description="argv run after the swap to start the application again."
    )
    restore_hook_timeout_s: float = Field(300, gt=0, description="Time limit of each hook command.")
    restore_jobs: int = Field(
        2,
        ge=1,
        le=64,
        description="Parallel COPY streams and index builds of a restore (the server's cores).",
    )
    restore_health_path: str = Field("/api/health", description="Health endpoint of MAINT_API_URL.")
    restore_health_timeout_s: float = Field(
        120, ge=0, description="How long to wait for the API to report healthy after a restore."
    )
    restore_rto_objective_s: float = Field(
        3600, gt=0, description="Recovery time objective: a drill slower than this fails."
    )
    restore_rpo_objective_s: float = Field(
        26 * 3600, gt=0, description="Recovery point objective: a drill on an older backup fails."
    )
    pre_restore_report_days: int = Field(
        7, ge=0, description="backup.retention reports *_pre_restore_* databases older than this."
    )

    # --- Flower -----------------------------------------------------------------------
    flower_basic_auth: SecretStr | None = Field(
        None, description="user:password for Flower's basic auth (passed to Flower by env)."
    )

    # --- cache ------------------------------------------------------------------------
    # The application's Redis cache (MAINT_CACHE_URL, above): docs/cache.md.
    cache_swaps_prefix: str = Field(
        "swaps:", min_length=1, description="cache.clear, step 1 (any time): keys starting so."
    )
    cache_schedule_prefix: str = Field(
        "schedule:",
        min_length=1,
        description="cache.clear, step 2: only while the API reports no active operations.",
    )
    cache_report_prefix: str = Field(
        "report:", min_length=1, description="cache.clear, step 3: keys starting so."
    )
    cache_health_path: str = Field(
        "/api/health",
        description="API health endpoint whose active_operations gates the schedule step.",
    )
    cache_scan_count: int = Field(
        200, ge=1, le=100_000, description="COUNT hint of each SCAN step of a clear."
    )
    cache_batch_ms: float = Field(
        1.0, ge=0, le=100, description="How long one SCAN + UNLINK batch may hold Redis (ms)."
    )
    cache_pause_ms: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="Sleep between two batches of a clear (ms); 0: none (docs/benchmarks.md).",
    )
    cache_memory_alert_ratio: float = Field(
        0.8, gt=0, le=1, description="cache.stats fails above this share of maxmemory."
    )
    cache_hit_ratio_warn: float = Field(
        0.8, ge=0, le=1, description="cache.stats warns below this hit ratio."
    )
    cache_fragmentation_warn: float = Field(
        1.5, gt=1, description="cache.stats warns above this fragmentation ratio."
    )
    cache_analyze_sample: int = Field(
        1000, ge=10, le=100_000, description="Keys cache.analyze samples."
    )
    cache_cold_idle_s: int = Field(
        86_400, ge=60, description="cache.analyze calls a key unused after this idle time."
    )

    @field_validator("cache_health_path")
    @classmethod
    def _cache_health_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must be a path starting with '/', got {value!r}")
        return value

    # --- end of cache -----------------------------------------------------------------

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSecretsSource(settings_cls))

    @field_validator("target_dsn", "history_dsn")
    @classmethod
    def _postgres(cls, value: SecretStr, info: Any) -> SecretStr:
        return _check_postgres_url(info.field_name, value)

    @field_validator("broker_url", "cache_url", "result_backend")
    @classmethod
    def _redis(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else _check_redis_url(value)

    @field_validator("backup_root", "log_root", "offsite_root", "offsite_key_file", "pg_bin_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        if not value.is_absolute():
            raise ValueError(f"must be an absolute path, got {str(value)!r}")
        return value

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

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        if not value or not value.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"{value!r}: use letters, digits, '.', '-' and '_'")
        return value

    @field_validator("flower_basic_auth")
    @classmethod
    def _basic_auth(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("must be user:password")
        return value

    @field_validator("stats_counts")
    @classmethod
    def _counts(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("needs at least one count query")
        for name, sql in value.items():
            if not name.isidentifier():
                raise ValueError(f"count name {name!r} must be an identifier")
            if not sql.lstrip().lower().startswith(("select", "with")):
                raise ValueError(f"count {name!r} must be a SELECT query")
        return value

    @field_validator("backup_min_bytes", "retention_days")
    @classmethod
    def _per_tier(cls, value: dict[str, int]) -> dict[str, int]:
        tiers = {"daily", "weekly", "monthly"}
        if set(value) != tiers:
            raise ValueError(
                f"needs exactly the tiers daily, weekly, monthly (got {sorted(value)})"
            )
        if any(v < 0 for v in value.values()):
            raise ValueError("values must not be negative")
        return value

    @field_validator("backup_expected_tables")
    @classmethod
    def _tables(cls, value: list[str]) -> list[str]:
        for name in value:
            if not all(part.isidentifier() for part in name.split(".")) or name.count(".") > 1:
                raise ValueError(f"{name!r} is not a table name (table or schema.table)")
        return value

    @field_validator("restore_stop_app_cmd", "restore_start_app_cmd")
    @classmethod
    def _argv(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(isinstance(a, str) and a for a in value)):
            raise ValueError(
                'must be a JSON list of arguments, e.g. ["docker", "compose", "stop", "backend"]'
            )
        return value

    @field_validator("restore_targets")
    @classmethod
    def _targets(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for name in value:
                if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", name):
                    raise ValueError(f"{name!r} is not a plain database name")
        return value

    @field_validator("time_limits")
    @classmethod
    def _limits(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for name, (soft, hard) in value.items():
            if not 0 < soft < hard:
                raise ValueError(f"{name}: need 0 < soft < hard, got [{soft}, {hard}]")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.lost_after_s < 2 * self.heartbeat_interval_s:
            raise ValueError(
                "MAINT_LOST_AFTER_S must be at least twice MAINT_HEARTBEAT_INTERVAL_S "
                f"({self.lost_after_s} < 2 x {self.heartbeat_interval_s})"
            )
        if _db_identity(self.target_dsn) == _db_identity(self.history_dsn):
            raise ValueError(
                "MAINT_HISTORY_DSN must not point at the target database: a restore of the "
                "target would erase the record of the restore"
            )
        if self.offsite_root is not None and (
            self.offsite_root == self.backup_root or self.backup_root in self.offsite_root.parents
        ):
            raise ValueError(
                "MAINT_OFFSITE_ROOT must be outside MAINT_BACKUP_ROOT: a second location on the "
                "same disk protects against nothing"
            )
        if self.broker_url.get_secret_value() == self.cache_url.get_secret_value():
            raise ValueError(
                "MAINT_CACHE_URL must differ from MAINT_BROKER_URL: cache clearing would "
                "delete the broker's own keys"
            )
        return self

    # --- derived ----------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def result_backend_url(self) -> str:
        return (self.result_backend or self.broker_url).get_secret_value()

    @property
    def restorable(self) -> list[str]:
        """Databases `maint restore` may replace."""
        return (
            self.restore_targets
            if self.restore_targets is not None
            else [urlsplit(self.target_dsn.get_secret_value()).path.strip("/")]
        )

    def secret_values(self) -> list[str]:
        """Every secret this object holds: whole values and the passwords inside URLs."""
        out: list[str] = []
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            raw = value.get_secret_value()
            if name == "flower_basic_auth":
                out.append(raw.split(":", 1)[1])
            else:
                out.append(redact.url_password(raw) or "")
        return [s for s in out if s]


def _db_identity(dsn: SecretStr) -> tuple[str, int, str]:
    parts = urlsplit(dsn.get_secret_value())
    return (parts.hostname or "localhost", parts.port or 5432, parts.path.strip("/"))


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = f"{ENV_PREFIX}{str(loc[0]).upper()}" if loc else "settings"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{name}: {msg}")
    return "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment; raise ConfigError naming what is wrong."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {redact.scrub(_describe(exc))}") from None
    except SettingsError as exc:  # a complex value (JSON) that does not parse
        match = re.search(r'field "(\w+)"', str(exc))
        name = f"{ENV_PREFIX}{match.group(1).upper()}" if match else "a MAINT_ setting"
        raise ConfigError(f"invalid configuration: {name}: not valid JSON") from None
    redact.register_secrets(settings.secret_values())
    return settings


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
