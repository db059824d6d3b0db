"""Settings: one typed object read from the environment (prefix ``MAINT_``).

Every secret setting can also be given as ``MAINT_<NAME>_FILE``, a path whose content is
the value (Docker and Kubernetes secrets). Giving both is an error. A bad value fails at
start with a :class:`~maintenance.errors.ConfigError` that names the variable.

One section per area, composed into the one flat :class:`Settings` (so every field is
``settings.<name>``, read from ``MAINT_<NAME>``)::

    core        where things are: databases, Redis, folders, the API, client tools, zone
    workers     the queue, heartbeats, lost runs, retries, time limits
    logging     the suite's own log stream
    stats       the exact counts (db.stats, backup manifests, restored copies)
    backup      backup.create and backup.verify
    retention   backup.retention: ages, floors, forensic dumps
    offsite     backup.offsite
    restore     maint restore, restore.drill, checks of a restored copy
    cache       the cache tasks (the application's Redis)
    logs        logs.rotate, logs.cleanup, logs.report: patterns, rotation, hosts
    upkeep      the db.* upkeep tasks: timeouts per statement kind, the session pre-check
    security    security.audit and security.access_review
    health      health.check, health.deep, maint health: time limits, thresholds, dead man's switch
    flower      Flower
    notify      the notification channels (webhook, e-mail) and the notices' templates
    alerts      when a change of health, or a failed or lost run, is announced
    calendar    the calendar's blackouts: survey weeks, extra dates, the publication query
    beat        beat's leadership (standby poll, lock name) and what counts as on time
    capacity    capacity.forecast: history needed, warning horizon, tier budgets
    smoke       test.smoke and test.baseline: the requests, their timeout, regressions
    report      the monthly report: its folder, whether it is sent, rows per table
    metrics     maint status (the on-call screen's thresholds) and maint metrics (Prometheus)

A new area (logs, cache, dbmaint, health, calendar ...) adds its settings like this:

1. ``maintenance/config/<area>.py`` with ``class <Area>Section(Section)``: its ``TITLE``
   (the heading of its table in docs/configuration.md), its fields, each a ``Field``
   with its default and a ``description`` that says what the code does with it, the
   field validators of those fields, a ``model_validator(mode="after")`` for checks
   among them, and the names of any that may hold a credential in ``SECRETS``. Give
   each validator a name no other section uses (e.g. ``_<area>_paths``): the sections
   are mixins, and a validator named like another section's would replace it;
2. the class in :data:`SECTIONS` (the order of the docs) and among the bases of
   :class:`Settings` (in reverse: pydantic puts the last base's fields first);
3. a table of its own in docs/configuration.md under that heading.

``tests/unit/test_config.py`` checks that the document and the sections agree. A check
that involves two sections' fields lives in :class:`Settings` itself. A ``MAINT_`` name,
once given to operators, keeps its spelling and meaning.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from maintenance import redact
from maintenance.config._base import ENV_PREFIX, Section
from maintenance.config._sources import FileSecretsSource, describe, secret_fields
from maintenance.config.alerts import AlertsSection
from maintenance.config.backup import BackupSection
from maintenance.config.beat import BeatSection
from maintenance.config.cache import CacheSection
from maintenance.config.calendar import CalendarSection
from maintenance.config.capacity import CapacitySection
from maintenance.config.core import CoreSection
from maintenance.config.flower import FlowerSection
from maintenance.config.health import HealthSection
from maintenance.config.logging import LoggingSection
from maintenance.config.logs import LogsSection
from maintenance.config.metrics import MetricsSection
from maintenance.config.notify import NotifySection
from maintenance.config.offsite import OffsiteSection
from maintenance.config.report import ReportSection
from maintenance.config.restore import RestoreSection
from maintenance.config.retention import RetentionSection
from maintenance.config.security import SecuritySection
from maintenance.config.smoke import SmokeSection
from maintenance.config.stats import StatsSection
from maintenance.config.upkeep import UpkeepSection
from maintenance.config.workers import WorkersSection
from maintenance.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "SECRET_FIELDS",
    "SECTIONS",
    "Section",
    "Settings",
    "get_settings",
    "load_settings",
]

#: Every section, in the order of docs/configuration.md.
SECTIONS: tuple[type[Section], ...] = (
    CoreSection,
    WorkersSection,
    LoggingSection,
    StatsSection,
    BackupSection,
    RetentionSection,
    OffsiteSection,
    RestoreSection,
    CacheSection,
    LogsSection,
    UpkeepSection,
    SecuritySection,
    HealthSection,
    FlowerSection,
    NotifySection,
    AlertsSection,
    CalendarSection,
    BeatSection,
    CapacitySection,
    SmokeSection,
    ReportSection,
    MetricsSection,
)


class Settings(
    # the reverse of SECTIONS: pydantic orders the fields of the last base first
    MetricsSection,
    ReportSection,
    SmokeSection,
    CapacitySection,
    BeatSection,
    CalendarSection,
    AlertsSection,
    NotifySection,
    FlowerSection,
    HealthSection,
    SecuritySection,
    UpkeepSection,
    LogsSection,
    CacheSection,
    RestoreSection,
    OffsiteSection,
    RetentionSection,
    BackupSection,
    StatsSection,
    LoggingSection,
    WorkersSection,
    CoreSection,
    BaseSettings,
):
    """Every setting of the suite, with defaults for a developer machine."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, FileSecretsSource(settings_cls))

    # --- checks across sections ---------------------------------------------------------
    @model_validator(mode="after")
    def _offsite_elsewhere(self) -> Self:
        if self.offsite_root is not None and (
            self.offsite_root == self.backup_root or self.backup_root in self.offsite_root.parents
        ):
            raise ValueError(
                "MAINT_OFFSITE_ROOT must be outside MAINT_BACKUP_ROOT: a second location on the "
                "same disk protects against nothing"
            )
        return self

    # --- derived ------------------------------------------------------------------------
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
            elif name in WHOLE_SECRETS:
                out.append(raw)
            else:
                out.append(redact.url_password(raw) or "")
        return [s for s in out if s]


#: Secrets that are secret whole, not only the password inside a URL: a webhook's URL is
#: its credential, an SMTP password is a bare value, a dead man's switch URL holds its
#: check's UUID.
WHOLE_SECRETS: tuple[str, ...] = (
    "notify_webhook_url",
    "notify_smtp_password",
    "health_deadman_url",
)

#: Settings that may hold credentials: they accept ``*_FILE`` and are never logged.
SECRET_FIELDS: tuple[str, ...] = secret_fields(Settings)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment; raise ConfigError naming what is wrong."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {redact.scrub(describe(exc))}") from None
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
