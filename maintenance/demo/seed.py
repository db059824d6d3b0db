"""``maint demo seed``: a residency scheduler database with realistic demo data.

Given a server and a database name, :func:`seed` drops and recreates *that* database and
loads the scheduler schema (``schema.sql`` beside this file: persons, rotations, blocks,
schedules, assignments, swaps) at a chosen scale. Scale 1 is about 50 MB on disk; other
scales are proportional (persons scale linearly, the academic year of half-day blocks
stays fixed).

How it stays fast: tables are created bare, filled with ``COPY ... (FREEZE)`` in the
transaction that created them (no row inserts, no later hint-bit or freeze rewrites),
and only then get their primary keys, unique constraints, foreign keys and indexes,
built in bulk. Python's per-row work is a few random draws and one tuple: every string
that can be precomputed (names, notes, reasons, JSON fragments) comes from a pool.

How it stays realistic: names come from lists, notes are varied free text with numbers,
dates and times, ``jsonb`` documents have varying keys, timestamps carry microseconds.
A plain ``pg_dump`` compresses about 5x with gzip, not 30x (docs/demo-data.md).

The same ``rng_seed`` and scale always produce identical rows.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import string
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from maintenance import pg, schema
from maintenance.errors import BadInput, MaintenanceError

#: The scheduler's tables, parents before children.
SCHEMA_TABLES = schema.TABLES

#: The keys of :attr:`SeedReport.counts`, in report order: each table, with the persons
#: split by role right after them.
COUNT_KEYS = (SCHEMA_TABLES[0], "residents", "faculty", *SCHEMA_TABLES[1:])

#: Databases every server has; never dropped, whatever ``force`` says.
BUILTIN_DATABASES = frozenset({"postgres", "template0", "template1"})

MAX_SCALE = 200.0

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

#: One swap request per this many published resident assignments, on average.
SWAP_EVERY = 150


@dataclass(frozen=True)
class SeedReport:
    """What one :func:`seed` call loaded."""

    database: str
    scale: float
    counts: dict[str, int]  # COUNT_KEYS -> rows loaded
    size_bytes: int  # pg_database_size after the load
    duration_s: float


# --------------------------------------------------------------------------- schema


@cache
def schema_sql() -> tuple[str, str]:
    """The DDL of ``schema.sql``: (tables, constraints and indexes added after the load)."""
    text = resources.files("maintenance.demo").joinpath("schema.sql").read_text("utf-8")
    tables, _, rest = text.partition("\n-- @constraints")
    return tables, rest.partition("\n")[2]


def integrity_queries() -> dict[str, str]:
    """Name -> SQL returning one integer: how many rows break that rule (0 when sound);
    a copy of :data:`maintenance.schema.INTEGRITY_CHECKS`."""
    return dict(schema.INTEGRITY_CHECKS)


# --------------------------------------------------------------------------- safety


def check_target(
    database: str,
    *,
    scale: float,
    refuse: Mapping[str, str] | None = None,
    production: str | None = None,
    force: bool = False,
) -> None:
    """Raise BadInput if ``database`` may not be (re)seeded at ``scale``."""
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not math.isfinite(scale)
        or not 0 < scale <= MAX_SCALE
    ):
        raise BadInput(f"scale must be greater than 0 and at most {MAX_SCALE:g}, got {scale!r}")
    if not isinstance(database, str) or not database:
        raise BadInput("a database name is required")
    pg.check_dbname(database)
    if database in BUILTIN_DATABASES:
        raise BadInput(f"database {database!r} is a built-in database of the server: never seeded")
    if refuse and database in refuse:
        raise BadInput(f"database {database!r} is never seeded: {refuse[database]}")
    if production and database == production and not force:
        raise BadInput(
            f"database {database!r} is the configured production target: seeding drops it; "
            "pass --force only if you really mean to replace it with demo data"
        )


# --------------------------------------------------------------------------- entry point


def seed(
    server_dsn: str,
    database: str,
    *,
    scale: float = 1.0,
    rng_seed: int = 42,
    refuse: Mapping[str, str] | None = None,
    production: str | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Drop and recreate `database` on the server of `server_dsn` (a postgresql:// URL; its own
    dbname is irrelevant) and load demo data at `scale`.

    refuse: names that are never seeded, whatever `force` says (name -> reason shown in the
    error). production: the configured production target's name: refused unless force=True.
    Raise BadInput (message naming the problem) for an unsafe name, a refused name, the
    production name without force, scale <= 0 or > 200, and postgres/template0/template1;
    nothing is dropped when it raises BadInput. ServiceUnavailable if the server does not
    answer. A load that fails after the drop drops the half-loaded database and re-raises.
    """
    check_target(database, scale=scale, refuse=refuse, production=production, force=force)
    say = progress or (lambda _msg: None)
    started = time.monotonic()

    say(f"dropping and recreating database {database!r}")
    pg.drop_database(server_dsn, database)
    pg.create_database(server_dsn, database, if_missing=False)
    try:
        with pg.connect(pg.with_dbname(server_dsn, database), autocommit=False) as conn:
            counts = _load(conn, scale=float(scale), rng_seed=rng_seed, say=say)
            comment = f"maint demo seed: scale={scale:g} rng_seed={rng_seed}"
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(database), sql.Literal(comment)
                )
            )
            conn.commit()
            say("analyzing")
            conn.autocommit = True
            conn.execute("ANALYZE")
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            size = int(row[0]) if row else 0
    except BaseException:
        # A half-loaded demo database would mislead whatever benchmark uses it next.
        with contextlib.suppress(MaintenanceError, psycopg.Error):
            pg.drop_database(server_dsn, database)
        raise
    duration = time.monotonic() - started
    say(f"loaded {database!r}: {size / 1e6:.1f} MB in {duration:.1f} s")
    return SeedReport(database, float(scale), counts, size, duration)


