"""The judgement of what runs the maintenance itself and where: Celery (workers,
queues, failed runs, the newest verified backup) and the host (pure; docs/health.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maintenance.health.document import Entry, Status
from maintenance.health.facts import (
    BackupFacts,
    HistoryFacts,
    HostFacts,
)
from maintenance.health.parallel import Outcome
from maintenance.health.policy import HealthPolicy, Ids, entries, limit, pct
from maintenance.units import human_bytes

# --- Celery ----------------------------------------------------------------------------


def celery(
    workers: Outcome,
    queues: Outcome,
    history: Outcome,
    backups: Outcome,
    p: HealthPolicy,
    now: datetime,
    ids: Ids,
) -> list[Entry]:
    entry = entries("celery", "component", now, None, per_call_id=True)

    out: list[Entry] = []
    if workers.ok:
        names: list[str] = workers.value
        few = len(names) < p.min_workers
        out.append(
            limit(
                entry,
                "workers",
                len(names),
                "workers",
                few,
                f"{len(names)} answered the ping, {p.min_workers} needed",
                Status.FAIL,
            )
        )
    else:
        out.append(
            entry(
                "workers", Status.FAIL, None, "workers", f"no answer to the ping: {workers.problem}"
            )
        )
    if queues.ok:
        lengths: dict[str, int] = queues.value
        for name, n in lengths.items():
            long_ = n > p.queue_max
            out.append(
                entry(
                    "queueLength",
                    Status.WARN if long_ else Status.PASS,
                    n,
                    "messages",
                    f"{n:,} messages waiting, above {p.queue_max:,}" if long_ else None,
                    name,
                )
            )
    else:
        out.append(
            entry(
                "queueLength",
                Status.FAIL,
                None,
                "messages",
                f"broker {ids.broker}: {queues.problem}",
            )
        )
    if history.ok:
        h: HistoryFacts = history.value
        many = h.failed_total > p.failed_runs_max
        listed = ", ".join(f"{r.task} run {r.id} {r.status}" for r in h.failed[:5])
        out.append(
            limit(
                entry,
                "failedRuns",
                h.failed_total,
                "runs",
                many,
                f"{h.failed_total} in 24 h: {listed}" + (" ..." if h.failed_total > 5 else ""),
            )
        )
    else:
        out.append(
            entry(
                "failedRuns",
                Status.WARN,
                None,
                "runs",
                f"job history not readable: {history.problem}",
            )
        )
    out.append(_backup_age(backups, p, now, entry))
    return out


def _backup_age(o: Outcome, p: HealthPolicy, now: datetime, entry: Any) -> Entry:
    if not o.ok:
        return entry(
            "lastVerifiedBackup", Status.WARN, None, "h", f"backups not readable: {o.problem}"
        )
    b: BackupFacts = o.value
    if b.newest_at is None:
        return entry(
            "lastVerifiedBackup",
            Status.WARN,
            None,
            "h",
            f"no verified backup in {b.root} ({b.backups} backups)",
        )
    hours = round((now - b.newest_at).total_seconds() / 3600, 1)
    status = (
        Status.FAIL
        if hours > p.backup_fail_hours
        else Status.WARN
        if hours > p.backup_warn_hours
        else Status.PASS
    )
    bound = p.backup_fail_hours if status is Status.FAIL else p.backup_warn_hours
    return entry(
        "lastVerifiedBackup",
        status,
        hours,
        "h",
        f"{b.newest_id} is {hours:g} h old, above {bound:g} h"
        if status is not Status.PASS
        else None,
        b.newest_id,
    )


# --- host ------------------------------------------------------------------------------


def host(
    o: Outcome, folders: Outcome | None, p: HealthPolicy, now: datetime, ids: Ids
) -> tuple[list[Entry], list[str]]:
    """The host's entries, and notes (a root that does not exist)."""

    entry = entries("host", "system", now, ids.host or None, per_call_id=True)

    f: HostFacts | None = o.value if o.ok else None
    if f is None:
        return [
            entry("diskUtilization", Status.FAIL, None, "%", f"host not readable: {o.problem}")
        ], []
    out: list[Entry] = []
    notes: list[str] = []
    for d in f.disks:
        cid = f"{d.label} {d.root}"
        r = d.used / d.total if d.total else 0.0
        status = (
            Status.FAIL if r >= p.disk_fail else Status.WARN if r >= p.disk_warn else Status.PASS
        )
        bound = p.disk_fail if status is Status.FAIL else p.disk_warn
        out.append(
            entry(
                "diskUtilization",
                status,
                pct(r),
                "%",
                f"{pct(r):g}% used, at or above {pct(bound):g}% ({human_bytes(d.free)} free)"
                if status is not Status.PASS
                else None,
                cid,
            )
        )
        low = d.free < p.disk_min_free_bytes
        out.append(
            entry(
                "diskFree",
                Status.FAIL if low else Status.PASS,
                d.free,
                "bytes",
                f"{human_bytes(d.free)} free, below {human_bytes(p.disk_min_free_bytes)}"
                if low
                else None,
                cid,
            )
        )
        size = folders.value.get(d.label) if folders is not None and folders.ok else None
        if size is not None:
            out.append(entry("folderSize", Status.PASS, size, "bytes", None, cid))
        if d.measured != d.root:
            notes.append(
                f"the {d.label} root {d.root} does not exist: its disk was measured at {d.measured}"
            )
    if folders is not None and not folders.ok:
        out.append(
            entry("folderSize", Status.WARN, None, "bytes", f"not measured: {folders.problem}")
        )
    mem = f.memory_percent / 100
    high = mem > p.memory_max
    out.append(
        limit(
            entry,
            "memoryUtilization",
            round(f.memory_percent, 1),
            "%",
            high,
            f"{f.memory_percent:.1f}% used, above {pct(p.memory_max):g}% ({human_bytes(f.memory_available)} available)",
        )
    )
    load1 = round(f.load[0], 2)
    busy = load1 > p.load_per_core_max * f.cpus
    out.append(
        limit(
            entry,
            "loadAverage",
            load1,
            None,
            busy,
            f"1-minute load {load1:g} on {f.cpus} cores, above {p.load_per_core_max:g} per core",
        )
    )
    return out, notes
