"""The demo's bulk rows: assignments, and the swap requests drawn among them.

Pure and deterministic like :mod:`maintenance.demo.generate`: generators of row tuples
(in the column order of ``ASSIGNMENT_COLS`` and ``SWAP_COLS``) that the seeder streams
into ``COPY``, so no row list is ever held in memory. Assignments are about 99 % of the
database: :func:`assignment_rows` is the hot path.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from maintenance.demo.generate import Block, Person, Pools, Schedule, instant_before
from maintenance.demo.words import (
    CLINIC_ID,
    FACULTY_WEIGHTS,
    ROTATION_SPEC,
    SWAP_STATUSES,
    wordlist,
)

#: One swap request per this many published resident assignments, on average.
SWAP_EVERY = 150


@dataclass(frozen=True)
class SwapCandidate:
    assignment_id: int
    person_id: int
    block_index: int
    period: int
    status: str


ASSIGNMENT_COLS = wordlist(
    "id schedule_id person_id block_id rotation_id role status notes metadata created_at updated_at"
)


def assignment_rows(
    rng: random.Random,
    pools: Pools,
    persons: list[Person],
    blocks: list[Block],
    schedules: list[Schedule],
    candidates: list[SwapCandidate],
) -> Iterator[tuple]:
    """One row per assigned (person, half-day block), ids from 1 in order; each swap
    request drawn on the way is appended to ``candidates`` (complete once the rows are).

    Each person gets one rotation per four-week period (residents keep a weekly
    continuity-clinic half-day), works most weekdays and some weekends, and takes a
    two-week vacation in about one period in eight. This loop is the hot path: keep it
    to random draws, list indexing and one tuple per row.
    """
    rnd = rng.random
    td = timedelta
    notes, n_notes = pools.assignment_notes, len(pools.assignment_notes)
    users, n_users = pools.json_users, len(pools.json_users)
    locs, n_locs = pools.json_locations, len(pools.json_locations)
    reasons, n_reasons = pools.json_reasons, len(pools.json_reasons)
    periods: list[list[tuple[int, int, bool, bool]]] = [[] for _ in schedules]
    for i, b in enumerate(blocks):
        periods[b.period].append((i, b.id, b.off, b.pm))
    plan = [(s.id, not s.published, s.created_at, periods[s.id - 1]) for s in schedules]
    ids = range(1, len(ROTATION_SPEC) + 1)
    choices_for: dict[int, tuple[list[int], list[int]]] = {
        pgy: (
            [i for i, s in zip(ids, ROTATION_SPEC, strict=True) if s[7] and s[4] <= pgy],
            [s[7] for s in ROTATION_SPEC if s[7] and s[4] <= pgy],
        )
        for pgy in range(1, 8)
    }
    choices_for[0] = ([i for i, s in zip(ids, ROTATION_SPEC, strict=True) if not s[7]],
                      list(FACULTY_WEIGHTS))  # fmt: skip
    swap_p = 2.0 / SWAP_EVERY  # drawn for half of the published resident rows

    aid = 0
    for person in persons:
        pid, resident = person.id, person.resident
        eligible, weights = choices_for[person.pgy]
        if resident:
            p_weekday, p_off, role = 0.95, 0.33, "primary"
        else:
            p_weekday, p_off, role = 0.74, 0.18, "supervising"
        chosen = rng.choices(eligible, weights, k=len(plan))
        for (sid, tentative, sched_created, period_blocks), rot_id in zip(
            plan, chosen, strict=True
        ):
            vacation = int(rnd() * 40) if rnd() < 0.125 else -99  # 14 half-days off
            for k, (bi, block_id, off, pm) in enumerate(period_blocks):
                if vacation <= k < vacation + 14 or rnd() >= (p_off if off else p_weekday):
                    continue
                aid += 1
                r = rnd()
                r2 = rnd()
                if tentative:
                    status = "tentative"
                elif r < 0.90:
                    status = "confirmed"
                elif r < 0.96:
                    status = "modified"
                else:
                    status = "cancelled"
                if resident and not tentative and r > 0.5 and rnd() < swap_p:
                    outcome = SWAP_STATUSES[int(r2 * 10)]
                    if outcome == "approved":
                        status = "swapped"
                    candidates.append(SwapCandidate(aid, pid, bi, sid - 1, outcome))
                k2 = int(r2 * 1000)
                if k2 < 620:
                    meta = (
                        f'{{"source": "solver", "run_id": {k2 * 37 + sid * 1009}, '
                        f'"score": {r:.5f}, "penalty": {{"preference": {k2 % 7}, '
                        f'"continuity": {k2 % 3}}}}}'
                    )
                elif k2 < 760:
                    meta = (
                        f'{{"source": "solver", "run_id": {k2 * 41 + sid * 1013}, '
                        f'"score": {r:.5f}, "duty_hours": {8 + r2 * 20:.1f}, '
                        f'"post_call": {"true" if k2 & 1 else "false"}, '
                        f'"location": {locs[k2 % n_locs]}}}'
                    )
                elif k2 < 900:
                    meta = (
                        f'{{"source": "manual", "edited_by": {users[int(r * n_users)]}, '
                        f'"ticket": "SCH-{int(r * 90_000) + 10_000}", '
                        f'"reason": {reasons[int(r2 * n_reasons * 7) % n_reasons]}}}'
                    )
                elif k2 < 960:
                    meta = (
                        f'{{"source": "import", "file": "block{sid:02d}_v{k2 % 5 + 1}.xlsx", '
                        f'"row": {int(r * 4000) + 2}, "checksum": "{int(r2 * 2**52):013x}"}}'
                    )
                else:
                    pager = f"{k2 % 7 + 2}-{int(r * 9000) + 1000}"
                    meta = (
                        f'{{"source": "request", "pager": "{pager}", "priority": {k2 % 4}, '
                        f'"location": {locs[int(r * n_locs)]}, '
                        f'"approved_by": {users[int(r2 * 7919) % n_users]}}}'
                    )
                created = sched_created + td(seconds=r2 * 250_000)
                yield (
                    aid,
                    sid,
                    pid,
                    block_id,
                    CLINIC_ID if resident and pm and r < 0.09 else rot_id,
                    role,
                    status,
                    notes[int(rnd() * n_notes)] if r2 > 0.62 else None,
                    meta,
                    created,
                    created + td(seconds=rnd() * 2_000_000) if r < 0.35 else created,
                )


# --------------------------------------------------------------------------- swaps

SWAP_COLS = wordlist(
    "id requester_id target_id assignment_id target_assignment_id swap_type status reason "
    "response_note decided_by requested_at decided_at metadata"
)


def swap_rows(
    rng: random.Random,
    pools: Pools,
    persons: list[Person],
    blocks: list[Block],
    candidates: list[SwapCandidate],
) -> Iterable[tuple]:
    """One swap per candidate: a trade pairs two requests of the same period, a giveaway
    names another resident and no assignment in return."""
    residents = [p.id for p in persons if p.resident]
    faculty = [p.id for p in persons if not p.resident]
    by_period: dict[int, list[SwapCandidate]] = {}
    for c in candidates:
        by_period.setdefault(c.period, []).append(c)
    for swap_id, c in enumerate(candidates, 1):
        block = blocks[c.block_index]
        other = None
        if rng.random() < 0.6:
            peers = by_period[c.period]
            other = next(
                (o for o in (rng.choice(peers) for _ in range(4)) if o.person_id != c.person_id),
                None,
            )
        if other is not None:
            swap_type, target, target_assignment = "trade", other.person_id, other.assignment_id
        else:
            draws = (rng.choice(residents) for _ in range(4))
            target = next((t for t in draws if t != c.person_id), c.person_id)
            swap_type, target_assignment = "giveaway", None
        requested = instant_before(block.day, rng, days_before=(1, 30))
        decided = (
            None
            if c.status == "pending"
            else requested + timedelta(seconds=rng.randrange(1_800, 4 * 86_400))
        )
        meta: dict[str, object] = {
            "channel": rng.choice(("web", "web", "mobile", "email")),
            "block_date": block.day.isoformat(),
        }
        if rng.random() < 0.4:
            meta["notified"] = rng.sample(("chief", "pd", "coordinator", "target"), 2)
        if swap_type == "trade":
            meta["equivalent_hours"] = rng.random() < 0.8
        yield (
            swap_id,
            c.person_id,
            target,
            c.assignment_id,
            target_assignment,
            swap_type,
            c.status,
            rng.choice(pools.swap_reasons),
            rng.choice(pools.swap_responses) if decided else None,
            rng.choice(faculty) if decided else None,
            requested,
            decided,
            json.dumps(meta),
        )
