"""What every settings section shares: the prefix, the section base class, and the
checks more than one section uses."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from maintenance import pg

ENV_PREFIX = "MAINT_"

TIERS = frozenset({"daily", "weekly", "monthly"})


class Section(BaseModel):
    """One area's settings: its fields, the validators of those fields, and checks that
    involve only them. :class:`maintenance.config.Settings` composes the sections into
    one flat object, so every field stays ``settings.<name>`` and ``MAINT_<NAME>``."""

    #: The heading of this section in docs/configuration.md (a test holds them together).
    TITLE: ClassVar[str] = ""
    #: Fields that may hold credentials: they accept ``MAINT_<NAME>_FILE``, and their
    #: values are masked in every log line, summary and message.
    SECRETS: ClassVar[tuple[str, ...]] = ()


def check_postgres_url(value: SecretStr) -> SecretStr:
    """A postgresql:// URL libpq accepts (:func:`maintenance.pg.check_url` names what is
    wrong, never repeating the URL)."""
    pg.check_url(value.get_secret_value())
    return value


def check_redis_url(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"must be a redis:// URL, got scheme {parts.scheme or 'none'!r}")
    return value


def check_absolute(value: Path | None) -> Path | None:
    """``~`` expanded; a relative path is refused (a worker's working folder is no place
    for backups)."""
    if value is None:
        return None
    value = value.expanduser()
    if not value.is_absolute():
        raise ValueError(f"must be an absolute path, got {str(value)!r}")
    return value


def check_per_tier(value: dict[str, int]) -> dict[str, int]:
    """A value for each backup tier, exactly, none negative."""
    if set(value) != TIERS:
        raise ValueError(f"needs exactly the tiers daily, weekly, monthly (got {sorted(value)})")
    if any(v < 0 for v in value.values()):
        raise ValueError("values must not be negative")
    return value
