"""The access review's rules: facts -> findings (pure; the readers are access_facts.py)."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import datetime, timedelta

from maintenance.security.findings import Finding, Severity

PG, REDIS, FLOWER, FILES = "postgresql", "redis", "flower", "files"


@dataclass(frozen=True)
class Role:
    name: str
    superuser: bool
    can_login: bool
    valid_until: datetime | None
    #: Whether it has a password: None when unknown (pg_authid not readable).
    has_password: bool | None
    bootstrap: bool = False  # the cluster's initial superuser (oid 10): cannot be dropped


@dataclass(frozen=True)
class RoleHistory:
    """Roles seen connected (pg_stat_activity) at earlier reviews."""

    reviews: int
    first: datetime | None
    seen: frozenset[str]


def role_findings(
    roles: list[Role], trust_rules: list[str], history: RoleHistory, now: datetime, unseen_days: int
) -> list[Finding]:
    out: list[Finding] = []
    for r in roles:
        if r.superuser and r.can_login:
            out.append(
                Finding(
                    PG,
                    Severity.MEDIUM if r.bootstrap else Severity.HIGH,
                    "superuser that can log in",
                    "keep the bootstrap superuser for administration only; the application and "
                    "the suite connect with roles of their own"
                    if r.bootstrap
                    else "ALTER ROLE ... NOSUPERUSER (grant only what it needs) or NOLOGIN",
                    r.name,
                )
            )
        if not r.can_login:
            continue
        if r.has_password is False:
            out.append(
                Finding(
                    PG,
                    Severity.MEDIUM,
                    "login role without a password",
                    "it can connect wherever pg_hba.conf trusts or peers it: set a password "
                    "(scram-sha-256) or make it NOLOGIN",
                    r.name,
                )
            )
        if r.valid_until is None and r.has_password is not False:
            out.append(
                Finding(
                    PG,
                    Severity.LOW,
                    "password never expires",
                    "ALTER ROLE ... VALID UNTIL '<date>' if the policy requires rotation",
                    r.name,
                )
            )
        elif r.valid_until is not None and r.valid_until <= now:
            out.append(
                Finding(
                    PG,
                    Severity.INFO,
                    "password expired (role can no longer log in with it)",
                    "set a new password or make it NOLOGIN",
                    r.name,
                )
            )
    for rule in trust_rules:
        out.append(
            Finding(
                PG,
                Severity.HIGH,
                "pg_hba.conf trusts connections without a password",
                "use scram-sha-256 (or peer for local sockets) instead of trust",
                rule,
            )
        )
    out += unseen_findings(roles, history, now, unseen_days)
    return out


def unseen_findings(
    roles: list[Role], history: RoleHistory, now: datetime, unseen_days: int
) -> list[Finding]:
    """Login roles no review has seen connected, once the reviews span ``unseen_days``."""
    span = (now - history.first) if history.first else timedelta(0)
    if history.reviews == 0 or span < timedelta(days=unseen_days):
        since = f" since {history.first:%Y-%m-%d}" if history.first else ""
        return [
            Finding(
                PG,
                Severity.INFO,
                "roles not seen: not tracked yet",
                f"PostgreSQL keeps no login history; each review records the roles connected "
                f"at that moment ({history.reviews} earlier review(s){since}); roles not seen "
                f"are reported once the reviews span {unseen_days} days",
            )
        ]
    return [
        Finding(
            PG,
            Severity.LOW,
            f"login role not seen connected in {history.reviews} reviews over {span.days} days",
            "if nothing uses it: ALTER ROLE ... NOLOGIN (reviews see only who is connected at "
            "that moment)",
            r.name,
        )
        for r in roles
        if r.can_login and r.name not in history.seen
    ]


@dataclass(frozen=True)
class RedisFacts:
    server: str
    #: Whether a connection without credentials could run a command.
    open_without_auth: bool | None
    #: ``ACL LIST`` lines, when the configured user may read them.
    acl: list[str] | None
    error: str | None = None


def redis_findings(facts: RedisFacts) -> list[Finding]:
    if facts.open_without_auth is None:
        return [
            Finding(
                REDIS,
                Severity.MEDIUM,
                "could not be checked",
                "look at it by hand",
                f"{facts.server}: {facts.error}",
            )
        ]
    out = []
    if facts.open_without_auth:
        out.append(
            Finding(
                REDIS,
                Severity.HIGH,
                "answers without a password",
                "set requirepass or ACL users (and give the URLs their password); bind it to "
                "the private network only",
                facts.server,
            )
        )
    for line in facts.acl or []:
        words = line.split()
        if len(words) > 2 and " on " in f" {line} " and "nopass" in words and words[1] != "default":
            out.append(
                Finding(
                    REDIS,
                    Severity.HIGH,
                    f"ACL user {words[1]} has no password",
                    f"ACL SETUSER {words[1]} resetpass >...",
                    facts.server,
                )
            )
    return out


def flower_findings(basic_auth: bool, url: str | None, probe: int | str | None) -> list[Finding]:
    """``probe``: the HTTP status of an unauthenticated request, or why there is none."""
    out = []
    if not basic_auth:
        out.append(
            Finding(
                FLOWER,
                Severity.HIGH,
                "no basic auth configured (MAINT_FLOWER_BASIC_AUTH)",
                "set MAINT_FLOWER_BASIC_AUTH(_FILE): Flower can start and revoke tasks",
            )
        )
    if url is None:
        out.append(
            Finding(
                FLOWER,
                Severity.INFO,
                "not probed (MAINT_SECURITY_FLOWER_URL unset)",
                "set it to check what Flower itself answers",
            )
        )
    elif probe == 200:
        out.append(
            Finding(
                FLOWER,
                Severity.CRITICAL,
                "answers its API without credentials",
                "start Flower with --basic-auth (FLOWER_BASIC_AUTH) or put it behind an "
                "authenticating proxy",
                url,
            )
        )
    elif not isinstance(probe, int):
        out.append(
            Finding(
                FLOWER,
                Severity.INFO,
                f"not reachable: {probe}",
                "none if it is down on purpose",
                url,
            )
        )
    return out


@dataclass(frozen=True)
class FileFacts:
    role: str  # "backup root", "log root", "secret MAINT_X_FILE"
    path: str
    mode: int | None  # None: missing
    uid: int | None
    is_dir: bool
    my_uid: int


def file_findings(f: FileFacts) -> list[Finding]:
    if f.mode is None:
        return [Finding(FILES, Severity.INFO, f"{f.role} does not exist", "none", f.path)]
    perms = stat.S_IMODE(f.mode)
    shown = f"{f.path} ({perms:04o})"
    out = []
    secret = f.role.startswith("secret")
    if f.role == "backup root":
        if perms & 0o077:
            out.append(
                Finding(
                    FILES,
                    Severity.HIGH,
                    "backup root open to group or others",
                    f"chmod 0700 {f.path}: backups hold the whole database",
                    shown,
                )
            )
    elif f.role == "log root":
        if perms & 0o002:
            out.append(
                Finding(
                    FILES,
                    Severity.HIGH,
                    "log root writable by everyone",
                    f"chmod o-w {f.path}",
                    shown,
                )
            )
        elif perms & 0o004:
            out.append(
                Finding(
                    FILES,
                    Severity.MEDIUM,
                    "log root readable by everyone",
                    f"chmod o-rwx {f.path}: logs may name patients",
                    shown,
                )
            )
    elif secret:
        if perms & 0o007:
            out.append(
                Finding(
                    FILES,
                    Severity.CRITICAL,
                    f"{f.role} readable by everyone",
                    f"chmod 0600 {f.path}, then rotate the secret",
                    shown,
                )
            )
        elif perms & 0o070:
            out.append(
                Finding(
                    FILES,
                    Severity.HIGH,
                    f"{f.role} open to its group",
                    f"chmod 0600 {f.path}",
                    shown,
                )
            )
    if f.uid is not None and f.uid not in (f.my_uid, 0):
        sev = Severity.MEDIUM if secret or f.role == "backup root" else Severity.LOW
        out.append(
            Finding(
                FILES,
                sev,
                f"{f.role} owned by another user (uid {f.uid})",
                f"chown it to the suite's user (uid {f.my_uid}) or root",
                shown,
            )
        )
    return out
