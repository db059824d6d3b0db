"""The access review's readers: thin, read-only, bounded in time (rules: access_rules.py)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis

from maintenance import pg, redact
from maintenance.config import SECRET_FIELDS, Settings
from maintenance.config._base import ENV_PREFIX
from maintenance.errors import MaintenanceError
from maintenance.history import store
from maintenance.security.access_rules import FileFacts, RedisFacts, Role, RoleHistory

REVIEW_TASK = "security.access_review"


def roles(dsn: str, timeout_s: float) -> tuple[list[Role], list[str], list[str], str]:
    """(roles, pg_hba trust rules, roles connected now, how much could be read)."""
    with pg.connect(dsn, timeout=timeout_s) as conn:
        (superuser,) = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() or (False,)
        if superuser:
            rows = conn.execute(
                "SELECT rolname, rolsuper, rolcanlogin, rolvaliduntil, rolpassword IS NOT NULL, "
                "oid = 10 FROM pg_authid WHERE rolname !~ '^pg_' ORDER BY rolname"
            ).fetchall()
            depth = "pg_authid (passwords known)"
        else:
            rows = conn.execute(
                "SELECT rolname, rolsuper, rolcanlogin, rolvaliduntil, NULL, oid = 10 "
                "FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY rolname"
            ).fetchall()
            depth = "pg_roles (not a superuser: whether roles have passwords is unknown)"
        trust: list[str] = []
        try:
            for line, kind, dbs, users, addr in conn.execute(
                "SELECT line_number, type, database, user_name, address FROM pg_hba_file_rules "
                "WHERE auth_method = 'trust' ORDER BY line_number"
            ).fetchall():
                where = addr or "local socket"
                trust.append(f"line {line}: {kind} {','.join(dbs)} {','.join(users)} {where}")
        except psycopg.Error:
            depth += "; pg_hba_file_rules not readable"
        seen = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE usename IS NOT NULL"
            ).fetchall()
        ]
    found = [Role(r[0], bool(r[1]), bool(r[2]), r[3], r[4], bool(r[5])) for r in rows]
    return found, trust, sorted(seen), depth


def role_history(history_dsn: str, this_run: int | None) -> tuple[RoleHistory, str | None]:
    """The roles earlier reviews saw connected (their figures), or why none."""
    try:
        runs = store.list_runs(history_dsn, task=REVIEW_TASK, limit=200)
    except MaintenanceError as exc:
        return RoleHistory(0, None, frozenset()), f"job history not readable ({type(exc).__name__})"
    seen: set[str] = set()
    first: datetime | None = None
    count = 0
    for run in runs:
        figures = (run.result or {}).get("figures") or {}
        if run.id == this_run or "seen_roles" not in figures:
            continue
        count += 1
        seen.update(figures["seen_roles"])
        if run.started_at and (first is None or run.started_at < first):
            first = run.started_at
    return RoleHistory(count, first, frozenset(seen)), None


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def redis_facts(url: str, timeout_s: float) -> RedisFacts:
    """Whether the server of ``url`` runs a command for a client that gives no password,
    and its ACL when the configured user may read it."""
    where = redact.mask_url(_without_credentials(url))
    bare = redis.Redis.from_url(
        _without_credentials(url), socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    try:
        bare.ping()
        open_ = True
    except (redis.AuthenticationError, redis.exceptions.NoPermissionError):
        open_ = False
    except redis.ResponseError as exc:
        if not str(exc).startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
            return RedisFacts(where, None, None, redact.scrub(str(exc)))
        open_ = False
    except redis.RedisError as exc:
        return RedisFacts(where, None, None, f"{type(exc).__name__}: {redact.scrub(str(exc))}")
    finally:
        bare.close()
    acl: list[str] | None = None
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        acl = [
            a.decode() if isinstance(a, bytes) else str(a)
            for a in client.execute_command("ACL", "LIST")
        ]
    except redis.RedisError:
        acl = None
    finally:
        client.close()
    return RedisFacts(where, open_, acl)


def flower_probe(url: str, timeout_s: float) -> int | str:
    """The HTTP status of ``GET {url}/api/workers`` without credentials, or why none."""
    try:
        response = httpx.get(f"{url}/api/workers", timeout=timeout_s)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {redact.scrub(str(exc))}"
    return response.status_code


def file_facts(role: str, path: Path) -> FileFacts:
    try:
        st = path.stat()
    except FileNotFoundError:
        return FileFacts(role, str(path), None, None, False, os.getuid())
    return FileFacts(role, str(path), st.st_mode, st.st_uid, path.is_dir(), os.getuid())


def secret_files(
    settings: Settings, environ: dict[str, str] | None = None
) -> list[tuple[str, Path]]:
    """Every ``MAINT_*_FILE`` secret in use, and the off-site key file."""
    env = os.environ if environ is None else environ
    out = []
    for name in SECRET_FIELDS:
        var = f"{ENV_PREFIX}{name.upper()}_FILE"
        if env.get(var):
            out.append((var, Path(env[var])))
    if settings.offsite_key_file is not None:
        out.append(("MAINT_OFFSITE_KEY_FILE", settings.offsite_key_file))
    return out
