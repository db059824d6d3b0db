"""Delete (or count) the keys of one pattern: SCAN + UNLINK in short batches, with pauses.

One batch is one call of a small Lua script, so the keys never travel to us and back:
it runs ``SCAN cursor MATCH pattern COUNT n`` steps and UNLINKs each step's keys at
once, until the cursor comes back to 0 or the batch has held Redis for its time budget
(``MAINT_CACHE_BATCH_MS``, 1 ms). What keeps other clients fast is that budget: a batch
is one command, and between two of them Redis serves every client that is waiting
before our next batch arrives (a round trip later), so nobody waits longer than about
one batch. Between batches this process yields, and sleeps ``MAINT_CACHE_PAUSE_MS``
(0 by default: measured in docs/benchmarks.md, a sleep there lowered the throughput and
raised other clients' p99 instead of lowering it; a pause buys Redis idle time).

Why it is exact and safe:

* the pattern goes to ``SCAN MATCH`` as it is: what is deleted is what Redis itself
  matches, names with ``*``, ``?``, ``[`` or ``\\`` included (the playbook's
  ``DEL "schedule:*"`` deletes one key literally named so; ``KEYS`` blocks Redis);
* ``SCAN`` returns every key that exists from the first batch to the last, at least
  once; a key it returns twice (while Redis resizes its table) is UNLINKed once, and
  ``deleted`` counts what UNLINK removed, not what SCAN returned. Keys written while the
  sweep runs may or may not be caught;
* the script runs in the database of the client's URL: only the cache's index;
* it carries no ``#!lua`` flags line on purpose: a flagged script that may write is
  refused whole by a cache full under ``noeviction``, exactly when someone needs to
  clear it, while an unflagged one is checked command by command, and UNLINK is always
  allowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

SCRIPT = """
local cursor, pattern, count = ARGV[1], ARGV[2], ARGV[3]
local budget, delete = tonumber(ARGV[4]), ARGV[5] == '1'
local t = redis.call('TIME')
local t0 = t[1] * 1000000 + t[2]
local matched, deleted, steps = 0, 0, 0
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', count)
  cursor = r[1]
  steps = steps + 1
  local keys = r[2]
  matched = matched + #keys
  if delete then
    for i = 1, #keys, 1000 do
      deleted = deleted + redis.call('UNLINK', unpack(keys, i, math.min(i + 999, #keys)))
    end
  end
  t = redis.call('TIME')
until cursor == '0' or (t[1] * 1000000 + t[2]) - t0 >= budget
return {cursor, matched, deleted, steps}
"""


@dataclass
class Sweep:
    """What one sweep did. ``matched`` counts what SCAN returned (a key returned twice
    counts twice); ``deleted`` what UNLINK removed."""

    pattern: str
    dry_run: bool
    matched: int = 0
    deleted: int = 0
    batches: int = 0
    scan_steps: int = 0
    pauses: int = 0
    seconds: float = 0.0

    @property
    def keys_per_s(self) -> float | None:
        done = self.matched if self.dry_run else self.deleted
        return round(done / self.seconds) if self.seconds > 0 else None

    def to_dict(self) -> dict[str, object]:
        return {
            "pattern": self.pattern,
            "dry_run": self.dry_run,
            "matched": self.matched,
            "deleted": self.deleted,
            "batches": self.batches,
            "scan_steps": self.scan_steps,
            "pauses": self.pauses,
            "seconds": round(self.seconds, 3),
            "keys_per_s": self.keys_per_s,
        }


@dataclass(frozen=True)
class Pace:
    """How hard a sweep may press: SCAN's COUNT hint, a batch's time budget, the pause
    between batches."""

    scan_count: int = 200
    batch_s: float = 0.001
    pause_s: float = 0.0

    @classmethod
    def of(cls, scan_count: int, batch_ms: float, pause_ms: float) -> Pace:
        return cls(scan_count, batch_ms / 1000, pause_ms / 1000)


def sweep(
    client: redis.Redis,
    pattern: str,
    *,
    delete: bool,
    pace: Pace,
    pause: Callable[[float], None] = time.sleep,
) -> Sweep:
    """Delete (``delete``) or count the keys matching ``pattern`` in the client's
    database, batch by batch; ``pause(seconds)`` is called between two batches (it is
    the seam a test watches). Redis errors propagate (the caller translates them)."""
    script = client.register_script(SCRIPT)
    report = Sweep(pattern, dry_run=not delete)
    budget_us = max(0, round(pace.batch_s * 1_000_000))
    flag = "1" if delete else "0"
    cursor: bytes | str = "0"
    t0 = time.monotonic()
    while True:
        reply = script(args=[cursor, pattern.encode(), pace.scan_count, budget_us, flag])
        cursor, matched, deleted, steps = reply
        report.batches += 1
        report.matched += int(matched)
        report.deleted += int(deleted)
        report.scan_steps += int(steps)
        if cursor in (b"0", "0", 0):
            break
        report.pauses += 1
        pause(pace.pause_s)
    report.seconds = time.monotonic() - t0
    return report
