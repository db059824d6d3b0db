"""Notification channels (a webhook, e-mail over SMTP) and the window notices' templates
(docs/notices.md)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from maintenance.config._base import Section, check_absolute


class NotifySection(Section):
    TITLE = "Notification channels and notices"
    SECRETS: ClassVar[tuple[str, ...]] = ("notify_webhook_url", "notify_smtp_password")

    notify_webhook_url: SecretStr | None = Field(
        None,
        description="Webhook the messages are POSTed to as JSON (Slack-compatible); a secret "
        "(the URL is the credential): never logged or recorded. Unset: no webhook channel.",
    )
    notify_webhook_timeout_s: float = Field(
        5.0, gt=0, le=120, description="Timeout of one webhook request (connect and read)."
    )
    notify_webhook_attempts: int = Field(
        4,
        ge=1,
        le=10,
        description="Webhook attempts in all: a connection error, a timeout, HTTP 429 or 5xx "
        "is tried again after a backoff; another 4xx is not.",
    )
    notify_backoff_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="Wait before the second attempt of a channel; doubled for each further "
        "one (a Retry-After up to 60 s is honoured when longer).",
    )
    notify_smtp_host: str | None = Field(
        None, description="SMTP server of the e-mail channel. Unset: no e-mail channel."
    )
    notify_smtp_port: int = Field(
        587, ge=1, le=65535, description="SMTP port (587 submission, 465 implicit TLS)."
    )
    notify_smtp_tls: Literal["require", "allow", "off"] = Field(
        "require",
        description="STARTTLS: require (refuse to send when the server does not offer it), "
        "allow (use it when offered), off (never). Ignored with MAINT_NOTIFY_SMTP_SSL.",
    )
    notify_smtp_ssl: bool = Field(
        False, description="Implicit TLS from the first byte (SMTPS, port 465)."
    )
    notify_smtp_ca_file: Path | None = Field(
        None,
        description="CA certificate(s) that sign the SMTP server's certificate; default: the "
        "system's. The server's certificate and name are always verified.",
    )
    notify_smtp_username: str | None = Field(
        None, description="SMTP AUTH user; set with MAINT_NOTIFY_SMTP_PASSWORD."
    )
    notify_smtp_password: SecretStr | None = Field(
        None, description="SMTP AUTH password (use MAINT_NOTIFY_SMTP_PASSWORD_FILE)."
    )
    notify_smtp_from: str | None = Field(
        None, description="From address of the e-mails (required with MAINT_NOTIFY_SMTP_HOST)."
    )
    notify_smtp_to: list[str] = Field(
        default_factory=list,
        description='Recipients, a JSON list (["oncall@example.org"]); required with '
        "MAINT_NOTIFY_SMTP_HOST.",
    )
    notify_smtp_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Timeout of each SMTP network operation."
    )
    notify_smtp_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="SMTP attempts in all: a connection error, a timeout or a 4xx reply is "
        "tried again after the backoff; a 5xx reply (refused) is not.",
    )
    notify_templates_dir: Path | None = Field(
        None,
        description="Folder of notice templates (weekly.txt ...) that replace the shipped "
        "ones of the same name; a template missing there is the shipped one.",
    )

    @field_validator("notify_webhook_url")
    @classmethod
    def _notify_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # never repeat the value: the URL is the secret
            raise ValueError("must be an http(s):// URL")
        return value

    @field_validator("notify_smtp_to")
    @classmethod
    def _notify_recipients(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if "@" not in a or any(c in a for c in " ,;<>\r\n")]
        if bad:
            raise ValueError(f"not plain e-mail addresses: {bad}")
        return value

    @field_validator("notify_smtp_ca_file", "notify_templates_dir")
    @classmethod
    def _notify_paths(cls, value: Path | None) -> Path | None:
        return check_absolute(value)

    @model_validator(mode="after")
    def _notify_smtp_complete(self) -> Self:
        if self.notify_smtp_host:
            missing = [
                name
                for name, value in (
                    ("MAINT_NOTIFY_SMTP_FROM", self.notify_smtp_from),
                    ("MAINT_NOTIFY_SMTP_TO", self.notify_smtp_to),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"MAINT_NOTIFY_SMTP_HOST is set: {' and '.join(missing)} must be set too"
                )
        if (self.notify_smtp_username is None) != (self.notify_smtp_password is None):
            raise ValueError(
                "MAINT_NOTIFY_SMTP_USERNAME and MAINT_NOTIFY_SMTP_PASSWORD go together"
            )
        return self
