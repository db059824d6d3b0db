"""``logs.rotate``: logrotate's daily rotation of MAINT_LOG_ROOT, as :mod:`.plan` decides it.

Read the folder, plan (pure), then act: per log, delete what is beyond MAINT_LOG_KEEP,
shift, rename the live log, ``create`` the new one (mode, owner, group); record the
rotation; tell the writers to reopen (once); read the folder again and compress the
rotated files but the newest (never one still open for writing). A step that fails
stops that log's rotation and fails its check; the other logs go on.
"""

from __future__ import annotations

import grp
import pwd
from typing import Any

from pydantic import Field

from maintenance import clock
from maintenance.errors import MaintenanceError
from maintenance.fs import delete
from maintenance.logs import compress, hosts, inventory, plan, reopen, state, writers
from maintenance.logs.files import LogRoot
from maintenance.logs.plan import FamilyPlan, Policy, Step
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

HOST_HELP = "The host this run is for (beat sets it); refused unless it is this MAINT_LOG_HOST."


class RotateParams(Params):
    host: str | None = Field(None, description=HOST_HELP)
    force: bool = Field(False, description="Rotate every non-empty log now (logrotate -f).")
    only_oversized: bool = Field(
        False, description="Rotate only the logs over MAINT_LOG_MAX_BYTES (the hourly size check)."
    )
    dry_run: bool = Field(
        False,
        description="Say what would be renamed, created, deleted and compressed; change nothing.",
    )


def rotate(ctx: RunContext, params: RotateParams) -> Result:
    settings = ctx.settings
    hosts.check_host(ctx.task, params.host, settings.log_host)
    policy = Policy.of(settings)
    result = Result()
    with LogRoot(settings.log_root) as root, state.host_lock(root, ctx.task):
        st, problem = state.load(root)
        if problem:
            result.check(
                "rotation state readable",
                False,
                observed=problem,
                expected="state.json",
                warn_only=True,
            )
        now = clock.now()
        inv = inventory.classify(root.entries(), policy.patterns, policy.scheme)
        plans = plan.rotation(
            inv, policy, st.rotated, now, force=params.force, only_oversized=params.only_oversized
        )
        rotated, failures = [], []
        if not params.dry_run:
            for p in plans:
                if p.due and not p.blocked:
                    error, renamed = _apply(root, p, settings)
                    if error:
                        failures.append(f"{p.base}: {error}")
                    if renamed:
                        st.rotated[p.base] = now
                        rotated.append(p.base)
            if rotated:
                state.save(root, st)
        _report_plans(result, plans, failures, dry_run=params.dry_run)
        reopened = reopen.reopen(settings) if rotated else []
        _report_reopen(result, rotated, reopened, settings)
        outcomes, left = _compress(root, settings, dry_run=params.dry_run)
        _report_compression(result, outcomes, left, dry_run=params.dry_run)
        if inv.links:
            result.check(
                "symbolic links left alone",
                False,
                observed=[f"{e.name} -> {e.target}" for e in inv.links],
                expected="no links among the logs (never followed, rotated or deleted)",
                warn_only=True,
            )
    due = [p.base for p in plans if p.due and not p.blocked]
    result.figures = {
        "host": settings.log_host,
        "dry_run": params.dry_run,
        "plans": [p.to_dict() for p in plans],
        "rotated": rotated,
        "reopen": [r.to_dict() for r in reopened],
        "compressed": [c.to_dict() for c in outcomes],
        "left_plain": [x.to_dict() for x in left],
        "links": [{"name": e.name, "target": e.target} for e in inv.links],
    }
    verb = "would rotate" if params.dry_run else "rotated"
    names = due if params.dry_run else rotated
    done = [c for c in outcomes if c.ok]
    result.summary = f"{verb} {len(names)} of {len(plans)} log(s)" + (
        f" ({', '.join(names)})" if names else ""
    )
    if done:
        before, after = sum(c.plain_bytes for c in done), sum(c.gz_bytes for c in done)
        result.summary += (
            f"; compressed {len(done)} ({human_bytes(before)} -> {human_bytes(after)})"
        )
    if failures:
        result.summary += f"; {len(failures)} failed"
    return result