# --------------------------------------------------------------------------- the load


def _load(
    conn: psycopg.Connection, *, scale: float, rng_seed: int, say: Callable[[str], None]
) -> dict[str, int]:
    """Create, fill and constrain every table in the open transaction of ``conn``."""
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible demo data, not secrets
    tables_ddl, constraints_ddl = schema_sql()
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '256MB'")
    conn.execute(tables_ddl.encode())

    pools = _Pools(rng)
    persons = _make_persons(rng, pools, scale)
    blocks = _make_blocks()
    periods = _make_schedules(rng, pools)
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        say(f"loading persons, rotations, blocks, schedules ({len(persons)} persons)")
        counts["persons"] = _copy(cur, "persons", _PERSON_COLS, [p.row for p in persons])
        counts["residents"] = sum(1 for p in persons if p.resident)
        counts["faculty"] = counts["persons"] - counts["residents"]
        counts["rotations"] = _copy(cur, "rotations", _ROTATION_COLS, _rotation_rows())
        counts["blocks"] = _copy(cur, "blocks", _BLOCK_COLS, [b.row for b in blocks])
        counts["schedules"] = _copy(cur, "schedules", _SCHEDULE_COLS, [s.row for s in periods])
        say("loading assignments")
        candidates: list[_SwapCandidate] = []
        counts["assignments"] = _copy_assignments(
            cur, rng, pools, persons, blocks, periods, candidates
        )
        say(f"loading swaps ({len(candidates)})")
        swaps = _swap_rows(rng, pools, persons, blocks, candidates)
        counts["swaps"] = _copy(cur, "swaps", _SWAP_COLS, swaps)
        say("adding primary keys, unique constraints, foreign keys and indexes")
        cur.execute(constraints_ddl.encode())
        for table in SCHEMA_TABLES:  # the next id the application inserts
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                    "coalesce((SELECT max(id) FROM {i}), 0) + 1, false)"
                ).format(t=sql.Literal(table), i=sql.Identifier(table))
            )
    return {key: counts[key] for key in COUNT_KEYS}


def _copy_sql(table: str, cols: Sequence[str]) -> sql.Composed:
    # FREEZE: the table was created in this transaction, so its rows are written frozen
    # and all-visible: no hint-bit rewrite or anti-wraparound vacuum later.
    return sql.SQL("COPY {} ({}) FROM STDIN WITH (FREEZE)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols))
    )


def _copy(cur: psycopg.Cursor, table: str, cols: Sequence[str], rows: Iterable[tuple]) -> int:
    n = 0
    with cur.copy(_copy_sql(table, cols)) as cp:
        for row in rows:
            cp.write_row(row)
            n += 1
    return n


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --------------------------------------------------------------------------- vocabulary
# fmt: off

