"""A database that is not the scheduler's: other schemas, types and shapes. With the
default settings, `maint run backup.create -p tier=daily` backs it up, the documented
restore command gives identical contents row for row, and nothing scheduler-specific
fails the run (it warns instead)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from maintenance import pg
from maintenance.backup import inventory, manifest
from tests.conftest import PG_SERVER, TAG, history_rows, run_cli
from tests.integration.test_backup import table_digests

pytestmark = pytest.mark.integration

SCHEMA = r"""
CREATE SCHEMA clinic;
CREATE TYPE clinic.shift AS ENUM ('day', 'night', 'on call');
CREATE DOMAIN clinic.positive AS numeric(20, 5) CHECK (VALUE > 0);
CREATE TABLE clinic."Odd Table" (
    "Id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shift clinic.shift,
    amount clinic.positive,
    tags text[],
    doc jsonb,
    blob bytea,
    note text,
    at timestamptz,
    span interval,
    ip inet,
    uid uuid,
    loc point,
    words tsvector,
    doubled bigint GENERATED ALWAYS AS ("Id" * 2) STORED
);
INSERT INTO clinic."Odd Table" (shift, amount, tags, doc, blob, note, at, span, ip, uid, loc, words)
SELECT (ARRAY['day','night','on call'])[1 + g % 3]::clinic.shift,
       g * 1.5 + 0.00001,
       ARRAY['a' || g, NULL, 'tab' || E'\t' || 'x'],
       jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'two', NULL), 'ü', 'ñ'),
       decode(md5(g::text), 'hex'),
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'line one' || E'\n' || 'back\slash ' || repeat('é', g % 5) END,
       '2026-01-01 00:00+00'::timestamptz + g * interval '37 minutes',
       g * interval '1 second',
       ('10.0.' || (g % 255) || '.1')::inet,
       md5(g::text)::uuid,
       point(g, -g),
       to_tsvector('english', 'night shift number ' || g)
  FROM generate_series(1, 3000) g;
CREATE TABLE public.readings (taken date NOT NULL, value double precision) PARTITION BY RANGE (taken);
CREATE TABLE public.readings_2025 PARTITION OF public.readings FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.readings_2026 PARTITION OF public.readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO public.readings SELECT date '2025-06-01' + g, g / 3.0 FROM generate_series(0, 400) g;
CREATE TABLE public.no_key (a int, b text);
INSERT INTO public.no_key SELECT 1, 'same' FROM generate_series(1, 50);
CREATE TABLE public.empty_one (x int);
CREATE SEQUENCE public.ticket_seq START 1000;
SELECT setval('public.ticket_seq', 4242);
CREATE VIEW public.night_shifts AS SELECT "Id" FROM clinic."Odd Table" WHERE shift = 'night';
CREATE MATERIALIZED VIEW public.shift_totals AS
    SELECT shift, count(*) AS n, sum(amount) AS total FROM clinic."Odd Table" GROUP BY shift;
"""


@pytest.fixture
def foreign_db() -> Iterator[str]:
    name = f"maint_test_{TAG}_foreign"
    pg.drop_database(PG_SERVER, name)
    pg.create_database(PG_SERVER, name, if_missing=False)
    dsn = pg.with_dbname(PG_SERVER, name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)  # type: ignore[arg-type]
    yield dsn
    pg.drop_database(PG_SERVER, name)


@pytest.fixture
def restored() -> Iterator[str]:
    name = f"maint_test_{TAG}_foreign_restored"
    pg.drop_database(PG_SERVER, name)
    pg.create_database(PG_SERVER, name, if_missing=False)
    yield name
    pg.drop_database(PG_SERVER, name)


def _extras(dsn: str) -> dict[str, object]:
    with psycopg.connect(dsn) as conn:
        seq = conn.execute("SELECT last_value FROM public.ticket_seq").fetchone()
        mv = conn.execute(
            "SELECT shift::text, n, total FROM public.shift_totals ORDER BY 1"
        ).fetchall()
        ident = conn.execute('SELECT max("Id") FROM clinic."Odd Table"').fetchone()
    return {"seq": seq, "mv": mv, "ident": ident}


def test_a_foreign_database_backs_up_and_restores_identically(
    foreign_db: str, restored: str, maint_env: dict[str, str], tmp_path: Path, clean_history: str
) -> None:
    root = tmp_path / "backups"
    env = maint_env | {"MAINT_TARGET_DSN": foreign_db, "MAINT_BACKUP_ROOT": str(root)}
    for var in ("MAINT_BACKUP_MIN_BYTES", "MAINT_STATS_COUNTS", "MAINT_BACKUP_EXPECTED_TABLES"):
        env.pop(var, None)  # the defaults, as an operator who configured nothing has them
    res = run_cli("run", "backup.create", "-p", "tier=daily", "--json", env=env)
    outcome = json.loads(res.stdout)
    assert res.returncode == 0, outcome
    statuses = {c["name"]: c["status"] for c in outcome["result"]["checks"]}
    assert statuses["size above floor"] == "pass"
    assert statuses["every table decodes to its rows at backup time"] == "pass"
    assert statuses["table public.persons present"] == "warn"  # scheduler tables: not here
    (b,) = inventory.scan(root).backups
    data = manifest.read_document(b.manifest_path)
    counts = data["counts"]["tables"]
    assert (
        counts["clinic.Odd Table"] == 3000
        and counts["public.readings_2025"] + counts["public.readings_2026"] == 401
    )
    assert counts["public.empty_one"] == 0 and counts["public.no_key"] == 50

    # docs/restore.md, the one-command restore
    zstd = subprocess.Popen(["zstd", "-dc", str(b.path)], stdout=subprocess.PIPE)
    rest = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}"],
        stdin=zstd.stdout,
        env=pg.libpq_env(pg.with_dbname(PG_SERVER, restored)),
        capture_output=True,
        text=True,
    )
    assert zstd.wait() == 0 and rest.returncode == 0, rest.stderr
    restored_dsn = pg.with_dbname(PG_SERVER, restored)
    assert table_digests(restored_dsn) == table_digests(foreign_db)
    assert _extras(restored_dsn) == _extras(foreign_db)
    assert {k: v[0] for k, v in table_digests(restored_dsn).items()} == counts

    # the weekly restore-verification on the same database: integrity checks that do not
    # apply to this schema warn; everything else passes
    res = run_cli("run", "backup.create", "-p", "tier=weekly", "--json", env=env)
    outcome = json.loads(res.stdout)
    assert res.returncode == 0, outcome
    checks = {c["name"]: c["status"] for c in outcome["result"]["checks"]}
    assert checks["all tables recovered with their rows"] == "pass"
    assert checks["integrity assignments_missing_person"] == "warn"
    assert [r["status"] for r in history_rows()] == ["succeeded", "succeeded"]
