"""maintenance.pg against the real libpq: what it refuses before any server is reached."""

from __future__ import annotations

import pytest

from maintenance import pg
from maintenance.errors import ConfigError, TransientError


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("sslmode=bogus", "sslmode"),
        ("target_session_attrs=leader", "target_session_attrs"),
        ("bogusparam=1", "bogusparam"),
        ("connect_timeout=soon", "connect_timeout"),
        # not checked by pg.check_url: libpq's own refusal is recognised
        ("require_auth=bogus", "require_auth"),
    ],
)
def test_connection_settings_libpq_refuses_are_a_configuration_error(query: str, says: str) -> None:
    """Not ServiceUnavailable: a retry cannot fix a setting, and nothing was reached."""
    dsn = f"postgresql://app:Pg-Pw-5150@127.0.0.1:1/x?{query}"
    with pytest.raises(ConfigError) as info, pg.connect(dsn, timeout=1):
        pass
    assert not isinstance(info.value, TransientError)
    assert says in str(info.value) and "Pg-Pw-5150" not in str(info.value)
