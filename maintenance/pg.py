"""PostgreSQL plumbing shared by every area: DSNs, connections, libpq environments.

Passwords never go into a child process's argv: :func:`libpq_env` turns a DSN into the
``PG*`` environment variables that pg_dump, pg_restore and psql read, on top of the
curated environment every child gets (:mod:`maintenance.childenv`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import psycopg

from maintenance import childenv, redact
from maintenance.errors import BadInput, ConfigError, ServiceRefused, ServiceUnavailable

#: A database name we create or drop must look like this: no quoting games.
SAFE_DBNAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: Server answers that a retry will not change (too many connections, shutting down: will).
_REFUSED = re.compile(
    r"FATAL:.*(does not exist|authentication failed|pg_hba\.conf|permission denied|"
    r"not permitted to log in)",
    re.S,
)

#: libpq's own refusals of a connection setting (no server was contacted).
_BAD_OPTION = re.compile(r"\binvalid (\w+ value|integer value|port number)\b")

_PARAM_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


#: libpq parameters whose value is one of a few words (libpq itself checks them only when
#: it connects, and the suite would take that for a server that did not answer).
_CHOICES = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": ("disable", "prefer", "require"),
    "channel_binding": ("disable", "prefer", "require"),
    "sslnegotiation": ("postgres", "direct"),
    "sslcertmode": ("disable", "allow", "require"),
    "load_balance_hosts": ("disable", "random"),
    "target_session_attrs": (
        "any",
        "read-write",
        "read-only",
        "primary",
        "standby",
        "prefer-standby",
    ),
}
#: libpq parameters that take a whole number of seconds (or a count, or a flag).
_INTEGERS = (
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
)


def check_url(dsn: str) -> None:
    """Raise ValueError naming what is wrong with a postgresql:// URL: scheme, port,
    database, an unknown query parameter or a value libpq would refuse. The message
    never repeats the URL (it may hold a password)."""
    try:
        parts = urlsplit(dsn)
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"must be a postgresql:// URL, got scheme {parts.scheme or 'none'!r}")
    port_text = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port_text and not 0 < (port or 0) <= 65535:
        raise ValueError(f"port {port_text!r} is not a port number (1-65535)")
    if not parts.path.strip("/"):
        raise ValueError("must name a database (postgresql://user@host:5432/DBNAME)")
    known = {d.keyword.decode() for d in psycopg.pq.Conninfo.get_defaults()}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in known:
            raise ValueError(f"unknown connection parameter {key!r} in the query string")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ValueError(f"{key} {value!r} is not one of {', '.join(_CHOICES[key])}")
        if key in _INTEGERS and not value.isdigit():
            raise ValueError(f"{key} {value!r} is not a whole number (0 or more)")
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:  # its message may quote the password: do not repeat it
        raise ValueError(
            "libpq cannot parse it: check the percent-encoding of the user and password"
        ) from None


def dbname(dsn: str) -> str:
    """The database a postgresql:// URL names."""
    return unquote(urlsplit(dsn).path.lstrip("/"))


