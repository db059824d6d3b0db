"""Retention as a pure function of (inventory, policy, now): keep or delete, with a reason.

The rules (pgBackRest / Barman ``minimum_redundancy``, and what the playbook's
``find -mtime +7 -delete`` gets wrong):

* a backup younger than its tier's retention age is kept;
* the newest ``min_verified`` *verified* backups of a tier are kept whatever their age:
  after a week of failed backups the last good ones are still there;
* the newest verified backup of a tier is always kept (even with ``min_verified`` 0);
* an unverified or failed backup never counts toward that floor;
* everything else older than the retention age is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Candidate:
    id: str
    tier: str
    created_at: datetime
    verified: bool
    size_bytes: int = 0


@dataclass(frozen=True)
class Policy:
    max_age: Mapping[str, timedelta]
    min_verified: int


@dataclass(frozen=True)
class Decision:
    id: str
    tier: str
    keep: bool
    reason: str
    created_at: datetime
    size_bytes: int = 0


def _age(now: datetime, created: datetime) -> str:
    days = (now - created).total_seconds() / 86400
    return f"{days:.1f} days old"


def decide(candidates: Sequence[Candidate], policy: Policy, now: datetime) -> list[Decision]:
    """One decision per candidate, in the order given. Pure: no I/O, no clock."""
    protected: dict[str, str] = {}
    by_tier: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_tier.setdefault(c.tier, []).append(c)
    for tier, items in by_tier.items():
        verified = sorted(
            (c for c in items if c.verified), key=lambda c: c.created_at, reverse=True
        )
        floor = max(1, policy.min_verified)
        for rank, c in enumerate(verified[:floor], start=1):
            if rank == 1:
                protected[c.id] = f"newest verified {tier} backup: always kept"
            else:
                protected[c.id] = (
                    f"one of the newest {floor} verified {tier} backups "
                    f"(floor MAINT_RETENTION_MIN_VERIFIED={policy.min_verified}): kept whatever its age"
                )
    out = []
    for c in candidates:
        limit = policy.max_age.get(c.tier)
        age = _age(now, c.created_at)
        if c.id in protected:
            keep, reason = True, f"{age}; {protected[c.id]}"
        elif limit is None:
            keep, reason = True, f"{age}; no retention age for tier {c.tier!r}: kept"
        elif now - c.created_at <= limit:
            keep, reason = True, f"{age}, within {limit.days} days: kept"
        else:
            state = "verified" if c.verified else "unverified or failed"
            keep, reason = False, f"{age}, older than {limit.days} days ({state}): delete"
        out.append(Decision(c.id, c.tier, keep, reason, c.created_at, c.size_bytes))
    return out
