"""``security.audit`` (monthly): known vulnerabilities, outdated packages, server end of life.

1. **Vulnerabilities**: pip-audit (OSV, ``MAINT_SECURITY_OSV_URL``) of the suite's own
   installed packages and of the versions the backend's requirement files pin
   (``MAINT_SECURITY_REQUIREMENT_FILES``). A known vulnerability fails; an index that
   could not be reached **warns** and says plainly that nothing was checked.
2. **Outdated** (the playbook's ``pip list --outdated``): each package's newest version on
   ``MAINT_SECURITY_INDEX_URL``, classified patch (can be done now), minor (test in staging),
   major (full testing). A requirement line that pins nothing is reported, not guessed.
3. **End of life**: the target PostgreSQL's and the cache Redis's versions against the
   shipped table (``eol.json``): past it fails, within ``MAINT_SECURITY_EOL_WARN_DAYS``
   warns, a stale table warns.

Read-only: nothing is upgraded or patched. What to do is in each check and the figures.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from maintenance import clock
from maintenance.results import CheckStatus, Result
from maintenance.security import eol, index, packages, servers, vulns
from maintenance.security.versions import ADVICE, Outdated, UpdateClass, classify
from maintenance.taskspec import Params, RunContext

_ORDER = {UpdateClass.MAJOR: 0, UpdateClass.MINOR: 1, UpdateClass.PATCH: 2, UpdateClass.UNKNOWN: 3}


class AuditParams(Params):
    vulnerabilities: bool = Field(True, description="Run pip-audit (known vulnerabilities).")
    outdated: bool = Field(True, description="Look up the newest versions on the package index.")


def audit(ctx: RunContext, params: AuditParams) -> Result:
    """Vulnerabilities, outdated packages and server end of life, as one checklist."""
    s = ctx.settings
    result = Result()
    own = packages.installed_here() if s.security_audit_own else []
    backend = packages.read_requirements(list(s.security_requirement_files))
    _requirement_checks(result, s.security_requirement_files, backend)
    counts: dict[str, Any] = {"installed": len(own), "backend_pins": len(backend.pins)}
    found: list[vulns.Vulnerability] = []
    outcomes: list[vulns.AuditOutcome] = []
    if params.vulnerabilities:
        if own:
            outcomes.append(
                vulns.audit_environment(
                    s.security_osv_url,
                    http_timeout_s=s.security_http_timeout_s,
                    timeout_s=s.security_audit_timeout_s,
                )
            )
        if backend.pins:
            outcomes.append(
                vulns.audit_pins(
                    backend.pins,
                    s.security_osv_url,
                    http_timeout_s=s.security_http_timeout_s,
                    timeout_s=s.security_audit_timeout_s,
                )
            )
        found = vulnerability_checks(result, outcomes, s.security_osv_url)
        result.figures["audits"] = [
            {"source": o.source, "audited": o.audited, "failure": o.failure, "skipped": o.skipped}
            for o in outcomes
        ]
    result.figures["vulnerabilities"] = [v.to_dict() for v in found]
    outdated: list[Outdated] = []
    if params.outdated and (own or backend.pins):
        outdated = outdated_checks(result, own, backend.pins, s)
    by_class = Counter(o.kind.value for o in outdated)
    result.figures["outdated"] = [
        o.to_dict() for o in outdated if o.kind is not UpdateClass.CURRENT
    ]
    result.figures["outdated_counts"] = {k.value: by_class.get(k.value, 0) for k in UpdateClass}
    verdicts = eol_checks(result, ctx)
    result.figures["servers"] = [v.to_dict() for v in verdicts]
    result.figures["packages"] = counts
    unchecked = [o.source for o in outcomes if o.failure is not None]
    result.summary = _summary(
        found, unchecked, [o.source for o in outcomes], by_class, verdicts, params
    )
    return result


def _requirement_checks(result: Result, files: list[Any], backend: packages.Requirements) -> None:
    if not files:
        result.check(
            "backend requirement files configured",
            False,
            warn_only=True,
            observed="none (MAINT_SECURITY_REQUIREMENT_FILES)",
            expected="the backend's requirements.txt",
            detail="only the suite's own packages are audited",
        )
        return
    result.check(
        "backend requirement files readable",
        not backend.unreadable,
        observed="; ".join(backend.unreadable) or f"{len(files)} file(s), {len(backend.pins)} pins",
        expected="every configured file",
    )
    result.check(
        "backend requirements pinned (name==version)",
        not backend.unpinned,
        warn_only=True,
        observed="; ".join(f"{u.source} {u.line!r}: {u.why}" for u in backend.unpinned[:10])
        or f"all {len(backend.pins)} pinned",
        expected="every line pinned",
        detail=None
        if not backend.unpinned
        else "an unpinned line is neither audited nor classified: pin it",
    )
    result.figures["unpinned"] = [
        {"line": u.line, "source": u.source, "why": u.why} for u in backend.unpinned
    ]


def vulnerability_checks(
    result: Result, outcomes: list[vulns.AuditOutcome], osv_url: str
) -> list[vulns.Vulnerability]:
    """One reachability check and one vulnerability check per audit (pure)."""
    found: list[vulns.Vulnerability] = []
    for o in outcomes:
        what = "the suite's installed packages" if o.source == "installed" else "the backend's pins"
        if o.failure is not None:
            result.check(
                f"vulnerability index answered ({what})",
                False,
                warn_only=True,
                observed=("index unreachable: " if o.unreachable else "pip-audit failed: ")
                + o.failure,
                expected=f"an answer from {osv_url}",
                detail="NOT CHECKED for vulnerabilities: this is not a pass. Check the network, "
                "or point MAINT_SECURITY_OSV_URL at a reachable mirror, and run it again",
            )
            continue
        found += o.vulnerabilities
        names = sorted({f"{v.package} {v.version}" for v in o.vulnerabilities})
        result.check(
            f"no known vulnerabilities ({what})",
            not o.vulnerabilities,
            observed=f"{len(o.vulnerabilities)} in {len(names)} package(s): "
            + ", ".join(f"{v.package} {v.version} {v.id}" for v in o.vulnerabilities[:10])
            if o.vulnerabilities
            else f"none in {o.audited} packages",
            expected="none",
            detail=None
            if not o.vulnerabilities
            else "the playbook's critical patch procedure (apply within 24-48 h): upgrade to a "
            "fixed version (figures: fix_versions), test, deploy",
        )
    return found


def outdated_checks(
    result: Result, own: list[packages.Pin], pins: list[packages.Pin], s: Any
) -> list[Outdated]:
    """Look every package up on the index and classify it."""
    looked = index.lookup_all(
        [p.name for p in own + pins],
        s.security_index_url,
        timeout=s.security_http_timeout_s,
        concurrency=s.security_index_concurrency,
    )
    unreachable = [n for n, lk in looked.items() if lk.unreachable]
    missing = {n: lk.error for n, lk in looked.items() if lk.error and not lk.unreachable}
    result.check(
        "package index answered",
        not unreachable,
        warn_only=True,
        observed=f"index unreachable for {len(unreachable)} of {len(looked)} packages: "
        + (looked[unreachable[0]].error or "")
        if unreachable
        else f"{len(looked)} packages looked up",
        expected=f"an answer from {s.security_index_url}",
        detail=None
        if not unreachable
        else "those packages were NOT checked for updates; point MAINT_SECURITY_INDEX_URL at a "
        "reachable mirror",
    )
    if missing:
        result.figures["not_on_index"] = missing
    out = [
        classify(p.name, p.version, looked[p.name].versions)
        for p in own + pins
        if p.name in looked and not looked[p.name].error
    ]
    out.sort(key=lambda o: (_ORDER.get(o.kind, 9), o.name))
    counts = Counter(o.kind for o in out)
    behind = sum(counts[k] for k in (UpdateClass.PATCH, UpdateClass.MINOR, UpdateClass.MAJOR))
    result.check(
        "packages up to date",
        behind == 0 and bool(out),
        warn_only=True,
        observed=", ".join(
            f"{counts[k]} {k.value}"
            for k in (UpdateClass.PATCH, UpdateClass.MINOR, UpdateClass.MAJOR)
        )
        + f" of {len(out)}",
        expected="0 behind",
        detail=None
        if behind == 0
        else "; ".join(
            ADVICE[k]
            for k in (UpdateClass.PATCH, UpdateClass.MINOR, UpdateClass.MAJOR)
            if counts[k]
        ),
    )
    return out


def eol_checks(result: Result, ctx: RunContext) -> list[eol.Verdict]:
    s = ctx.settings
    table = eol.load()
    now = clock.now()
    fresh, age = eol.table_age(table, now)
    result.check(
        "end-of-life table current",
        fresh,
        warn_only=True,
        observed=age,
        expected=f"written within {eol.STALE_AFTER_DAYS} days",
        detail=None if fresh else "table is stale: update maintenance/security/eol.json",
    )
    verdicts = []
    read = [
        servers.postgres(s.target_dsn.get_secret_value(), s.security_http_timeout_s),
        servers.redis_server(s.cache_url.get_secret_value(), s.security_http_timeout_s),
    ]
    for sv in read:
        label = "PostgreSQL" if sv.product == "postgresql" else "Redis"
        if sv.version is None:
            result.check(
                f"{label} version read ({sv.server})",
                False,
                warn_only=True,
                observed=sv.error,
                expected="the server's version",
                detail="its end of life was not checked",
            )
            continue
        v = eol.assess(table, sv.product, sv.server, sv.version, now, s.security_eol_warn_days)
        verdicts.append(v)
        result.check(
            f"{label} {sv.version} supported ({sv.server})",
            v.status is CheckStatus.PASS,
            warn_only=v.status is CheckStatus.WARN,
            observed=v.observed,
            expected=f"a supported release ({table.source(sv.product)})",
            detail=None
            if v.status is CheckStatus.PASS
            else f"plan an upgrade of {label} to a supported release (a major upgrade: full testing)",
        )
    return verdicts


def _summary(
    found: list[vulns.Vulnerability],
    unchecked: list[str],
    audited: list[str],
    by_class: Counter[str],
    verdicts: list[eol.Verdict],
    params: AuditParams,
) -> str:
    parts = []
    if unchecked:
        parts.append(f"vulnerabilities NOT CHECKED for {', '.join(unchecked)} (index unreachable)")
    if params.vulnerabilities and len(unchecked) < len(audited):
        pkgs = len({(v.package, v.version) for v in found})
        parts.append(f"{len(found)} known vulnerabilities in {pkgs} package(s)")
    if params.outdated:
        parts.append(
            "outdated: "
            + ", ".join(f"{by_class.get(k, 0)} {k}" for k in ("patch", "minor", "major"))
        )
    for v in verdicts:
        parts.append(f"{v.product} {v.version}: {v.status.value}")
    return "; ".join(parts)
