"""Counter samples of the cache server, and the interval between two of them (pure).

Redis counts hits, misses, evictions and expirations since it started (or since
``CONFIG RESETSTAT``), for the whole server. A ratio over "since start" says little about
last night; so every ``cache.stats`` run stores its sample in its own result
(``figures.sample``, in the job history) and the next run computes the interval from it.

The interval is only a difference when both samples come from the same server run
(``run_id``) and no counter went down; otherwise (a restart, a reset, a different
server) it falls back, and says so, to the counters as they stand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from maintenance.errors import MaintenanceError
from maintenance.history import store

STATS_TASK = "cache.stats"

COUNTERS = ("hits", "misses", "evicted", "expired")


@dataclass(frozen=True)
class Sample:
    """The server's counters at one moment."""

    taken_at: datetime
    server_run_id: str
    uptime_s: int
    hits: int
    misses: int
    evicted: int
    expired: int

    @classmethod
    def from_info(cls, info: Mapping[str, Any], taken_at: datetime) -> Sample:
        """From ``INFO`` (server and stats sections)."""
        return cls(
            taken_at=taken_at,
            server_run_id=str(info.get("run_id", "")),
            uptime_s=int(info.get("uptime_in_seconds", 0)),
            hits=int(info.get("keyspace_hits", 0)),
            misses=int(info.get("keyspace_misses", 0)),
            evicted=int(info.get("evicted_keys", 0)),
            expired=int(info.get("expired_keys", 0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"taken_at": self.taken_at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample | None:
        """A stored sample, or None if it is not one (an older or damaged result)."""
        try:
            return cls(
                taken_at=datetime.fromisoformat(str(data["taken_at"])),
                server_run_id=str(data["server_run_id"]),
                uptime_s=int(data["uptime_s"]),
                **{name: int(data[name]) for name in COUNTERS},
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Interval:
    """Counts over an interval, and what the interval is."""

    #: ``previous sample``, ``server start`` (restart, or no earlier sample) or
    #: ``counter reset`` (CONFIG RESETSTAT since the previous sample).
    basis: str
    #: When the interval began (for ``counter reset``: no later than this).
    since: datetime
    until: datetime
    hits: int
    misses: int
    evicted: int
    expired: int

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_ratio(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None

    @property
    def hours(self) -> float:
        return round((self.until - self.since).total_seconds() / 3600, 2)

    def describe(self) -> str:
        when = f"{self.since:%Y-%m-%d %H:%M}Z"
        if self.basis == "previous sample":
            return f"since the previous sample ({when}, {self.hours:g} h)"
        if self.basis == "counter reset":
            return f"since a counter reset (CONFIG RESETSTAT) after {when}"
        return f"since the server started ({when}, {self.hours:g} h)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "since": self.since.isoformat(),
            "hours": self.hours,
            "hits": self.hits,
            "misses": self.misses,
            "lookups": self.lookups,
            "evicted": self.evicted,
            "expired": self.expired,
        }


def interval(previous: Sample | None, current: Sample) -> Interval:
    """The counts between ``previous`` and ``current`` (see the module text)."""
    counts = {name: getattr(current, name) for name in COUNTERS}
    if previous is not None and previous.server_run_id == current.server_run_id:
        deltas = {name: counts[name] - getattr(previous, name) for name in COUNTERS}
        if previous.taken_at < current.taken_at and min(deltas.values()) >= 0:
            return Interval("previous sample", previous.taken_at, current.taken_at, **deltas)
        if previous.taken_at < current.taken_at:
            return Interval("counter reset", previous.taken_at, current.taken_at, **counts)
    started = current.taken_at - timedelta(seconds=current.uptime_s)
    return Interval("server start", started, current.taken_at, **counts)


@dataclass(frozen=True)
class Recorded:
    """An earlier ``cache.stats`` run: its sample and the hit ratio it reported."""

    run_id: int
    sample: Sample
    hit_ratio: float | None
    lookups: int | None


def recorded(history_dsn: str, *, limit: int = 60) -> tuple[list[Recorded], str | None]:
    """The samples of the last ``limit`` ``cache.stats`` runs, newest first, and why
    there are none if the history could not be read (the run goes on without them)."""
    try:
        runs = store.list_runs(history_dsn, task=STATS_TASK, limit=limit)
    except MaintenanceError as exc:
        return [], f"job history not readable ({type(exc).__name__})"
    out: list[Recorded] = []
    for run in runs:
        figures = (run.result or {}).get("figures") or {}
        sample = Sample.from_dict(figures.get("sample") or {})
        if sample is None or run.id is None:
            continue
        lookups = (figures.get("interval") or {}).get("lookups")
        ratio = figures.get("hit_ratio")
        out.append(
            Recorded(
                run.id,
                sample,
                float(ratio) if isinstance(ratio, int | float) else None,
                int(lookups) if isinstance(lookups, int) else None,
            )
        )
    return out, None
