"""The demo's small tables as rows: persons, rotations, blocks, schedules.

Pure and deterministic: every function takes the one ``random.Random`` of a seed run
(or none) and returns rows, in the column order of its ``*_COLS``; nothing here touches
a database or the clock. The draws happen in the order :mod:`maintenance.demo.seed`
calls these, so that order is part of the data: the same ``rng_seed`` and scale give
identical rows only while it stays the same.

:class:`Pools` builds, once per run, every string a row can carry (notes, reasons,
user names, JSON fragments), so the per-row work in
:mod:`maintenance.demo.assignments` is a few random draws and one tuple.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from maintenance.demo.words import (
    ASSIGNMENT_NOTES,
    CITIES,
    FACULTY_DOMAINS,
    FACULTY_SPECIALTIES,
    FIRST_NAMES,
    HOLIDAYS,
    LANGUAGES,
    LAST_NAMES,
    LOCATIONS,
    PERSON_NOTES,
    PROCEDURES,
    RESIDENT_DOMAINS,
    RESIDENT_PROGRAMS,
    ROTATION_NAMES,
    ROTATION_SPEC,
    SCHEDULE_NOTES,
    SWAP_REASONS,
    SWAP_RESPONSES,
    TOPICS,
    WEEKDAYS,
    wordlist,
)

#: Persons at scale 1, a quarter of them faculty. A resident has about 540 half-day
#: assignments a year, a faculty member about 400: scale 1 is about 120,000 assignments.
PERSONS_PER_SCALE = 240
FACULTY_SHARE = 0.25

#: The academic year the blocks cover: 1 July 2024 to 30 June 2025, in 13 four-week
#: periods (the last one 29 days), an AM and a PM block each day: 730 blocks.
ACADEMIC_YEAR = 2024
YEAR_START = date(ACADEMIC_YEAR, 7, 1)
YEAR_DAYS = 365
PERIODS = 13
PERIOD_DAYS = 28
SITE_TZ = ZoneInfo("America/New_York")


# --------------------------------------------------------------------------- text pools


class Pools:
    """Strings built once, so the per-row loop only indexes into lists."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.assignment_notes = self._texts(ASSIGNMENT_NOTES, 16_384, most=2)
        self.person_notes = self._texts(PERSON_NOTES, 2_048, most=2)
        self.schedule_notes = self._texts(SCHEDULE_NOTES, 64, most=2)
        self.swap_reasons = self._texts(SWAP_REASONS, 4_096, most=1)
        self.swap_responses = self._texts(SWAP_RESPONSES, 2_048, most=1)
        # JSON-encoded strings for jsonb documents assembled per row.
        self.json_users = [json.dumps(self.username()) for _ in range(512)]
        self.json_locations = [json.dumps(loc) for loc in LOCATIONS]
        self.json_reasons = [json.dumps(t) for t in self._texts(ASSIGNMENT_NOTES, 2_048, most=1)]

    def username(self) -> str:
        r = self.rng
        return f"{r.choice(FIRST_NAMES)[0]}{r.choice(LAST_NAMES)}".lower()

    def _fill(self, template: str) -> str:
        """``template`` with its fields drawn at random (only the fields it uses)."""
        rnd = self.rng.random

        def pick(seq: Sequence[str]) -> str:
            return seq[int(rnd() * len(seq))]

        def num(lo: int, hi: int) -> int:
            return lo + int(rnd() * (hi - lo))

        d1 = YEAR_START + timedelta(days=num(-60, 420))
        make: dict[str, Callable[[], object]] = {
            "first": lambda: pick(FIRST_NAMES),
            "last": lambda: pick(LAST_NAMES),
            "rot": lambda: pick(ROTATION_NAMES),
            "loc": lambda: pick(LOCATIONS),
            "topic": lambda: pick(TOPICS),
            "proc": lambda: pick(PROCEDURES),
            "city": lambda: pick(CITIES),
            "d1": lambda: d1,
            "d2": lambda: d1 + timedelta(days=num(1, 15)),
            "t1": lambda: f"{num(5, 23):02d}:{pick(('00', '15', '30', '45'))}",
            "t2": lambda: f"{num(6, 19):02d}:{num(0, 12) * 5:02d}",
            "pager": lambda: f"{num(2, 9)}-{num(1000, 9999)}",
            "room": lambda: f"{pick('ABCDEFG')}{num(100, 999)}",
            "n1": lambda: num(4, 24),
            "n2": lambda: num(1, 9),
            "n3": lambda: num(10_000, 99_999),
            "n4": lambda: num(20, 400),
            "h1": lambda: 48 + rnd() * 38,
            "h2": lambda: 50 + rnd() * 29,
        }
        return template.format_map({name: make[name]() for name in _fields(template)})

    def _texts(self, templates: Sequence[str], n: int, *, most: int) -> list[str]:
        r = self.rng
        return [
            " ".join(self._fill(r.choice(templates)) for _ in range(r.randint(1, most)))
            for _ in range(n)
        ]