_FIRST_NAMES = _cols("""
Aaliyah Aarav Abigail Adaeze Adrian Ahmed Aiko Aisha Alejandro Alexander Alicia Amara Amelia
Amir Ana Andrea Andrew Anika Anthony Arjun Ava Benjamin Bianca Brandon Camila Carlos Caroline
Charlotte Chen Chiara Chloe Christopher Chukwuemeka Daniel David Deepa Diana Diego Dmitri
Eleanor Elena Elijah Elizabeth Emeka Emily Emma Ethan Fatima Felipe Fernando Gabriel Grace
Hana Hannah Hassan Henry Hiroshi Ibrahim Imani Isabella Isaac Jacob Jamal James Javier
Jennifer Jessica Jin Joao John Jonathan Jose Joseph Joshua Julia Kai Kavya Keisha Kenji Kevin
Khadija Kofi Laila Lakshmi Laura Leah Leila Liam Lucas Lucia Luis Maya Mateo Matthew Mei Mia
Michael Min-jun Mohammed Nadia Natalia Nathan Nia Nikhil Noah Nora Olivia Omar Oluwaseun Pablo
Patricia Priya Rachel Rafael Rahul Rebecca Ricardo Rohan Rosa Ryan Samantha Samuel Sanjay Sara
Sebastian Seo-yeon Sofia Sophia Soo-ah Stephanie Tamar Thomas Tomas Valentina Victoria Wei
William Xin Yara Yasmin Yusuf Zainab Zara Zoe
""")

_LAST_NAMES = _cols("""
Abara Acosta Adeyemi Agarwal Aguilar Ahmed Alvarez Anderson Bailey Banerjee Barnes Bauer Bello
Bennett Bhatt Brooks Brown Bui Campbell Carter Castillo Chang Chaudhry Chen Cho Choi Clark
Collins Cruz Das Davies Davis Delgado Diaz Dubois Edwards Evans Fernandez Fischer Flores Foster
Garcia Ghosh Gomez Gonzalez Gray Green Gupta Gutierrez Hall Haddad Hamid Harris Hashemi
Hernandez Hill Hoang Hughes Ibrahim Iyer Jackson James Jimenez Johnson Jones Kapoor Katz Kaur
Khan Kim King Kowalski Kumar Lee Lewis Li Lin Liu Lopez Martin Martinez Mehta Mendoza Miller
Mitchell Moore Morales Morgan Murphy Nakamura Nguyen Novak Nwosu Obi Okafor Okonkwo Oliveira
Ortiz Osei Park Patel Perez Peterson Phillips Pham Ramirez Ramos Reddy Reyes Richardson Rivera
Roberts Robinson Rodriguez Rossi Russo Saito Sanchez Santos Schmidt Scott Shah Sharma Silva
Singh Smith Sokolov Suzuki Tanaka Taylor Thomas Thompson Torres Tran Turner Vasquez Wagner
Walker Wang Washington Watson White Williams Wilson Wong Wright Wu Xu Yamamoto Yang Young Zhang
Zhao Zhou
""")

_RESIDENT_PROGRAMS = (
    "Internal Medicine", "Internal Medicine", "Internal Medicine", "Family Medicine",
    "Pediatrics", "Internal Medicine-Pediatrics",
)
_FACULTY_SPECIALTIES = (
    *_RESIDENT_PROGRAMS, "Emergency Medicine", "Cardiology", "Pulmonary and Critical Care",
    "Gastroenterology", "Nephrology", "Infectious Disease", "Hematology/Oncology",
    "Endocrinology", "Geriatrics", "Hospital Medicine", "Neurology",
)
_RESIDENT_DOMAINS = ("residents.stmarys-med.org", "uhealth.edu", "residents.uhealth.edu")
_FACULTY_DOMAINS = ("stmarys-med.org", "stmarys-med.org", "uhealth.edu")
_LOCATIONS = (
    "Main 5 West", "Main 6 East", "Main 7 North", "MICU 3rd floor", "CCU", "ED Pod B",
    "Clinic Bldg A, Suite 210", "Clinic Bldg C, Suite 104", "VA Medical Center",
    "Cancer Center 2", "Children's Pavilion 4", "Outpatient Surgery Center", "Dialysis Unit",
    "Sim Lab", "Riverside Community Clinic", "Telehealth hub",
)
_HOLIDAYS = {
    date(2024, 7, 4): "Independence Day", date(2024, 9, 2): "Labor Day",
    date(2024, 11, 28): "Thanksgiving", date(2024, 11, 29): "Day after Thanksgiving",
    date(2024, 12, 24): "Christmas Eve", date(2024, 12, 25): "Christmas Day",
    date(2025, 1, 1): "New Year's Day", date(2025, 1, 20): "Martin Luther King Jr. Day",
    date(2025, 5, 26): "Memorial Day",
}

