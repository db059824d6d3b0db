"""What needs the on-call engineer's attention: a pure function of (facts, policy, now).

:func:`judge` returns the reasons, most severe first; ``maint status`` prints the first
on its first line and exits 1 when there is any (docs/status.md lists the rules). What
the history does not show is not a reason while the suite is new: a tier no backup has
run for, no health sample yet, a drill never run. Once the history is older than a
tier's limit (``MAINT_STATUS_BACKUP_MAX_AGE_H``: a daily backup within 26 h) with no
verified backup of it, or older than the health staleness with no sample, the absence
is the finding: nothing is running (beat down, no worker), which is the silence this
screen exists to break. What the history shows is judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from maintenance.oncall.model import PROBLEMS, Snapshot
from maintenance.units import human_age as age
from maintenance.units import human_bytes
from maintenance.units import human_duration as took

#: The on-call screen's areas, each with the task-name prefixes it holds (in this order).
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("backups", ("backup.",)),
    ("restores", ("restore.",)),
    ("logs", ("logs.",)),
    ("cache", ("cache.",)),
    ("upkeep", ("db.",)),
    ("health", ("health.", "alerts.")),
    ("security", ("security.",)),
)
OTHER = "other"


def area_of(task: str) -> str:
    """The area a task is shown under (``other``: windows, notices, diagnostics ...)."""
    for area, prefixes in AREAS:
        if task.startswith(prefixes):
            return area
    return OTHER


def area_names() -> list[str]:
    return [a for a, _ in AREAS] + [OTHER]


class Severity(IntEnum):
    """Most severe first: a backup or a disk that cannot take one, then drills, alerts
    and runs failing again and again, then any other run problem."""

    CRITICAL = 0
    HIGH = 1
    MEDIUM = 2

    @property
    def word(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Reason:
    severity: Severity
    area: str
    #: stable, for scripts: ``backup:daily``, ``run:backup.create``, ``alert:health:api`` ...
    key: str
    #: the whole reason, one line
    text: str
    #: a few words for the headline: ``backup.create failed``, ``drill missed RTO objective``
    short: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.word,
            "area": self.area,
            "key": self.key,
            "short": self.short,
            "text": self.text,
        }


def headline(reasons: list[Reason], width: int | None = None) -> str:
    """The first line of ``maint status``: ``OK: ...``, or ``ATTENTION:`` and the short
    form of every reason, most severe first, as many as fit in ``width`` (the rest
    counted: ``+2 more``)."""
    if not reasons:
        return "OK: nothing needs attention"
    line = "ATTENTION: " + reasons[0].short
    for n, r in enumerate(reasons[1:], start=1):
        longer = f"{line}; {r.short}"
        rest = len(reasons) - n - 1
        tail = f" (+{rest} more)" if rest else ""
        if width is not None and len(longer + tail) > width:
            return f"{line} (+{len(reasons) - n} more)"
        line = longer
    return line


@dataclass(frozen=True)
class Policy:
    backup_max_age_s: Mapping[str, float]
    failures_in_a_row: int
    health_stale_s: float
    disk_min_free_bytes: int
    disk_fail_ratio: float

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(
            backup_max_age_s={t: h * 3600 for t, h in settings.status_backup_max_age_h.items()},
            failures_in_a_row=settings.status_failures_in_a_row,
            health_stale_s=settings.status_health_stale_s,
            disk_min_free_bytes=settings.health_disk_min_free_bytes,
            disk_fail_ratio=settings.health_disk_fail,
        )


def why(run: Any) -> str:
    """A run's reason in one line: its error, else its summary."""
    if run.error_type:
        return f"{run.error_type}: {' '.join((run.error_message or '').split())}"
    return " ".join((run.summary or "").split()) or "no reason recorded"


def judge(snap: Snapshot, policy: Policy, now: datetime) -> list[Reason]:
    """Every reason for attention in ``snap``, most severe first (then in the order of
    the screen: backups, drills, disks, health, alerts, runs)."""
    found: list[Reason] = []
    found += _backups(snap, policy, now)
    found += _drill(snap)
    found += _disks(snap, policy)
    found += _health(snap, policy, now)
    found += _alerts(snap, now)
    found += _runs(snap, policy)
    return sorted(found, key=lambda r: r.severity)  # stable: the screen's order within


def _backups(snap: Snapshot, policy: Policy, now: datetime) -> list[Reason]:
    out = []
    for tier in ("daily", "weekly", "monthly"):
        newest = snap.backups.get(tier)
        limit = policy.backup_max_age_s.get(tier)
        if newest is None:
            since = (
                (now - snap.history_since).total_seconds() if snap.history_since else None
            )
            if tier == "daily" and since is not None and limit is not None and since > limit:
                out.append(
                    Reason(
                        Severity.CRITICAL,
                        "backups",
                        f"backup:{tier}",
                        f"no verified {tier} backup in {age(since)} of history "
                        f"(limit {age(limit)}): is beat sending backup.create?",
                        f"no verified {tier} backup",
                    )
                )
            elif tier in snap.backup_tiers_run:
                out.append(
                    Reason(
                        Severity.CRITICAL,
                        "backups",
                        f"backup:{tier}",
                        f"no verified {tier} backup: backup.create has run for the tier, "
                        "but no run proved a backup (full or restore)",
                        f"no verified {tier} backup",
                    )
                )
            continue
        seconds = (now - newest.created_at).total_seconds()
        if limit is not None and seconds > limit:
            out.append(
                Reason(
                    Severity.CRITICAL,
                    "backups",
                    f"backup:{tier}",
                    f"newest verified {tier} backup is {age(seconds)} old "
                    f"(limit {age(limit)}): {newest.id}",
                    f"{tier} backup {age(seconds)} old",
                )
            )
    return out


