"""Where values come from besides the environment (``MAINT_<NAME>_FILE`` for secrets),
and how a validation failure becomes a message that names the variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

from maintenance.config._base import ENV_PREFIX, Section
from maintenance.errors import ConfigError


def secret_fields(settings_cls: type) -> tuple[str, ...]:
    """The SECRETS of every section ``settings_cls`` is composed of, in field order."""
    names = {
        name
        for cls in settings_cls.__mro__
        if isinstance(cls, type) and issubclass(cls, Section)
        for name in vars(cls).get("SECRETS", ())
    }
    fields: dict[str, Any] = getattr(settings_cls, "model_fields", {})
    return tuple(name for name in fields if name in names)


class FileSecretsSource(PydanticBaseSettingsSource):
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
        for name in secret_fields(self.settings_cls):
            value, key, _ = self.get_field_value(self.settings_cls.model_fields[name], name)
            if value is not None:
                out[key] = value
        return out


def describe(exc: ValidationError) -> str:
    """``MAINT_<NAME>: what is wrong`` for each error; ``settings: ...`` for a check that
    involves several settings (its message names them)."""
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = f"{ENV_PREFIX}{str(loc[0]).upper()}" if loc else "settings"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{name}: {msg}")
    return "; ".join(lines)