#: code, name, category, index into _LOCATIONS, min PGY, max residents, supervised,
#: weight when the solver picks a resident's rotation for a period (0: faculty only)
_ROTATION_SPEC = (
    ("IM-WARD-A", "Inpatient Medicine Wards A", "inpatient", 0, 1, 8, True, 9),
    ("IM-WARD-B", "Inpatient Medicine Wards B", "inpatient", 1, 1, 8, True, 9),
    ("IM-WARD-C", "Inpatient Medicine Wards C (teaching)", "inpatient", 2, 1, 6, True, 6),
    ("NIGHT-FLOAT", "Night Float", "inpatient", 0, 2, 4, True, 5),
    ("MICU", "Medical Intensive Care Unit", "critical_care", 3, 1, 6, True, 6),
    ("CCU", "Cardiac Care Unit", "critical_care", 4, 2, 4, True, 4),
    ("ED", "Emergency Department", "emergency", 5, 1, 6, True, 5),
    ("CLINIC-CONT", "Continuity Clinic", "ambulatory", 6, 1, 20, True, 7),
    ("CLINIC-GIM", "General Internal Medicine Clinic", "ambulatory", 7, 1, 10, True, 4),
    ("VA-WARDS", "VA Inpatient Medicine", "inpatient", 8, 1, 6, True, 4),
    ("VA-CLINIC", "VA Primary Care", "ambulatory", 8, 1, 6, True, 2),
    ("ONC", "Hematology/Oncology Consults", "consult", 9, 2, 3, True, 2),
    ("PEDS-WARD", "Pediatric Wards", "inpatient", 10, 1, 4, True, 2),
    ("GERI", "Geriatrics and Palliative Care", "consult", 0, 1, 3, True, 2),
    ("CARDS-CONS", "Cardiology Consults", "consult", 4, 2, 3, True, 3),
    ("GI-CONS", "Gastroenterology Consults", "consult", 1, 2, 2, True, 2),
    ("RENAL-CONS", "Nephrology Consults", "consult", 12, 2, 2, True, 2),
    ("ID-CONS", "Infectious Disease Consults", "consult", 2, 2, 2, True, 2),
    ("ENDO", "Endocrinology Elective", "elective", 7, 2, 2, False, 1),
    ("NEURO", "Neurology Elective", "elective", 1, 2, 2, False, 1),
    ("RESEARCH", "Research Block", "elective", 13, 2, 4, False, 2),
    ("COMMUNITY", "Community Health Rotation", "ambulatory", 14, 1, 4, True, 2),
    ("TELEHEALTH", "Telehealth and Population Health", "ambulatory", 15, 2, 3, False, 1),
    ("SIM", "Simulation and Procedures", "education", 13, 1, 6, True, 1),
    ("ATT-WARD", "Attending: Inpatient Wards", "faculty", 0, 1, 10, False, 0),
    ("ATT-ICU", "Attending: ICU", "faculty", 3, 1, 4, False, 0),
    ("ATT-CLINIC", "Attending: Clinic Precepting", "faculty", 6, 1, 10, False, 0),
    ("ATT-CONSULT", "Attending: Consult Service", "faculty", 4, 1, 6, False, 0),
    ("ATT-NIGHT", "Attending: Nocturnist", "faculty", 0, 1, 3, False, 0),
    ("ADMIN", "Administrative / Program Leadership", "faculty", 6, 1, 10, False, 0),
)
_ROTATION_NAMES = tuple(spec[1] for spec in _ROTATION_SPEC)
_FACULTY_WEIGHTS = (4, 2, 4, 3, 1, 2)  # ATT-WARD ... ADMIN
_CLINIC_ID = 1 + [spec[0] for spec in _ROTATION_SPEC].index("CLINIC-CONT")

