"""backup.create and backup.verify on real databases, real pg_dump/pg_restore, real files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from maintenance import catalog, dbcheck, pg, runner
from maintenance.backup import inventory, manifest
from maintenance.config import Settings
from maintenance.pgarchive import decode
from maintenance.results import RunStatus, Trigger
from tests.conftest import PG_SERVER, TAG, history_rows

pytestmark = pytest.mark.integration

SMALL = {"daily": 1000, "weekly": 1000, "monthly": 1000}


@pytest.fixture
def bsettings(settings: Settings, target_db: str, tmp_path: Path) -> Settings:
    return Settings.model_validate(
        settings.model_dump() | {"backup_root": tmp_path / "backups", "backup_min_bytes": SMALL}
    )


def _run(task: str, s: Settings, **params: object) -> runner.Outcome:
    return runner.execute(catalog.get(task), params, settings=s, trigger=Trigger.CLI)


def table_digests(dsn: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every user table's contents."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for schema, table in dbcheck.user_tables(conn):
            q = psycopg.sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {}.{} t"
            ).format(psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table))
            n, digest = conn.execute(q).fetchone()  # type: ignore[misc]
            out[f"{schema}.{table}"] = (n, digest)
    return out


@pytest.fixture
def fresh_db() -> Iterator[str]:
    name = f"maint_test_{TAG}_restored"
    pg.drop_database(PG_SERVER, name)
    pg.create_database(PG_SERVER, name, if_missing=False)
    yield name
    pg.drop_database(PG_SERVER, name)


def test_daily_backup_is_private_complete_and_verified(
    bsettings: Settings, target_db: str, clean_history: str
) -> None:
    out = _run("backup.create", bsettings, tier="daily")
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    inv = inventory.scan(bsettings.backup_root)
    (b,) = inv.backups
    assert b.tier.value == "daily" and b.problem is None
    assert stat.S_IMODE(b.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(b.manifest_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(b.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(bsettings.backup_root.stat().st_mode) == 0o700
    data = manifest.read_document(b.manifest_path)
    assert data["sha256"] == hashlib.sha256(b.path.read_bytes()).hexdigest()
    assert data["size_bytes"] == b.path.stat().st_size
    with psycopg.connect(target_db) as conn:
        assert data["counts"]["tables"] == dbcheck.exact_counts(conn)
        (residents,) = conn.execute(
            "SELECT count(*) FROM persons WHERE role = 'RESIDENT'"
        ).fetchone()  # type: ignore[misc]
    assert data["counts"]["stats"]["residents"] == residents
    assert data["verification"]["level"] == "full" and data["verification"]["passed"] is True
    assert data["server_version"].startswith("15") and "pg_dump" in data["client_version"]
    for key in (
        "started_at",
        "finished_at",
        "duration_s",
        "compression_ratio",
        "expires_at",
        "format",
        "compression",
    ):
        assert key in data
    (row,) = history_rows()
    checks = {c["name"]: c["status"] for c in row["result"]["checks"]}
    for name in (
        "free space before the backup",
        "database answers",
        "backup file exists",
        "size above floor",
        "file timestamp recent",
        "file permissions 0600",
        "folder permissions 0700",
        "space used within budget",
        "sha256 equals manifest",
        "decompresses and decodes completely",
        "every table decodes to its rows at backup time",
        "table public.assignments present",
    ):
        assert checks[name] == "pass", name
    assert not [
        p for p in b.path.parent.iterdir() if p.name.startswith(".")
    ]  # no temp or lock files left


def test_the_documented_restore_command_gives_identical_tables(
    bsettings: Settings, target_db: str, fresh_db: str, clean_history: str
) -> None:
    """docs/restore.md: zstd -dc FILE | pg_restore --no-owner --dbname=NEWDB"""
    assert (
        _run("backup.create", bsettings, tier="daily", verify="none").status is RunStatus.SUCCEEDED
    )
    (b,) = inventory.scan(bsettings.backup_root).backups
    env = pg.libpq_env(pg.with_dbname(PG_SERVER, fresh_db))
    zstd = subprocess.Popen(["zstd", "-dc", str(b.path)], stdout=subprocess.PIPE)
    restore = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={fresh_db}"],
        stdin=zstd.stdout,
        env=env,
        capture_output=True,
        text=True,
    )
    assert zstd.wait() == 0 and restore.returncode == 0, restore.stderr
    assert table_digests(pg.with_dbname(PG_SERVER, fresh_db)) == table_digests(target_db)


def test_the_parallel_restore_command_works_too(
    bsettings: Settings, fresh_db: str, tmp_path: Path, clean_history: str
) -> None:
    """docs/restore.md: zstd -d FILE -o X.dump && pg_restore -j 2 --dbname=NEWDB X.dump"""
    _run("backup.create", bsettings, tier="daily", verify="none")
    (b,) = inventory.scan(bsettings.backup_root).backups
    plain = tmp_path / "x.dump"
    subprocess.run(["zstd", "-q", "-d", str(b.path), "-o", str(plain)], check=True)
    env = pg.libpq_env(pg.with_dbname(PG_SERVER, fresh_db))
    res = subprocess.run(
        ["pg_restore", "-j", "2", "--no-owner", f"--dbname={fresh_db}", str(plain)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    counts = {k: v[0] for k, v in table_digests(pg.with_dbname(PG_SERVER, fresh_db)).items()}
    assert counts == manifest.read_document(b.manifest_path)["counts"]["tables"]


def test_weekly_backup_is_verified_by_a_restore_that_leaves_nothing_behind(
    bsettings: Settings, clean_history: str
) -> None:
    out = _run("backup.create", bsettings, tier="weekly")
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    (b,) = inventory.scan(bsettings.backup_root).backups
    assert b.verification is not None
    assert b.verification.level == "restore" and b.verification.passed
    names = {c["name"] for c in out.result["checks"]}  # type: ignore[index]
    assert {
        "restores into a scratch database",
        "all tables recovered with their rows",
        "foreign keys valid",
        "integrity assignments_duplicate_person_block",
    } <= names
    # the scratch database this run used (its check names it) is gone; other test
    # processes may have scratch databases of their own at this moment
    (observed,) = [
        c["observed"]
        for c in out.result["checks"]  # type: ignore[index]
        if c["name"] == "restores into a scratch database"
    ]
    scratch = observed.split(":", 1)[0]
    assert scratch.startswith("maint_scratch_")
    with psycopg.connect(PG_SERVER) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname = %s", (scratch,))
        assert left.fetchall() == []


def _corrupt_and_rehash(b: inventory.Backup, mutate) -> None:
    """Damage the file, then make the manifest agree with it: only reading every byte
    (the full level) can still tell."""
    data = bytearray(b.path.read_bytes())
    data = mutate(data)
    b.path.write_bytes(bytes(data))
    m = manifest.read_document(b.manifest_path)
    m["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    m["size_bytes"] = len(data)
    manifest.write_document(b.manifest_path, m)


def _flip(data: bytearray) -> bytearray:
    data[len(data) // 2] ^= 0x01
    return data


def _truncate(data: bytearray) -> bytearray:
    return data[: len(data) * 2 // 3]


@pytest.mark.parametrize("mutate", [_flip, _truncate], ids=["flipped-byte", "truncated"])
def test_damage_fails_at_checksum_and_at_full(
    bsettings: Settings, clean_history: str, mutate
) -> None:
    _run("backup.create", bsettings, tier="daily", verify="none")
    (b,) = inventory.scan(bsettings.backup_root).backups
    original = b.path.read_bytes()
    b.path.write_bytes(bytes(mutate(bytearray(original))))
    for level in ("checksum", "full"):
        out = _run("backup.verify", bsettings, backup=b.id, level=level)
        assert out.status is RunStatus.FAILED, level
        assert "sha256 equals manifest" in (out.error_message or "") or "size equals manifest" in (
            out.error_message or ""
        )
    # the damage happened before hashing: the checksum agrees, reading every byte does not
    b.path.write_bytes(original)
    b = inventory.scan(bsettings.backup_root).get(b.id)
    _corrupt_and_rehash(b, mutate)
    assert (
        _run("backup.verify", bsettings, backup=b.id, level="checksum").status
        is RunStatus.SUCCEEDED
    )
    out = _run("backup.verify", bsettings, backup=b.id, level="full")
    assert out.status is RunStatus.FAILED
    assert "decompresses and decodes completely" in (out.error_message or "")
    last = manifest.read_document(b.manifest_path)["verification"]
    assert (last["level"], last["passed"]) == ("full", False)
    assert not inventory.scan(bsettings.backup_root).get(b.id).verified


def test_pg_restore_list_alone_would_pass_a_truncated_file(
    bsettings: Settings, tmp_path: Path, clean_history: str
) -> None:
    """Why `full` reads every byte: the playbook's pg_restore --list check passes this file."""
    _run("backup.create", bsettings, tier="daily", verify="none")
    (b,) = inventory.scan(bsettings.backup_root).backups
    plain = tmp_path / "x.dump"
    subprocess.run(["zstd", "-q", "-d", str(b.path), "-o", str(plain)], check=True)
    cut = tmp_path / "cut.dump"
    cut.write_bytes(plain.read_bytes()[: plain.stat().st_size * 3 // 4])
    listing = subprocess.run(["pg_restore", "--list", str(cut)], capture_output=True, text=True)
    assert listing.returncode == 0 and "TABLE DATA public assignments" in listing.stdout
    zst = tmp_path / "cut.dump.zst"
    subprocess.run(["zstd", "-q", str(cut), "-o", str(zst)], check=True)
    with pytest.raises(decode.DecodeFailed):
        decode.decode(zst, pg_restore="pg_restore", env=dict(os.environ))


def test_restore_level_finds_integrity_violations(bsettings: Settings, clean_history: str) -> None:
    """A database with an orphaned assignment (its FK dropped) backs up fine, but the
    restore verification reports the orphan."""
    from maintenance.demo.seed import seed

    name = f"maint_test_{TAG}_orphans"
    seed(PG_SERVER, name, scale=0.01)
    try:
        dsn = pg.with_dbname(PG_SERVER, name)
        with psycopg.connect(dsn, autocommit=True) as conn:
            fk = conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'assignments'::regclass "
                "AND contype = 'f' AND pg_get_constraintdef(oid) LIKE '%(person_id)%'"
            ).fetchone()
            conn.execute(
                psycopg.sql.SQL("ALTER TABLE assignments DROP CONSTRAINT {}").format(
                    psycopg.sql.Identifier(fk[0])
                )
            )  # type: ignore[index]
            conn.execute(
                "UPDATE assignments SET person_id = 999999999 WHERE id = (SELECT min(id) FROM assignments)"
            )
        s = Settings.model_validate(bsettings.model_dump() | {"target_dsn": dsn})
        out = _run("backup.create", s, tier="weekly")
        assert out.status is RunStatus.FAILED
        failed = {c["name"]: c for c in out.result["checks"] if c["status"] == "fail"}  # type: ignore[index]
        assert set(failed) == {"integrity assignments_missing_person"}
        assert failed["integrity assignments_missing_person"]["observed"] == 1
    finally:
        pg.drop_database(PG_SERVER, name)


def test_latest_and_ids_resolve_and_bad_ids_are_refused(
    bsettings: Settings, clean_history: str
) -> None:
    _run("backup.create", bsettings, tier="daily", verify="none")
    _run("backup.create", bsettings, tier="weekly", verify="none")
    inv = inventory.scan(bsettings.backup_root)
    newest = max(inv.backups, key=lambda b: b.created_at)
    out = _run("backup.verify", bsettings, backup="latest", level="checksum")
    assert out.result["figures"]["backup"] == newest.id  # type: ignore[index]
    out = _run("backup.verify", bsettings, backup="latest", tier="daily", level="checksum")
    assert out.result["figures"]["backup"].startswith("daily-")  # type: ignore[index]
    for bad in ("../../etc/passwd", "/etc/passwd", "daily-20261127T000000Z/../../x", "weekly-2026"):
        out = _run("backup.verify", bsettings, backup=bad)
        assert out.bad_input and out.exit_code == 2, bad
        assert "not valid" in (out.error_message or "")


def test_size_shrinking_by_half_warns(bsettings: Settings, clean_history: str) -> None:
    _run("backup.create", bsettings, tier="daily", verify="none")
    (b,) = inventory.scan(bsettings.backup_root).backups
    m = manifest.read_document(b.manifest_path)
    # pretend the previous backup was three times larger
    padded = b.path.read_bytes() + os.urandom(2 * b.size_bytes)
    b.path.write_bytes(padded)
    m["size_bytes"] = len(padded)
    manifest.write_document(b.manifest_path, m)
    out = _run("backup.create", bsettings, tier="daily", verify="none")
    assert out.status is RunStatus.SUCCEEDED
    warn = [c for c in out.result["checks"] if c["status"] == "warn"]  # type: ignore[index]
    assert [c["name"] for c in warn] == ["size consistent with previous backups"]


def test_maint_backups_list_shows_verification(
    bsettings: Settings, maint_env: dict[str, str], clean_history: str
) -> None:
    from tests.conftest import run_cli

    _run("backup.create", bsettings, tier="daily")
    env = maint_env | {"MAINT_BACKUP_ROOT": str(bsettings.backup_root)}
    rows = json.loads(run_cli("backups", "list", "--json", env=env).stdout)
    assert len(rows) == 1 and rows[0]["status"] == "verified:full"
    assert rows[0]["verification"]["passed"] is True
    assert run_cli("backups", "list", "--tier", "weekly", "--json", env=env).stdout.strip() == "[]"
    res = run_cli("backups", "verify", rows[0]["id"], "--level", "checksum", env=env)
    assert res.returncode == 0 and "sha256 equals manifest" in res.stdout
    assert run_cli("backups", "verify", "../x", env=env).returncode == 2


def test_retention_never_deletes_a_backup_while_it_is_being_verified(
    bsettings: Settings, clean_history: str
) -> None:
    """verify reads under a shared lock on the tier folder; retention's deletion waits for
    it, then leaves the backup for its next run instead of pulling it from under a reader."""
    import threading
    from datetime import timedelta

    import time_machine

    from maintenance import clock
    from maintenance.backup.retention import task as retention

    s = Settings.model_validate(bsettings.model_dump() | {"retention_min_verified": 1})
    _run("backup.create", s, tier="daily", verify="full")  # the one that will be too old
    (old,) = inventory.scan(s.backup_root).backups
    with time_machine.travel(clock.now() + timedelta(days=30), tick=True):
        _run("backup.create", s, tier="daily", verify="full")  # newer: the floor is met
        plan = retention.survey(s, clock.now())
        assert [d.id for d in plan.decisions if not d.keep] == [old.id]
        release = threading.Event()
        holding = threading.Event()

        def long_verification() -> None:
            with manifest.locked(old.manifest_path, shared=True):
                holding.set()
                release.wait(30)

        reader = threading.Thread(target=long_verification)
        reader.start()
        holding.wait(10)
        try:
            out = _run("backup.retention", s, dry_run=False)
        finally:
            release.set()
            reader.join()
        assert old.path.exists() and old.manifest_path.exists()
        assert "skipped" in str(out.result) or "held" in str(out.result)
        out = _run("backup.retention", s, dry_run=False)
        assert out.status is RunStatus.SUCCEEDED
        assert not old.path.exists() and not old.manifest_path.exists()


@pytest.mark.parametrize("cut", [4, 1], ids=["without-its-checksum", "one-byte-short"])
def test_a_frame_cut_at_its_very_end_fails_full_verification(
    bsettings: Settings, clean_history: str, cut: int
) -> None:
    """zstd's streaming reader hands out all the data of a frame missing its last bytes;
    full verification must still notice (and so must every restore, which reads the same way)."""
    _run("backup.create", bsettings, tier="daily", verify="none")
    (b,) = inventory.scan(bsettings.backup_root).backups
    _corrupt_and_rehash(b, lambda d: d[:-cut])
    out = _run("backup.verify", bsettings, backup=b.id, level="full")
    assert out.status is RunStatus.FAILED
    assert "truncated" in (out.error_message or "")
    with pytest.raises(decode.DecodeFailed, match="truncated"):
        decode.stream_into(b.path, open(os.devnull, "wb"))  # noqa: SIM115
