"""``security.access_review`` (monthly; part of the quarterly audit): who and what can get in.

* PostgreSQL (the target's server): superusers that can log in, login roles without a
  password or with one that never expires, ``trust`` lines of pg_hba.conf, and login
  roles no review has seen connected (PostgreSQL keeps no login history: each review
  records the roles in ``pg_stat_activity`` in its figures, and later ones compare);
* Redis (the cache's and the broker's servers): does a client without a password get in;
  ACL users without one;
* Flower: basic auth configured, and (``MAINT_SECURITY_FLOWER_URL``) what it answers
  without credentials;
* files: ``MAINT_BACKUP_ROOT`` (0700), ``MAINT_LOG_ROOT`` (not for everyone), every
  ``MAINT_*_FILE`` secret in use and the off-site key (0600/0400, owner).

Each finding has a severity and a suggested action (access_rules.py, pure); critical and
high fail the run, medium warns. Read-only: nothing is changed.
"""

from __future__ import annotations

from collections import Counter

from maintenance import clock
from maintenance.errors import MaintenanceError
from maintenance.results import Result
from maintenance.security import access_facts as facts
from maintenance.security import access_rules as rules
from maintenance.security.findings import Finding, Severity, add_checks
from maintenance.taskspec import NoParams, RunContext


def review(ctx: RunContext, params: NoParams) -> Result:
    s = ctx.settings
    now = clock.now()
    timeout = s.security_http_timeout_s
    found: list[Finding] = []
    looked: dict[str, str] = {}
    result = Result()

    try:
        roles, trust, seen, depth = facts.roles(s.target_dsn.get_secret_value(), timeout)
    except MaintenanceError as exc:
        found.append(
            Finding(
                rules.PG,
                Severity.MEDIUM,
                "roles could not be read",
                "run the review where the target database answers",
                str(exc),
            )
        )
        roles, trust, seen, depth = [], [], [], "not read"
    else:
        history, why = facts.role_history(s.history_dsn.get_secret_value(), ctx.run_id)
        found += rules.role_findings(roles, trust, history, now, s.security_unseen_days)
        if why:
            result.figures["role_history"] = why
    looked[rules.PG] = f"{len(roles)} roles from {depth}"
    result.figures["roles"] = [
        {
            "name": r.name,
            "superuser": r.superuser,
            "login": r.can_login,
            "valid_until": r.valid_until.isoformat() if r.valid_until else None,
            "password": r.has_password,
        }
        for r in roles
    ]
    result.figures["seen_roles"] = seen

    servers: dict[str, str] = {}
    for url in (s.cache_url.get_secret_value(), s.broker_url.get_secret_value()):
        key = url.split("@")[-1].rsplit("/", 1)[0]
        servers.setdefault(key, url)
    for url in servers.values():
        found += rules.redis_findings(facts.redis_facts(url, timeout))
    looked[rules.REDIS] = f"{len(servers)} server(s)"

    probe = facts.flower_probe(s.security_flower_url, timeout) if s.security_flower_url else None
    found += rules.flower_findings(s.flower_basic_auth is not None, s.security_flower_url, probe)
    looked[rules.FLOWER] = "basic auth" + (f", probe {probe}" if probe is not None else "")

    files = [("backup root", s.backup_root), ("log root", s.log_root)]
    files += [(f"secret {var}", path) for var, path in facts.secret_files(s)]
    for role, path in files:
        found += rules.file_findings(facts.file_facts(role, path))
    looked[rules.FILES] = f"{len(files)} path(s)"

    add_checks(result, found, looked)
    result.figures["findings"] = [f.to_dict() for f in sorted(found, key=lambda f: f.severity.rank)]
    counts = Counter(f.severity.value for f in found)
    result.figures["severity_counts"] = {sev.value: counts.get(sev.value, 0) for sev in Severity}
    result.summary = (
        f"{len(found)} findings: "
        + ", ".join(f"{counts.get(sev.value, 0)} {sev.value}" for sev in Severity)
        + f"; {len(roles)} roles, {len(servers)} Redis server(s), {len(files)} paths"
    )
    return result