_TOPICS = (
    "Sepsis bundles", "DKA management", "ACLS refresher", "Heart failure GDMT", "AKI workup",
    "Anticoagulation reversal", "Hyponatremia", "Pain management", "Delirium prevention",
    "Chest X-ray reading", "Antibiotic stewardship", "Goals-of-care conversations",
    "COPD exacerbation", "Acid-base", "Transfusion thresholds", "Syncope", "GI bleed triage",
    "Stroke codes", "Quality improvement M&M", "Wellness and burnout",
)
_PROCEDURES = (
    "paracenteses", "thoracenteses", "central lines", "arterial lines", "lumbar punctures",
    "ultrasound-guided IVs", "intubations", "joint aspirations", "skin biopsies",
)
_CITIES = (
    "Boston", "Chicago", "Denver", "Seattle", "Atlanta", "Houston", "Philadelphia",
    "Minneapolis", "San Diego", "Nashville", "Cleveland", "Baltimore", "Portland", "Phoenix",
)
_LANGUAGES = (
    "Spanish", "Mandarin", "Hindi", "Arabic", "French", "Korean", "Yoruba", "Portuguese",
    "Vietnamese", "Russian", "Tagalog", "Haitian Creole",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Free-text templates: {first} {last} {rot} {loc} {topic} {proc} {city} {d1} {d2} {t1} {t2}
# {pager} {room} {n1}-{n4} {h1} {h2} are filled by _Pools._fill.
_ASSIGNMENT_NOTES = (
    "Covering for Dr. {last} ({rot}) on {d1:%b %d}; pager {pager}.",
    "Clinic template reduced to {n1} patients, first slot {t1}; precepting ratio 1:{n2}.",
    "Post-call from {d1:%m/%d/%Y}: must leave by {t1} (24+4 rule).",
    "Sign-out with Dr. {last} at {t1} in {loc}.",
    "Swap request #{n3} pending chief approval (submitted {d1:%b %d} {t1}).",
    "Noon conference '{topic}' at {t2}, room {room}.",
    "Duty hours logged {h1:.1f} h this week, rolling 4-week average {h2:.1f} h.",
    "Census {n1} at handoff, {n2} overnight admissions, {n4} pending discharges.",
    "Procedure log: {n2} {proc} supervised by Dr. {last}.",
    "Vacation request {d1:%m/%d}-{d2:%m/%d} denied: coverage {n2}/{n1} below minimum.",
    "Jeopardy call activated {d1:%a %b %d} {t1} for {first} {last}.",
    "Late start {t2}: {topic} board review session.",
    "Continuity panel {n4} patients; {n2} overdue follow-ups flagged on {d1:%m/%d}.",
    "Moved from {rot} per program director, ticket SCH-{n3}.",
    "Half-day for interview in {city} on {d2:%b %d}; {first} covering.",
    "Sick call {d1:%m/%d/%y} {t1}; backup {first} {last} notified at {t2}.",
)
_SWAP_REASONS = (
    "Family wedding in {city} on {d1:%B %d}.",
    "Conference travel: presenting poster #{n3} in {city} {d1:%m/%d}-{d2:%m/%d}.",
    "Fellowship interview in {city} on {d1:%b %d}, flight leaves {t1}.",
    "Childcare fell through for {d1:%a %m/%d}; partner on call until {t2}.",
    "Board exam scheduled {d1:%B %d} at {t1}, need the day before off.",
    "Medical appointment {d1:%m/%d} {t1}, rescheduled twice already.",
    "Trading to balance nights: {n2} nights in {n1} days otherwise.",
    "Religious holiday observance {d1:%b %d}.",
    "Moving apartments on {d1:%m/%d}; lease ends {d2:%m/%d}.",
    "Duty hours at {h1:.1f} h for week of {d1:%b %d}; need relief to stay under 80.",
    "Sick family member in {city}, flying out {d1:%a %b %d}.",
    "Jury duty summons for {d1:%B %d}, case no. {n3}.",
)
_SWAP_RESPONSES = (
    "Approved, coverage confirmed with {first} {last}.",
    "Approved by chief resident; update AMION by {d1:%m/%d}.",
    "Denied: would leave {rot} below minimum staffing ({n2}/{n1}).",
    "Denied: target resident over duty-hour limit ({h1:.1f} h).",
    "Cancelled by requester on {d1:%b %d}.",
    "Expired without response after {n2} days.",
    "Approved with conditions: {first} takes the {t1} sign-out.",
)
_PERSON_NOTES = (
    "Board exam scheduled {d1:%B %d, %Y}.",
    "Prefers {rot} electives; no more than {n2} nights in a row per wellness plan.",
    "Visa renewal due {d1:%m/%d/%Y}; HR ticket {n3}.",
    "Parental leave {d1:%b %d}-{d2:%b %d}, returns to {rot}.",
    "Research day Thursdays PM; mentor Dr. {last}.",
    "Moonlighting approved up to {n2} h/month.",
    "BLS/ACLS renewal due {d1:%m/%Y}.",
    "Accommodation on file ({n3}): no 28-hour calls.",
    "Clinic {d1:%A}s from {t1}, {loc}.",
)
_SCHEDULE_NOTES = (
    "Solver rerun after {n2} late leave requests; {n1} soft constraints relaxed.",
    "Published after review with chiefs on {d1:%b %d}; {n2} manual overrides.",
    "Holiday coverage rebalanced: {first} {last} moved to {rot}.",
    "Night float capped at {n2} residents; {loc} census forecast {n4}.",
)

# Swap outcomes, by frequency (an approved swap marks its assignment 'swapped').
_SWAP_STATUSES = ("approved",) * 5 + ("pending", "rejected", "rejected", "cancelled", "expired")

# fmt: on


class _Pools:
    """Strings built once, so the per-row loop only indexes into lists."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.assignment_notes = self._texts(_ASSIGNMENT_NOTES, 16_384, most=2)
        self.person_notes = self._texts(_PERSON_NOTES, 2_048, most=2)
        self.schedule_notes = self._texts(_SCHEDULE_NOTES, 64, most=2)
        self.swap_reasons = self._texts(_SWAP_REASONS, 4_096, most=1)
        self.swap_responses = self._texts(_SWAP_RESPONSES, 2_048, most=1)
        # JSON-encoded strings for jsonb documents assembled per row.
        self.json_users = [json.dumps(self.username()) for _ in range(512)]
        self.json_locations = [json.dumps(loc) for loc in _LOCATIONS]
        self.json_reasons = [json.dumps(t) for t in self._texts(_ASSIGNMENT_NOTES, 2_048, most=1)]

    def username(self) -> str:
        r = self.rng
        return f"{r.choice(_FIRST_NAMES)[0]}{r.choice(_LAST_NAMES)}".lower()

    def _fill(self, template: str) -> str:
        """``template`` with its fields drawn at random (only the fields it uses)."""
        rnd = self.rng.random

        def pick(seq: Sequence[str]) -> str:
            return seq[int(rnd() * len(seq))]

        def num(lo: int, hi: int) -> int:
            return lo + int(rnd() * (hi - lo))

        d1 = YEAR_START + timedelta(days=num(-60, 420))
        make: dict[str, Callable[[], object]] = {
            "first": lambda: pick(_FIRST_NAMES),
            "last": lambda: pick(_LAST_NAMES),
            "rot": lambda: pick(_ROTATION_NAMES),
            "loc": lambda: pick(_LOCATIONS),
            "topic": lambda: pick(_TOPICS),
            "proc": lambda: pick(_PROCEDURES),
            "city": lambda: pick(_CITIES),
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


def _stamp(day: date, rng: random.Random, *, days_before: tuple[int, int]) -> datetime:
    """A UTC instant some days before ``day``, with seconds and microseconds."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(
        days=rng.randrange(*days_before),
        seconds=rng.randrange(86_400),
        microseconds=rng.randrange(1_000_000),
    )


