"""``logs.report``: the playbook's LOG MANAGEMENT VERIFICATION, as a checklist.

It changes no log: it reads the folder (``lstat``, never following a link), reads the
new lines of each log for ERROR and CRITICAL (:mod:`.scan`), and records where it stopped
in its state. The checks, in the checklist's order:

CURRENT LOG STATUS  the size of each live log and the total (figures);
ROTATION            rotated daily (the state's last rotation, not older than 26 hours);
                    old logs compressed (nothing plain but the newest of each log, and
                    that not for more than a day); past months archived; no log over
                    MAINT_LOG_MAX_BYTES;
RETENTION           current logs readable; 7 days and MAINT_LOG_MAX_AGE_DAYS kept (the
                    playbook's "7 days kept uncompressed" contradicts its own
                    ``delaycompress`` and its cleanup's "gzip after a day": checked as 7
                    days at hand, plain or gzip, which zcat and zgrep read alike);
CLEANUP             no empty live log or orphan left for logs.cleanup; disk usage
                    within MAINT_LOG_DISK_LIMIT_BYTES; no permission problem;
ERROR MONITORING    ERROR and CRITICAL lines since the previous report, per log and
                    level, the first lines quoted (secrets masked), and a severity.

A failed check is the checklist's "NEEDS ATTENTION"; the summary says which.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from maintenance import clock
from maintenance.logs import archive, cleanup_plan, hosts, inventory, scan, state
from maintenance.logs.files import LogRoot, disk_usage
from maintenance.logs.inventory import ARCHIVE_DIR, Family, Inventory
from maintenance.logs.plan import Policy
from maintenance.logs.rotate import HOST_HELP
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

ROTATED_WITHIN = timedelta(hours=26)
PLAIN_FOR = timedelta(days=1)
AT_HAND_DAYS = 7
#: With no previous report, the files written in the last day are read.
FIRST_REPORT_COVERS = timedelta(days=1)


class ReportParams(Params):
    host: str | None = Field(None, description=HOST_HELP)


def report(ctx: RunContext, params: ReportParams) -> Result:
    settings = ctx.settings
    hosts.check_host(ctx.task, params.host, settings.log_host)
    policy = Policy.of(settings)
    with LogRoot(settings.log_root) as root, state.host_lock(root, ctx.task):
        st, problem = state.load(root)
        previous_at = st.report_at
        started = clock.now()
        inv = inventory.classify(root.entries(), policy.patterns, policy.scheme)
        errors: dict[str, scan.LogErrors] = {}
        positions = {}
        for base, fam in sorted(inv.families.items()):
            since = previous_at or started - FIRST_REPORT_COVERS
            found, pos = scan.scan_family(root, fam, st.positions.get(base), since)
            errors[base] = found
            if pos:
                positions[base] = pos
        unreadable = [p for e in errors.values() for p in e.problems]
        usage = disk_usage(root.path)
        months = _archived_months(root.path / ARCHIVE_DIR)
        st.report_at, st.positions = started, positions
        state.save(root, st)
    result = checklist(
        inv, policy, settings, st.rotated, errors, unreadable, usage, months, started
    )
    if problem:
        result.check(
            "report state readable", False, observed=problem, expected="state.json", warn_only=True
        )
    result.figures["host"] = settings.log_host
    result.figures["previous_report_at"] = previous_at.isoformat() if previous_at else None
    return result


def _archived_months(folder: Any) -> set[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return set()
    return {p[0] for p in map(archive.parse_part, names) if p}


def checklist(
    inv: Inventory,
    policy: Policy,
    settings: Any,
    rotated: dict[str, datetime],
    errors: dict[str, scan.LogErrors],
    unreadable: list[str],
    usage: int,
    archived_months: set[str],
    now: datetime,
) -> Result:
    """The checklist over the facts (pure)."""
    r = Result()
    fams = [inv.families[b] for b in sorted(inv.families)]
    lives = [f.live for f in fams if f.live is not None]
    sizes = {e.name: e.size for e in lives}
    total = sum(sizes.values())
    r.check(
        "current log status",
        True,
        observed=", ".join(f"{n} {human_bytes(s)}" for n, s in sizes.items())
        + f"; total {human_bytes(total)}"
        if sizes
        else "no live logs",
        expected="the size of each live log",
    )
    # ROTATION
    stale = [
        f"{f.base}: "
        + (
            f"last rotated {rotated[f.base]:%Y-%m-%d %H:%M}Z"
            if f.base in rotated
            else "never rotated"
        )
        for f in fams
        if f.live is not None
        and f.live.size > 0
        and (f.base not in rotated or now - rotated[f.base] > ROTATED_WITHIN)
    ]
    r.check(
        "logs rotated daily",
        not stale,
        observed=stale or "every non-empty log",
        expected=f"within {ROTATED_WITHIN.total_seconds() / 3600:.0f} hours",
    )
    plain = [
        m.name
        for f in fams
        for i, m in enumerate(f.members)
        if not m.rotated.compressed and (i > 0 or now - m.entry.mtime > PLAIN_FOR)
    ]
    r.check(
        "old logs compressed",
        not plain,
        observed=plain or "all but the newest of each log",
        expected="gzip (delaycompress: the newest stays plain for a day)",
    )
    months = sorted(
        {
            cleanup_plan.month_of(m.entry, policy.zone)
            for m in cleanup_plan.past_compressed(inv, policy.zone, now)
        }
    )
    missing = [m for m in months if m not in archived_months]
    last_month = (now.astimezone(policy.zone).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    r.check(
        "archives created",
        not [m for m in missing if m < last_month],
        observed=[f"no archive for {m}" for m in missing] or "every past month's logs archived",
        expected="archive/logs_YYYY-MM.tar for each past month (logs.cleanup makes last month's on a Sunday)",
        warn_only=missing == [last_month],
    )
    big = [f"{e.name} {human_bytes(e.size)}" for e in lives if e.size > policy.max_bytes]
    r.check(
        "no log over the size cap",
        not big,
        observed=big or f"largest {human_bytes(max(sizes.values(), default=0))}",
        expected=f"<= {human_bytes(policy.max_bytes)}",
    )
    # RETENTION
    r.check(
        "current logs accessible",
        not unreadable,
        observed=unreadable or f"{len(lives)} readable",
        expected="every live log readable",
    )
    for days in (AT_HAND_DAYS, policy.max_age.days):
        short = [msg for f in fams if (msg := _short_history(f, policy, days, now))]
        r.check(
            f"{days} days kept",
            not short,
            observed=short or "every log",
            expected=f"rotated files covering {days} days (plain or gzip), or every rotation since the log began",
        )
    # CLEANUP
    empty = [e.name for e in lives if e.size == 0]
    orphans = [m.name for f in fams for m in f.members if (m.rotated.index or 0) > policy.keep]
    r.check(
        "empty files removed",
        not empty,
        observed=empty or "none",
        expected="logs.cleanup removes empty logs no process holds open",
        warn_only=True,
    )
    r.check(
        "orphaned logs deleted",
        not orphans and not inv.temps,
        observed=orphans + [e.name for e in inv.temps] or "none",
        expected=f"nothing beyond MAINT_LOG_KEEP={policy.keep}, no temp files",
        warn_only=True,
    )
    r.check(
        "disk space within limits",
        usage <= settings.log_disk_limit_bytes,
        observed=human_bytes(usage),
        expected=f"<= {human_bytes(settings.log_disk_limit_bytes)}",
    )
    perms = _permissions(inv, settings)
    r.check(
        "no permission issues",
        not perms,
        observed=perms or "none",
        expected=f"live logs {settings.log_create_mode:04o}, nothing world-writable",
    )
    if inv.links:
        r.check(
            "symbolic links left alone",
            False,
            observed=[f"{e.name} -> {e.target}" for e in inv.links],
            expected="no links among the logs",
            warn_only=True,
        )
    # ERROR MONITORING
    counts = {
        "ERROR": sum(e.counts["ERROR"] for e in errors.values()),
        "CRITICAL": sum(e.counts["CRITICAL"] for e in errors.values()),
    }
    sev = scan.severity(counts)
    r.check(
        "errors since the previous report",
        not sum(counts.values()),
        observed=f"{counts['ERROR']} ERROR, {counts['CRITICAL']} CRITICAL (severity {sev})",
        expected="none",
        warn_only=True,
    )
    r.figures = {
        "logs": [
            {
                "log": f.base,
                "size_bytes": f.live.size if f.live else None,
                "rotated": len(f.members),
                "compressed": sum(m.rotated.compressed for m in f.members),
                "error": errors[f.base].counts["ERROR"] if f.base in errors else 0,
                "critical": errors[f.base].counts["CRITICAL"] if f.base in errors else 0,
            }
            for f in fams
        ],
        "sizes": sizes,
        "total_bytes": total,
        "disk_usage_bytes": usage,
        "errors": {b: e.to_dict() for b, e in errors.items() if e.total or e.problems},
        "error_counts": counts,
        "severity": sev,
        "links": [{"name": e.name, "target": e.target} for e in inv.links],
    }
    needs = [c.name for c in r.failed]
    r.summary = (
        (f"NEEDS ATTENTION: {', '.join(needs)}" if needs else "OK")
        + f"; {len(lives)} log(s), {human_bytes(total)}; {counts['ERROR']} ERROR, {counts['CRITICAL']} CRITICAL"
    )
    return r


def _short_history(f: Family, policy: Policy, days: int, now: datetime) -> str | None:
    """Why ``f`` keeps less than ``days`` of history, or None: its rotated files reach
    that far back, or nothing was ever dropped (fewer than KEEP of them)."""
    if len(f.members) < policy.keep:
        return None
    oldest = min(m.entry.mtime for m in f.members)
    if now - oldest >= timedelta(days=days - 1):
        return None
    return f"{f.base}: {len(f.members)} rotated files reach back {(now - oldest).days} day(s) (size rotations?)"


def _permissions(inv: Inventory, settings: Any) -> list[str]:
    out = []
    for f in inv.families.values():
        if f.live is not None and f.live.mode != settings.log_create_mode:
            out.append(f"{f.live.name} is {f.live.mode:04o}")
        for m in f.members:
            if m.entry.mode & 0o002:
                out.append(f"{m.name} is world-writable ({m.entry.mode:04o})")
    return sorted(out)