def _apply(root: LogRoot, p: FamilyPlan, settings: Any) -> tuple[str | None, bool]:
    """Run one log's steps in order; the first failure stops them. Return the failure
    and whether the live log was renamed (then it counts as rotated)."""
    renamed = False
    for step in p.steps:
        try:
            _step(root, step, settings)
        except (OSError, MaintenanceError) as exc:
            return f"{step.describe()}: {exc}", renamed
        renamed = renamed or (step.kind == "rename" and step.name == p.base)
    return None, renamed


def _step(root: LogRoot, step: Step, settings: Any) -> None:
    if step.kind == "delete":
        delete.delete(root.path / step.name, root=root.path, reason=step.reason, dry_run=False)
    elif step.kind == "rename":
        assert step.to
        root.rename(step.name, step.to)
    elif step.kind == "create":
        like = step.like
        uid = _uid(settings.log_create_owner, like.uid if like else -1)
        gid = _gid(settings.log_create_group, like.gid if like else -1)
        root.create(step.name, settings.log_create_mode, uid, gid)
    root.fsync()


def _uid(owner: str | None, default: int) -> int:
    if owner is None:
        return default
    if owner.isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise MaintenanceError(f"MAINT_LOG_CREATE_OWNER: no user {owner!r} on this host") from None


def _gid(group: str | None, default: int) -> int:
    if group is None:
        return default
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise MaintenanceError(f"MAINT_LOG_CREATE_GROUP: no group {group!r} on this host") from None


def _compress(
    root: LogRoot, settings: Any, *, dry_run: bool
) -> tuple[list[compress.Compressed], list[plan.Left]]:
    """After the reopen: read the folder again and compress all but the newest."""
    policy = Policy.of(settings)
    inv = inventory.classify(root.entries(), policy.patterns, policy.scheme)
    plain = [m.entry for f in inv.families.values() for m in f.members if not m.rotated.compressed]
    seen = writers.scan(plain, visible=writers.can_see_writers(settings.log_writers_visible))
    steps, left = plan.compression(inv, seen, clock.now(), keep_newest_plain=True)
    if dry_run:
        would = [
            compress.Compressed(s.name, s.to or "", True, note="would compress") for s in steps
        ]
        return would, left
    return compress.compress_all(root, steps, compress.workers(settings.log_compress_workers)), left


def _report_plans(
    result: Result, plans: list[FamilyPlan], failures: list[str], *, dry_run: bool
) -> None:
    blocked = [f"{p.base}: {p.blocked}" for p in plans if p.blocked]
    result.check(
        "logs rotated" if not dry_run else "rotation planned",
        not failures and not blocked,
        observed=failures + blocked or [f"{p.base}: {p.reason}" for p in plans] or "no logs",
        expected="each due log renamed and created anew (logrotate: daily, maxsize, notifempty)",
    )


def _report_reopen(
    result: Result, rotated: list[str], reopened: list[reopen.Reopened], settings: Any
) -> None:
    if not rotated:
        return
    if not reopened:
        result.check(
            "writers told to reopen",
            True,
            observed="none configured: WatchedFileHandler writers reopen by themselves",
            expected="MAINT_LOG_REOPEN_PIDFILE or MAINT_LOG_REOPEN_COMMAND, if writers need it",
        )
        return
    for r in reopened:
        result.check(
            "writers told to reopen",
            r.ok,
            observed=f"{r.how}: {r.detail}",
            expected="the signal delivered / the command exited 0",
            detail=None
            if r.ok
            else "the writer keeps writing the renamed file; it is not compressed while open",
        )


def _report_compression(
    result: Result, outcomes: list[compress.Compressed], left: list[plan.Left], *, dry_run: bool
) -> None:
    bad = [f"{c.name}: {c.note}" for c in outcomes if not c.ok]
    result.check(
        "rotated logs compressed" if not dry_run else "compression planned",
        not bad,
        observed=bad or [f"{c.name} -> {c.to}" for c in outcomes] or "nothing to compress",
        expected="gzip written whole, then the plain file deleted",
    )
    open_ = [f"{x.name}: {x.reason}" for x in left if "open" in x.reason]
    if open_:
        result.check(
            "no rotated log still open for writing",
            False,
            observed=open_,
            expected="every writer reopened its log after the rotation",
            warn_only=True,
        )