# --------------------------------------------------------------------------- persons


@dataclass(frozen=True)
class _Person:
    id: int
    resident: bool
    pgy: int
    row: tuple


_PERSON_COLS = _cols(
    "id role first_name last_name preferred_name email phone npi pgy_level specialty "
    "start_date is_active notes metadata created_at updated_at"
)


def _make_persons(rng: random.Random, pools: _Pools, scale: float) -> list[_Person]:
    total = max(4, round(PERSONS_PER_SCALE * scale))
    faculty = max(1, round(total * FACULTY_SHARE))
    roles = [False] * faculty + [True] * (total - faculty)
    rng.shuffle(roles)
    emails: set[str] = set()
    people = []
    for pid, resident in enumerate(roles, 1):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        local = f"{first[0]}{last}".lower()
        domain = rng.choice(_RESIDENT_DOMAINS if resident else _FACULTY_DOMAINS)
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
        created = _stamp(max(start, date(2019, 3, 1)), rng, days_before=(20, 120))
        meta: dict[str, object] = {
            "pager": f"{rng.randrange(2, 9)}-{rng.randrange(1000, 9999)}",
            "badge": f"{rng.randrange(16**8):08X}",
        }
        if rng.random() < 0.6:
            meta["preferences"] = {
                "max_consecutive_nights": rng.randrange(3, 8),
                "avoid_days": rng.sample(_WEEKDAYS, rng.randrange(0, 3)),
                "clinic_day": rng.choice(_WEEKDAYS[:5]),
            }
        if rng.random() < 0.5:
            meta["certifications"] = rng.sample(("BLS", "ACLS", "PALS", "ATLS", "NRP", "POCUS"), 2)
        if rng.random() < 0.35:
            meta["languages"] = rng.sample(_LANGUAGES, rng.randrange(1, 3))
        if not resident:
            meta["degree"] = rng.choice(("MD", "MD", "DO", "MD, PhD", "MD, MPH"))
            meta["rank"] = rng.choice(("Assistant Professor", "Associate Professor", "Professor"))
        row = (
            pid,
            "RESIDENT" if resident else "FACULTY",
            first,
            last,
            rng.choice(_FIRST_NAMES) if rng.random() < 0.08 else None,
            email,
            f"({rng.randrange(201, 989)}) {rng.randrange(200, 999)}-{rng.randrange(10_000):04d}",
            f"1{rng.randrange(10**9):09d}",
            pgy or None,
            rng.choice(_RESIDENT_PROGRAMS if resident else _FACULTY_SPECIALTIES),
            start,
            rng.random() > 0.02,
            rng.choice(pools.person_notes) if rng.random() < 0.4 else None,
            json.dumps(meta),
            created,
            created + timedelta(seconds=rng.randrange(3_600, 400 * 86_400)),
        )
        people.append(_Person(pid, resident, pgy, row))
    return people