def with_dbname(dsn: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def server_identity(dsn: str) -> tuple[str, int]:
    parts = urlsplit(dsn)
    return (parts.hostname or "localhost", parts.port or 5432)


def sqlalchemy_url(dsn: str) -> str:
    """A postgresql:// URL for SQLAlchemy's psycopg 3 driver."""
    parts = urlsplit(dsn)
    return urlunsplit(("postgresql+psycopg", *tuple(parts[1:])))


def libpq_env(dsn: str) -> dict[str, str]:
    """The whole environment of a libpq client (pg_dump, pg_restore ...) connecting to
    ``dsn``: :func:`maintenance.childenv.child_env` with this database's ``PG*`` variables.

    The password travels as PGPASSWORD, never in argv where ``ps`` would show it.
    """
    parts = urlsplit(dsn)
    env: dict[str, str] = {}
    if parts.hostname:
        env["PGHOST"] = parts.hostname
    if parts.port:
        env["PGPORT"] = str(parts.port)
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    env["PGDATABASE"] = dbname(dsn)
    for key, value in parse_qsl(parts.query):
        if key == "host":  # unix socket directory
            env["PGHOST"] = value
        elif key in _PARAM_ENV:
            env[_PARAM_ENV[key]] = value
    return childenv.child_env(env, libpq=True)


def check_dbname(name: str) -> str:
    """Return ``name`` if it is safe to create or drop; raise BadInput naming the problem."""
    if not SAFE_DBNAME.match(name):
        raise BadInput(
            f"database name {name!r} is not allowed: use lower-case letters, digits and '_', "
            "starting with a letter, at most 63 characters"
        )
    return name


#: TCP keepalive for connections that sit idle for a long time holding something (the
#: advisory-lock session): a peer that vanished (host down, network cut, NAT state lost)
#: is noticed after about idle + interval x count = 60 s instead of the kernel's 2 hours,
#: and data left unacknowledged for 60 s (a query sent into a dead network) ends the
#: connection instead of waiting for TCP's retransmissions (15 minutes).
KEEPALIVE: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,  # milliseconds
}


@contextmanager
def connect(
    dsn: str,
    *,
    autocommit: bool = True,
    timeout: float = 10,
    keepalive: bool = False,
    application_name: str | None = None,
) -> Iterator[psycopg.Connection]:
    """Open a psycopg connection; a refused connection raises ServiceUnavailable, bad
    connection settings (which no retry fixes) ConfigError. ``keepalive`` turns on the
    TCP keepalive settings of :data:`KEEPALIVE` (they override the DSN's own);
    ``application_name`` names the session (the lock sessions say whose they are).

    The message names the database and server, never the password.
    """
    try:
        check_url(dsn)
    except ValueError as exc:
        raise ConfigError(
            f"bad connection settings for database {dbname(dsn)!r}: {redact.scrub(str(exc))}"
        ) from None
    extra: dict[str, Any] = dict(KEEPALIVE) if keepalive else {}
    if application_name is not None:
        extra["application_name"] = application_name
    try:
        conn = psycopg.connect(
            dsn, autocommit=autocommit, connect_timeout=max(1, int(timeout)), **extra
        )
    except psycopg.OperationalError as exc:
        host, port = server_identity(dsn)
        text = str(exc).strip() or repr(exc)
        reason = redact.scrub(text.splitlines()[0])
        if "FATAL:" in text:  # the server itself answered: keep its reason, not libpq's preamble
            reason = redact.scrub(text[text.index("FATAL:") :].splitlines()[0])
        elif _BAD_OPTION.search(text):  # libpq refused a setting before reaching anything
            raise ConfigError(
                f"bad connection settings for database {dbname(dsn)!r}: {reason}"
            ) from None
        message = f"cannot connect to database {dbname(dsn)!r} on {host}:{port}: {reason}"
        if _REFUSED.search(text):
            raise ServiceRefused(message) from None
        raise ServiceUnavailable(message) from None
    try:
        yield conn
    finally:
        conn.close()


def database_exists(server_dsn: str, name: str) -> bool:
    with connect(with_dbname(server_dsn, "postgres")) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def create_database(server_dsn: str, name: str, *, if_missing: bool = True) -> bool:
    """Create database ``name`` on the server of ``server_dsn``; return True if created."""
    check_dbname(name)
    with connect(with_dbname(server_dsn, "postgres")) as conn:
        if if_missing:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if row:
                return False
        try:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        # Two creators racing: the loser gets DuplicateDatabase, or UniqueViolation on
        # pg_database_datname_index when both passed the existence check together.
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            if not if_missing:
                raise
            return False
    return True


def drop_database(server_dsn: str, name: str) -> None:
    """Drop database ``name`` (terminating its connections). The caller decides it may."""
    check_dbname(name)
    with connect(with_dbname(server_dsn, "postgres")) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)
            )
        )
