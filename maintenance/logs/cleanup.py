"""``logs.cleanup``: the playbook's weekly log cleanup (Sunday 03:00), in four steps,
each reading the folder again and acting on a pure decision (:mod:`.cleanup_plan`):

1. compress rotated logs last written more than a day ago (never one still open);
2. archive each past month's compressed logs (:mod:`.archive`), read back;
3. delete rotated logs older than MAINT_LOG_MAX_AGE_DAYS that an intact archive holds,
   orphans beyond MAINT_LOG_KEEP, empty live logs no process holds open, and temp files
   of interrupted writes; every deletion through :func:`maintenance.fs.delete.delete`,
   ``dry_run`` threaded through;
4. the disk usage of MAINT_LOG_ROOT (``du -s``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from pydantic import Field

from maintenance import clock
from maintenance.errors import MaintenanceError
from maintenance.fs import delete, digest, temp
from maintenance.logs import archive, cleanup_plan, compress, hosts, inventory, plan, state, writers
from maintenance.logs.files import LogRoot, disk_usage
from maintenance.logs.inventory import ARCHIVE_DIR, Inventory
from maintenance.logs.plan import Policy
from maintenance.logs.rotate import HOST_HELP
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

COMPRESS_AFTER = timedelta(days=1)


class CleanupParams(Params):
    host: str | None = Field(None, description=HOST_HELP)
    dry_run: bool = Field(
        False, description="Say what would be compressed, archived and deleted; change nothing."
    )


def cleanup(ctx: RunContext, params: CleanupParams) -> Result:
    settings = ctx.settings
    hosts.check_host(ctx.task, params.host, settings.log_host)
    policy = Policy.of(settings)
    dry = params.dry_run
    result = Result()
    with LogRoot(settings.log_root) as root, state.host_lock(root, ctx.task):
        # 1. compress what is more than a day old
        inv = _list(root, policy)
        visible = writers.can_see_writers(settings.log_writers_visible)
        plain = [
            m.entry for f in inv.families.values() for m in f.members if not m.rotated.compressed
        ]
        seen = writers.scan(plain, visible=visible)
        steps, left = plan.compression(
            inv, seen, clock.now(), keep_newest_plain=False, min_age=COMPRESS_AFTER
        )
        if dry:
            outcomes = [
                compress.Compressed(s.name, s.to or "", True, note="would compress") for s in steps
            ]
        else:
            outcomes = compress.compress_all(
                root, steps, compress.workers(settings.log_compress_workers)
            )
        bad = [f"{c.name}: {c.note}" for c in outcomes if not c.ok]
        result.check(
            "rotated logs older than a day compressed",
            not bad,
            observed=bad or [f"{c.name} -> {c.to}" for c in outcomes] or "nothing to compress",
            expected="gzip written whole, then the plain file deleted",
        )
        # 2. monthly archives
        inv = _list(root, policy)
        folder = root.path / ARCHIVE_DIR
        past = cleanup_plan.past_compressed(inv, policy.zone, clock.now())
        hashes = _hashes(root, past)
        parts = _parts(folder, {cleanup_plan.month_of(m.entry, policy.zone) for m in past})
        work, waiting = cleanup_plan.archive_plan(inv, parts, hashes, clock.now(), policy.zone)
        written: list[dict[str, Any]] = []
        problems: list[str] = []
        if work and not dry:
            try:
                root.subdir(ARCHIVE_DIR)
            except MaintenanceError as exc:  # a file or a link where the folder goes
                problems.append(str(exc))
                work = []
        for w in work:
            files = [(m, hashes[m.name]) for m in w.files]
            name = archive.part_name(w.month, w.number)
            if dry:
                written.append({"name": name, "files": len(files), "dry_run": True})
                part = archive.Part(
                    name,
                    w.month,
                    w.number,
                    {archive.member_name(m): archive.identity(m, s) for m, s in files},
                )
            else:
                try:
                    part = archive.write_part(root, folder, w.month, w.number, files)
                except (OSError, MaintenanceError) as exc:
                    problems.append(f"{name}: {exc}")
                    continue
                written.append({"name": name, "files": len(files), "intact": part.intact})
                problems += [f"{name}: {p}" for p in part.problems]
            parts.setdefault(w.month, []).append(part)
        broken = [
            f"{p.name}: {'; '.join(p.problems)}"
            for ps in parts.values()
            for p in ps
            if not p.intact
        ]
        result.check(
            "monthly archives written and read back",
            not problems and not broken,
            observed=problems + broken
            or [f"{w['name']}: {w['files']} file(s)" for w in written]
            or "nothing to archive",
            expected="each past month's compressed logs in an intact archive/logs_YYYY-MM.tar",
        )
        # 3. delete
        inv = _list(root, policy)
        have = cleanup_plan.archived(parts)
        hashes = _hashes(
            root,
            [
                m
                for m in cleanup_plan.past_compressed(inv, policy.zone, clock.now())
                if clock.now() - m.entry.mtime > policy.max_age
            ],
        )
        empty = [f.live for f in inv.families.values() if f.live is not None and f.live.size == 0]
        deletes, kept = cleanup_plan.deletions(
            inv, policy, have, hashes, writers.scan(empty, visible=visible), clock.now()
        )
        deletes += [
            plan.Step("delete", f"{ARCHIVE_DIR}/{n}", reason="left by an interrupted write")
            for n in _archive_temps(folder)
        ]
        done, refused = _delete(root, deletes, dry)
        result.check(
            "old, empty and orphaned logs deleted" if not dry else "deletions planned",
            not refused,
            observed=refused or [d.describe() for d in done] or "nothing to delete",
            expected="only what the policy names, never a link, never an open file",
        )
        if kept:
            result.check(
                "kept although old or empty",
                True,
                observed=[f"{k.name}: {k.reason}" for k in kept],
                expected="kept for the reason given",
            )
        if inv.links:
            result.check(
                "symbolic links left alone",
                False,
                observed=[f"{e.name} -> {e.target}" for e in inv.links],
                expected="no links among the logs (never followed, read or deleted)",
                warn_only=True,
            )
        # 4. disk usage
        usage = disk_usage(root.path)
        result.check(
            "disk usage within the limit",
            usage <= settings.log_disk_limit_bytes,
            observed=human_bytes(usage),
            expected=f"<= {human_bytes(settings.log_disk_limit_bytes)} (MAINT_LOG_DISK_LIMIT_BYTES)",
        )
    freed = sum(d.size_bytes for d in done)
    result.figures = {
        "host": settings.log_host,
        "dry_run": dry,
        "compressed": [c.to_dict() for c in outcomes],
        "left_plain": [x.to_dict() for x in left],
        "archives": written,
        "archive_waiting": [x.to_dict() for x in waiting],
        "deleted": [d.to_dict() for d in done],
        "kept": [k.to_dict() for k in kept],
        "refused": refused,
        "links": [{"name": e.name, "target": e.target} for e in inv.links],
        "disk_usage_bytes": usage,
    }
    verb = "would delete" if dry else "deleted"
    result.summary = (
        f"{'would compress' if dry else 'compressed'} {sum(c.ok for c in outcomes)}, "
        f"{'would archive' if dry else 'archived'} {sum(w['files'] for w in written)} in "
        f"{len(written)} archive(s), {verb} {len(done)} ({human_bytes(freed)}); "
        f"log folder {human_bytes(usage)}"
    )
    return result


def _list(root: LogRoot, policy: Policy) -> Inventory:
    return inventory.classify(root.entries(), policy.patterns, policy.scheme)


def _hashes(root: LogRoot, members: list[inventory.Member]) -> dict[str, str]:
    out = {}
    for m in members:
        try:
            with root.open_read(m.name, expect=m.entry) as handle:
                out[m.name] = digest.of_stream(handle)[0]
        except (OSError, MaintenanceError):
            continue  # unreadable or replaced: neither archived nor deleted this time
    return out


def _parts(folder: Any, months: set[str]) -> dict[str, list[archive.Part]]:
    """The parts of ``months`` (those with rotated files still on disk), read back."""
    out: dict[str, list[archive.Part]] = {}
    if delete.folder_problem(folder) or not folder.is_dir():
        return out
    for name in sorted(os.listdir(folder)):
        parsed = archive.parse_part(name)
        if parsed and parsed[0] in months and not (folder / name).is_symlink():
            part = archive.read_part(folder, name)
            out.setdefault(part.month, []).append(part)
    return out


def _archive_temps(folder: Any) -> list[str]:
    if delete.folder_problem(folder) or not folder.is_dir():
        return []
    return [n for n in sorted(os.listdir(folder)) if temp.temp_target(n) is not None]


def _delete(
    root: LogRoot, steps: list[plan.Step], dry: bool
) -> tuple[list[delete.Deletion], list[str]]:
    done, refused = [], []
    for s in steps:
        try:
            done.append(
                delete.delete(root.path / s.name, root=root.path, reason=s.reason, dry_run=dry)
            )
        except (OSError, MaintenanceError) as exc:
            refused.append(f"{s.name}: {exc}")
    return done, refused