@cache
def _fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


def instant_before(day: date, rng: random.Random, *, days_before: tuple[int, int]) -> datetime:
    """A UTC instant some days before ``day``, with seconds and microseconds."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(
        days=rng.randrange(*days_before),
        seconds=rng.randrange(86_400),
        microseconds=rng.randrange(1_000_000),
    )


# --------------------------------------------------------------------------- persons


@dataclass(frozen=True)
class Person:
    id: int
    resident: bool
    pgy: int
    row: tuple


PERSON_COLS = wordlist(
    "id role first_name last_name preferred_name email phone npi pgy_level specialty "
    "start_date is_active notes metadata created_at updated_at"
)


def make_persons(rng: random.Random, pools: Pools, scale: float) -> list[Person]:
    total = max(4, round(PERSONS_PER_SCALE * scale))
    faculty = max(1, round(total * FACULTY_SHARE))
    roles = [False] * faculty + [True] * (total - faculty)
    rng.shuffle(roles)
    emails: set[str] = set()
    people = []
    for pid, resident in enumerate(roles, 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first[0]}{last}".lower()
        domain = rng.choice(RESIDENT_DOMAINS if resident else FACULTY_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while email in emails:
            n += 1
            email = f"{local}{n}@{domain}"
        emails.add(email)
        pgy = rng.choice((1, 1, 2, 2, 3, 3, 4)) if resident else 0
        if resident:
            start = date(ACADEMIC_YEAR - pgy + 1, 6, rng.randrange(17, 28))
        else:
            start = date(rng.randrange(1994, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
        created = instant_before(max(start, date(2019, 3, 1)), rng, days_before=(20, 120))
        meta: dict[str, object] = {
            "pager": f"{rng.randrange(2, 9)}-{rng.randrange(1000, 9999)}",
            "badge": f"{rng.randrange(16**8):08X}",
        }
        if rng.random() < 0.6:
            meta["preferences"] = {
                "max_consecutive_nights": rng.randrange(3, 8),
                "avoid_days": rng.sample(WEEKDAYS, rng.randrange(0, 3)),
                "clinic_day": rng.choice(WEEKDAYS[:5]),
            }
        if rng.random() < 0.5:
            meta["certifications"] = rng.sample(("BLS", "ACLS", "PALS", "ATLS", "NRP", "POCUS"), 2)
        if rng.random() < 0.35:
            meta["languages"] = rng.sample(LANGUAGES, rng.randrange(1, 3))
        if not resident:
            meta["degree"] = rng.choice(("MD", "MD", "DO", "MD, PhD", "MD, MPH"))
            meta["rank"] = rng.choice(("Assistant Professor", "Associate Professor", "Professor"))
        row = (
            pid,
            "RESIDENT" if resident else "FACULTY",
            first,
            last,
            rng.choice(FIRST_NAMES) if rng.random() < 0.08 else None,
            email,
            f"({rng.randrange(201, 989)}) {rng.randrange(200, 999)}-{rng.randrange(10_000):04d}",
            f"1{rng.randrange(10**9):09d}",
            pgy or None,
            rng.choice(RESIDENT_PROGRAMS if resident else FACULTY_SPECIALTIES),
            start,
            rng.random() > 0.02,
            rng.choice(pools.person_notes) if rng.random() < 0.4 else None,
            json.dumps(meta),
            created,
            created + timedelta(seconds=rng.randrange(3_600, 400 * 86_400)),
        )
        people.append(Person(pid, resident, pgy, row))
    return people


# --------------------------------------------------------------------------- rotations

ROTATION_COLS = wordlist(
    "id code name category location min_pgy max_residents requires_supervision description "
    "created_at"
)


def rotation_rows() -> list[tuple]:
    created = datetime(2018, 5, 14, 15, 2, 11, 482_113, tzinfo=UTC)
    rows = []
    for i, (code, name, category, loc, min_pgy, most, supervised, _) in enumerate(ROTATION_SPEC, 1):
        description = (
            f"{name} at {LOCATIONS[loc]}. PGY-{min_pgy} and up; at most {most} residents per "
            f"block; {'attending supervision required' if supervised else 'independent'}."
        )
        stamp = created + timedelta(days=i * 17, seconds=i * 3_907)
        rows.append((i, code, name, category, LOCATIONS[loc], min_pgy, most, supervised,
                     description, stamp))  # fmt: skip
    return rows


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Block:
    id: int
    day: date
    period: int  # 0-based four-week period
    off: bool  # weekend or holiday
    pm: bool
    row: tuple


BLOCK_COLS = wordlist(
    "id academic_year block_number start_date end_date session starts_at ends_at is_weekend "
    "is_holiday notes created_at"
)


def make_blocks() -> list[Block]:
    created = datetime(ACADEMIC_YEAR, 3, 2, 9, 30, 5, 120_443, tzinfo=UTC)
    out: list[Block] = []
    for d in range(YEAR_DAYS):
        day = YEAR_START + timedelta(days=d)
        period = min(d // PERIOD_DAYS, PERIODS - 1)
        weekend = day.weekday() >= 5
        holiday = HOLIDAYS.get(day)
        for session, h0, h1 in (("AM", 7, 12), ("PM", 13, 18)):
            bid = len(out) + 1
            starts = datetime(day.year, day.month, day.day, h0, tzinfo=SITE_TZ)
            ends = datetime(day.year, day.month, day.day, h1, tzinfo=SITE_TZ)
            stamp = created + timedelta(milliseconds=bid * 37)
            row = (bid, ACADEMIC_YEAR, period + 1, day, day, session, starts, ends, weekend,
                   holiday is not None, holiday, stamp)  # fmt: skip
            out.append(
                Block(bid, day, period, weekend or holiday is not None, session == "PM", row)
            )
    return out


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    id: int
    published: bool
    created_at: datetime
    row: tuple


SCHEDULE_COLS = wordlist(
    "id academic_year block_number name version status generated_by published_at published_by "
    "notes solver_stats created_at updated_at"
)


def make_schedules(rng: random.Random, pools: Pools) -> list[Schedule]:
    """One schedule per four-week period: all published but the last two (review, draft)."""
    out: list[Schedule] = []
    for p in range(PERIODS):
        sid = p + 1
        created = instant_before(
            YEAR_START + timedelta(days=p * PERIOD_DAYS), rng, days_before=(40, 60)
        )
        status = ("published",) * (PERIODS - 2) + ("review", "draft")
        published = (
            created + timedelta(days=rng.randrange(10, 25), seconds=rng.randrange(86_400))
            if status[p] == "published"
            else None
        )
        stats = {
            "solver": "cp-sat",
            "version": f"9.{rng.randrange(8, 12)}.{rng.randrange(4000)}",
            "wall_time_s": round(rng.uniform(40, 900), 3),
            "objective": rng.randrange(10_000, 90_000),
            "hard_violations": 0,
            "soft_violations": rng.randrange(0, 40),
            "acgme": {
                "max_weekly_hours": round(rng.uniform(70, 80), 1),
                "days_off_per_7": round(rng.uniform(1.0, 1.6), 2),
            },
        }
        row = (
            sid,
            ACADEMIC_YEAR,
            p + 1,
            f"AY {ACADEMIC_YEAR}-{ACADEMIC_YEAR + 1} Block {p + 1}",
            1,
            status[p],
            f"scheduler-solver {rng.randrange(2, 4)}.{rng.randrange(10)}",
            published,
            pools.username() if published else None,
            rng.choice(pools.schedule_notes),
            json.dumps(stats),
            created,
            (published or created) + timedelta(hours=rng.randrange(1, 300)),
        )
        out.append(Schedule(sid, published is not None, created, row))
    return out
