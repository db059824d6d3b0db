from __future__ import annotations

from maintenance import redact


def test_mask_url_hides_only_the_password() -> None:
    assert redact.mask_url("postgresql://app:s3cr3t@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact.mask_url("redis://db:6379/0") == "redis://db:6379/0"


def test_scrub_masks_urls_conninfo_and_registered_secrets() -> None:
    redact.register_secret("Registered-Secret-9")
    text = (
        "failed: postgresql://u:pw1234@h/db and password=hunter22 host=x, "
        "then the value Registered-Secret-9 alone"
    )
    out = redact.scrub(text)
    for secret in ("pw1234", "hunter22", "Registered-Secret-9"):
        assert secret not in out
    assert "postgresql://u:***@h/db" in out


def test_params_with_secret_names_are_masked_whole() -> None:
    params = {"tier": "daily", "api_token": "abc123", "nested": {"password": "x1", "n": 3}}
    assert redact.redact_params(params) == {
        "tier": "daily",
        "api_token": "***",
        "nested": {"password": "***", "n": 3},
    }


def test_short_values_are_not_registered() -> None:
    redact.register_secret("ab")
    assert redact.scrub("tab cab ab") == "tab cab ab"