# --------------------------------------------------------------------------- rotations

_ROTATION_COLS = _cols(
    "id code name category location min_pgy max_residents requires_supervision description "
    "created_at"
)


def _rotation_rows() -> list[tuple]:
    created = datetime(2018, 5, 14, 15, 2, 11, 482_113, tzinfo=UTC)
    rows = []
    for i, (code, name, category, loc, min_pgy, most, supervised, _) in enumerate(
        _ROTATION_SPEC, 1
    ):
        description = (
            f"{name} at {_LOCATIONS[loc]}. PGY-{min_pgy} and up; at most {most} residents per "
            f"block; {'attending supervision required' if supervised else 'independent'}."
        )
        stamp = created + timedelta(days=i * 17, seconds=i * 3_907)
        rows.append((i, code, name, category, _LOCATIONS[loc], min_pgy, most, supervised,
                     description, stamp))  # fmt: skip
    return rows


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Block:
    id: int
    day: date
    period: int  # 0-based four-week period
    off: bool  # weekend or holiday
    pm: bool
    row: tuple


_BLOCK_COLS = _cols(
    "id academic_year block_number start_date end_date session starts_at ends_at is_weekend "
    "is_holiday notes created_at"
)


def _make_blocks() -> list[_Block]:
    created = datetime(ACADEMIC_YEAR, 3, 2, 9, 30, 5, 120_443, tzinfo=UTC)
    out: list[_Block] = []
    for d in range(YEAR_DAYS):
        day = YEAR_START + timedelta(days=d)
        period = min(d // PERIOD_DAYS, PERIODS - 1)
        weekend = day.weekday() >= 5
        holiday = _HOLIDAYS.get(day)
        for session, h0, h1 in (("AM", 7, 12), ("PM", 13, 18)):
            bid = len(out) + 1
            starts = datetime(day.year, day.month, day.day, h0, tzinfo=SITE_TZ)
            ends = datetime(day.year, day.month, day.day, h1, tzinfo=SITE_TZ)
            stamp = created + timedelta(milliseconds=bid * 37)
            row = (bid, ACADEMIC_YEAR, period + 1, day, day, session, starts, ends, weekend,
                   holiday is not None, holiday, stamp)  # fmt: skip
            out.append(
                _Block(bid, day, period, weekend or holiday is not None, session == "PM", row)
            )
    return out


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class _Schedule:
    id: int
    published: bool
    created_at: datetime
    row: tuple


_SCHEDULE_COLS = _cols(
    "id academic_year block_number name version status generated_by published_at published_by "
    "notes solver_stats created_at updated_at"
)


def _make_schedules(rng: random.Random, pools: _Pools) -> list[_Schedule]:
    """One schedule per four-week period: all published but the last two (review, draft)."""
    out: list[_Schedule] = []
    for p in range(PERIODS):
        sid = p + 1
        created = _stamp(YEAR_START + timedelta(days=p * PERIOD_DAYS), rng, days_before=(40, 60))
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
        out.append(_Schedule(sid, published is not None, created, row))
    return out


# --------------------------------------------------------------------------- assignments


@dataclass(frozen=True)
class _SwapCandidate:
    assignment_id: int
    person_id: int
    block_index: int
    period: int
    status: str


_ASSIGNMENT_COLS = _cols(
    "id schedule_id person_id block_id rotation_id role status notes metadata created_at updated_at"
)


def _copy_assignments(
    cur: psycopg.Cursor,
    rng: random.Random,
    pools: _Pools,
    persons: list[_Person],
    blocks: list[_Block],
    schedules: list[_Schedule],
    candidates: list[_SwapCandidate],
) -> int:
    """COPY one row per assigned (person, half-day block); collect swap requests.

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
    ids = range(1, len(_ROTATION_SPEC) + 1)
    choices_for: dict[int, tuple[list[int], list[int]]] = {
        pgy: (
            [i for i, s in zip(ids, _ROTATION_SPEC, strict=True) if s[7] and s[4] <= pgy],
            [s[7] for s in _ROTATION_SPEC if s[7] and s[4] <= pgy],
        )
        for pgy in range(1, 8)
    }
    choices_for[0] = ([i for i, s in zip(ids, _ROTATION_SPEC, strict=True) if not s[7]],
                      list(_FACULTY_WEIGHTS))  # fmt: skip
    swap_p = 2.0 / SWAP_EVERY  # drawn for half of the published resident rows

    aid = 0
    with cur.copy(_copy_sql("assignments", _ASSIGNMENT_COLS)) as cp:
        write = cp.write_row
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
                        outcome = _SWAP_STATUSES[int(r2 * 10)]
                        if outcome == "approved":
                            status = "swapped"
                        candidates.append(_SwapCandidate(aid, pid, bi, sid - 1, outcome))
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
                    write((
                        aid,
                        sid,
                        pid,
                        block_id,
                        _CLINIC_ID if resident and pm and r < 0.09 else rot_id,
                        role,
                        status,
                        notes[int(rnd() * n_notes)] if r2 > 0.62 else None,
                        meta,
                        created,
                        created + td(seconds=rnd() * 2_000_000) if r < 0.35 else created,
                    ))  # fmt: skip
    return aid


# --------------------------------------------------------------------------- swaps

_SWAP_COLS = _cols(
    "id requester_id target_id assignment_id target_assignment_id swap_type status reason "
    "response_note decided_by requested_at decided_at metadata"
)


def _swap_rows(
    rng: random.Random,
    pools: _Pools,
    persons: list[_Person],
    blocks: list[_Block],
    candidates: list[_SwapCandidate],
) -> Iterable[tuple]:
    """One swap per candidate: a trade pairs two requests of the same period, a giveaway
    names another resident and no assignment in return."""
    residents = [p.id for p in persons if p.resident]
    faculty = [p.id for p in persons if not p.resident]
    by_period: dict[int, list[_SwapCandidate]] = {}
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
        requested = _stamp(block.day, rng, days_before=(1, 30))
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
