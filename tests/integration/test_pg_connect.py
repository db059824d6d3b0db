"""Connections to the real server: bad DSN settings are configuration errors (exit 2,
naming the variable), and ``keepalive=True`` really sets TCP keepalive on the socket."""

from __future__ import annotations

import socket

import pytest

from maintenance import pg
from tests.conftest import LEAK_CANARY, PG_SERVER, history_rows, run_cli

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


def _sockopt(conn: object, level: int, option: int) -> int:
    fd = conn.fileno()  # type: ignore[attr-defined]
    sock = socket.socket(fileno=socket.dup(fd))
    try:
        return sock.getsockopt(level, option)
    finally:
        sock.close()


def test_keepalive_sets_tcp_keepalive_on_the_connection(services: None) -> None:
    with pg.connect(PG_SERVER, keepalive=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert _sockopt(conn, socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert _sockopt(conn, socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
        assert _sockopt(conn, socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 10
        assert _sockopt(conn, socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
        assert _sockopt(conn, socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 60_000
    with pg.connect(PG_SERVER) as plain:  # the default leaves the system's settings
        assert _sockopt(plain, socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 0
