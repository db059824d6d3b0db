"""Flower, the workers' web console."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from maintenance.config._base import Section


class FlowerSection(Section):
    TITLE = "Flower"
    SECRETS: ClassVar[tuple[str, ...]] = ("flower_basic_auth",)

    flower_basic_auth: SecretStr | None = Field(
        None,
        description="user:password for Flower's basic auth: checked and masked in logs here; "
        "scripts/run-local hands it to Flower as FLOWER_BASIC_AUTH.",
    )

    @field_validator("flower_basic_auth")
    @classmethod
    def _basic_auth(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("must be user:password")
        return value
