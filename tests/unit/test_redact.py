from __future__ import annotations

import pytest

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


# Whole secret names only: a key is secret when one of its words (split on "_", "-", "."
# and camelCase) is a secret word, never because a secret word hides inside a longer one.
SECRET_KEYS = [
    "password",
    "PASSWORD",
    "db_password",
    "dbPassword",
    "pgpassword",  # one word ending in a secret word
    "PGPASSWORD",
    "passwd",
    "pass",
    "db_pass",
    "pwd",
    "passphrase",
    "secret",
    "client_secret",
    "clientSecret",
    "aws.secret.access.key",
    "token",
    "api_token",
    "accessToken",
    "apikey",
    "api_key",
    "api-key",
    "apiKey",
    "APIKey",
    "X-Api-Key",
    "private_key",
    "privateKey",
    "credential",
    "credentials",
    "auth",
    "basic_auth",
    "flower_basic_auth",
    "authorization",
    "Authorization",
    "dsn",
    "target_dsn",
    "MAINT_TARGET_DSN",
    "targetDsn",
]

ORDINARY_KEYS = [
    "passed",  # restore.drill's verdict: the bug that started this
    "checks_passed",
    "bypass",
    "bypass_cache",
    "passenger",
    "passengers",
    "compass",
    "passes",
    "passive",
    "author",
    "authors",
    "authority",
    "authored_by",
    "tokens_used",  # a count of tokens, not a token
    "tokenizer",
    "keys",
    "key",  # a cache key pattern, not a key
    "key_id",  # the off-site key's fingerprint
    "offsite_key_file",
    "monkey",
    "private_dir",
    "privacy",
    "dsname",
    "secretary",
    "secretariat",
    "sslmode",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_names_are_recognised_as_whole_words(key: str) -> None:
    assert redact.is_secret_name(key), key
    assert redact.redact_params({key: "value-1"}) == {key: "***"}


@pytest.mark.parametrize("key", ORDINARY_KEYS)
def test_ordinary_keys_are_never_masked_for_a_secret_word_inside_them(key: str) -> None:
    assert not redact.is_secret_name(key), key
    assert redact.redact_params({key: 3}) == {key: 3}
    assert redact.scrub_value({"figures": {key: "value-2"}}) == {"figures": {key: "value-2"}}


def test_a_registered_secret_value_is_masked_under_an_ordinary_key() -> None:
    redact.register_secret("Value-Of-A-Secret-7")
    assert redact.scrub_value({"passed": "Value-Of-A-Secret-7", "n": 1}) == {
        "passed": "***",
        "n": 1,
    }


def test_words_of_a_key() -> None:
    assert redact.key_words("flower_basic_auth") == ["flower", "basic", "auth"]
    assert redact.key_words("APIKey") == ["api", "key"]
    assert redact.key_words("aws.secret-accessKey") == ["aws", "secret", "access", "key"]
    assert redact.key_words("HTTPServerToken2") == ["http", "server", "token2"]