def _drill(snap: Snapshot) -> list[Reason]:
    d = snap.drill
    if d is None or d.status not in PROBLEMS:
        return []
    missed = []
    if d.rto_s is not None and d.rto_objective_s is not None and d.rto_s > d.rto_objective_s:
        missed.append(f"RTO {took(d.rto_s)} > objective {took(d.rto_objective_s)}")
    if d.rpo_s is not None and d.rpo_objective_s is not None and d.rpo_s > d.rpo_objective_s:
        missed.append(f"RPO {took(d.rpo_s)} > objective {took(d.rpo_objective_s)}")
    if missed:
        text = f"last drill (run {d.run_id}) missed its objective: " + ", ".join(missed)
        short = "drill missed " + " and ".join(m.split()[0] for m in missed) + " objective"
    else:
        said = d.error or " ".join((d.summary or "").split()) or "no reason recorded"
        text = f"last drill (run {d.run_id}) {d.status}: {said}"
        short = f"drill {d.status}"
    return [Reason(Severity.HIGH, "restores", "drill", text, short)]


def _disks(snap: Snapshot, policy: Policy) -> list[Reason]:
    if snap.health is None:
        return []
    out = []
    for disk in snap.health.disks:
        low = disk.free_bytes is not None and disk.free_bytes < policy.disk_min_free_bytes
        full = disk.used_ratio is not None and disk.used_ratio >= policy.disk_fail_ratio
        if low or full:
            free = human_bytes(disk.free_bytes) if disk.free_bytes is not None else "?"
            used = f"{disk.used_ratio:.0%}" if disk.used_ratio is not None else "?"
            out.append(
                Reason(
                    Severity.CRITICAL,
                    "health",
                    f"disk:{disk.label}",
                    f"{disk.label} disk {disk.root}: {free} free, {used} used",
                    f"{disk.label} disk {free} free",
                )
            )
    return out


def _health(snap: Snapshot, policy: Policy, now: datetime) -> list[Reason]:
    h = snap.health
    if h is None:
        since = (now - snap.history_since).total_seconds() if snap.history_since else 0.0
        if since > policy.health_stale_s:
            return [
                Reason(
                    Severity.HIGH,
                    "health",
                    "health:stale",
                    f"no health sample in {age(since)} of history: is beat sending "
                    "health.check (every 5 minutes)?",
                    "no health check",
                )
            ]
        return []
    out = []
    stale = (now - h.taken_at).total_seconds()
    if stale > policy.health_stale_s:
        out.append(
            Reason(
                Severity.HIGH,
                "health",
                "health:stale",
                f"no health sample for {age(stale)}: health.check has stopped",
                "health check stopped",
            )
        )
    if h.status == "fail":
        failing = [c for c, s in h.components.items() if s == "fail"]
        detail = "; ".join(f"{c}: {h.outputs.get(c, 'fail')}" for c in failing)
        out.append(
            Reason(
                Severity.CRITICAL,
                "health",
                "health:critical",
                f"health critical: {detail}",
                "health critical",
            )
        )
    return out


def _alerts(snap: Snapshot, now: datetime) -> list[Reason]:
    out = []
    for a in snap.alerts:
        if a.status == "pass":
            continue  # only held by a window: announced when the window ends, if still open
        since = a.opened_at or a.notified_at
        output = " ".join(a.output.split())
        out.append(
            Reason(
                Severity.HIGH if a.status == "fail" else Severity.MEDIUM,
                "health",
                f"alert:{a.key}",
                f"alert open: {a.key} {a.status} for {age((now - since).total_seconds())}"
                + (f": {output}" if output else ""),
                f"alert {a.key} {a.status}",
            )
        )
    return out


def _runs(snap: Snapshot, policy: Policy) -> list[Reason]:
    out = []
    for run in snap.latest:
        if run.status not in PROBLEMS or run.task == "restore.drill":  # the drill: above
            continue
        figures = snap.tasks.get(run.task)
        streak = figures.failures_in_a_row if figures else 1
        repeated = streak >= policy.failures_in_a_row
        severity = (
            Severity.CRITICAL
            if run.task.startswith("backup.")
            else Severity.HIGH
            if repeated
            else Severity.MEDIUM
        )
        times = f" ({streak} in a row)" if streak > 1 else ""
        out.append(
            Reason(
                severity,
                area_of(run.task),
                f"run:{run.task}",
                f"{run.task} {run.status}{times} (run {run.id}): {why(run)}",
                f"{run.task} {run.status}" + (f" {streak}x" if streak > 1 else ""),
            )
        )
    return out
