"""Connections to the real server: bad DSN settings are configuration errors (exit 2,
naming the variable)."""

from __future__ import annotations

import pytest

from tests.conftest import LEAK_CANARY, history_rows, run_cli

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("suffix", "says"),
    [
        ("?sslmode=bogus", "sslmode 'bogus'"),
        ("?connect_timeout=soon", "connect_timeout 'soon'"),
    ],
)
def test_a_bad_dsn_option_exits_2_naming_the_setting(
    maint_env: dict[str, str], clean_history: str, suffix: str, says: str
) -> None:
    env = maint_env | {"MAINT_TARGET_DSN": maint_env["MAINT_TARGET_DSN"] + suffix}
    res = run_cli("run", "db.stats", env=env)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "configuration error" in res.stderr and "MAINT_TARGET_DSN" in res.stderr
    assert says in res.stderr
    assert "ServiceUnavailable" not in res.stdout + res.stderr
    assert LEAK_CANARY not in res.stdout + res.stderr
    assert history_rows() == []  # nothing ran, nothing to retry


def test_a_bad_port_names_the_setting(maint_env: dict[str, str]) -> None:
    dsn = maint_env["MAINT_TARGET_DSN"].replace(":5432/", ":54x32/")
    assert dsn != maint_env["MAINT_TARGET_DSN"]
    res = run_cli("run", "db.stats", env=maint_env | {"MAINT_TARGET_DSN": dsn})
    assert res.returncode == 2, res.stdout + res.stderr
    assert "MAINT_TARGET_DSN: port '54x32' is not a port number" in res.stderr.replace("\n", " ")
    assert "could not be cast" not in res.stderr.lower()
