"""Forensic dumps (``BACKUP_ROOT/forensics``, restore's "previous state"): listed by
``maint backups list --forensics`` and kept by a retention rule of their own, with a
floor of the newest per database, deletions only when applied, each with its reason.

Dumps are made by restore's own :func:`forensic_dump` (real pg_dump of real databases),
at chosen moments: their names and records carry that moment, as a restore then would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from maintenance import clock, pg
from maintenance.backup import forensics, layout
from maintenance.backup.layout import Tier
from maintenance.config import Settings, load_settings
from maintenance.errors import ConfigError
from maintenance.restore import run as restore_run
from maintenance.results import RunStatus
from tests.conftest import PG_SERVER, TAG, run_cli
from tests.integration.test_backup_retention import (
    DAY,
    HOUR,
    age_file,
    checks,
    crashed_write,
    listing,
    make_backup,
    run,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dbs(services: None) -> Iterator[tuple[str, str]]:
    """Two small real databases to take forensic dumps of."""
    names = (f"maint_test_{TAG}_forensic_a", f"maint_test_{TAG}_forensic_b")
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    for name in names:
        with psycopg.connect(pg.with_dbname(PG_SERVER, name), autocommit=True) as conn:
            conn.execute("CREATE TABLE t AS SELECT g AS x FROM generate_series(1, 100) g")
    try:
        yield names
    finally:
        for name in names:
            pg.drop_database(PG_SERVER, name)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def s(settings: Settings, root: Path) -> Settings:
    return Settings.model_validate(
        settings.model_dump()
        | {"backup_root": root, "forensics_keep_days": 30, "forensics_min_keep": 2}
    )


def dump(s: Settings, database: str, moment: datetime, run_id: int | None = None) -> str:
    """A forensic dump as ``maint restore`` takes it; its name."""
    info = restore_run.forensic_dump(s, database, moment, run_id)
    return str(info["file"]).removesuffix(layout.DUMP_SUFFIX)


def files(root: Path, name: str) -> list[Path]:
    folder = layout.forensics_dir(root)
    return [folder / f"{name}{suffix}" for suffix in (layout.DUMP_SUFFIX, layout.MANIFEST_SUFFIX)]


def forensic_decisions(result: Any) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in result.figures["forensics"]}


def test_forensic_dumps_appear_in_backups_list_forensics(
    s: Settings, root: Path, dbs: tuple[str, str], maint_env: dict[str, str]
) -> None:
    now = clock.now()
    a, b = dbs
    old = dump(s, a, now - 3 * DAY, run_id=41)
    new = dump(s, b, now - HOUR, run_id=42)
    make_backup(root, Tier.DAILY, now - HOUR)
    env = {**maint_env, "MAINT_BACKUP_ROOT": str(root)}

    res = run_cli("backups", "list", "--forensics", "--json", env=env)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["name"] for r in rows] == [new, old]  # newest first, and no backups
    record = json.loads(files(root, old)[1].read_text())
    assert rows[1]["database"] == a
    assert rows[1]["restore_run_id"] == 41
    assert rows[1]["sha256"] == record["sha256"]
    assert rows[1]["size_bytes"] == files(root, old)[0].stat().st_size == record["size_bytes"]
    assert rows[1]["status"] == "complete"

    human = run_cli("backups", "list", "--forensics", env=env)
    assert human.returncode == 0, human.stderr
    assert old in human.stdout and new in human.stdout and "complete" in human.stdout
    plain = run_cli("backups", "list", "--json", env=env)
    assert [r["tier"] for r in json.loads(plain.stdout)] == ["daily"]  # backups apart


def test_old_forensic_dumps_go_the_newest_of_each_database_stay(
    s: Settings, root: Path, dbs: tuple[str, str]
) -> None:
    now = clock.now()
    a, b = dbs
    newest, second, young, old, older = (
        dump(s, a, now - age) for age in (HOUR, 2 * DAY, 3 * DAY, 50 * DAY, 60 * DAY)
    )
    # b has no young dump at all: the floor keeps its newest two whatever their age
    b_floor = [dump(s, b, now - age) for age in (90 * DAY, 100 * DAY)]
    b_old = dump(s, b, now - 110 * DAY)
    before = listing(root)

    dry = run(s, dry_run=True)

    assert listing(root) == before  # a dry run deletes nothing
    d = forensic_decisions(dry)
    assert {n for n, x in d.items() if not x["keep"]} == {old, older, b_old}
    for name in (newest, second, *b_floor):
        assert "one of the newest 2 of" in d[name]["reason"]
        assert "MAINT_FORENSICS_MIN_KEEP=2): kept whatever its age" in d[name]["reason"]
    assert "3.0 days old, within 30 days: kept" in d[young]["reason"]
    assert "older than 30 days (MAINT_FORENSICS_KEEP_DAYS): delete" in d[old]["reason"]
    c = checks(dry)
    floor = c["forensic floor holds per database"]
    assert floor.status == "pass"
    assert floor.observed == f"{a}: 3 kept of 5; {b}: 2 kept of 3"
    removed = c["old forensic dumps removed"]
    assert removed.status == "pass"
    assert removed.observed.startswith("would delete 3: ")
    assert f"{old} (50.0 days old, older than 30 days" in removed.observed
    assert older in removed.observed and b_old in removed.observed
    assert young not in removed.observed
    assert "would remove 3 forensic dumps" in dry.summary

    applied = run(s, dry_run=False)

    for name in (old, older, b_old):
        assert not any(p.exists() for p in files(root, name))
    for name in (newest, second, young, *b_floor):
        assert all(p.exists() for p in files(root, name))
    removed = checks(applied)["old forensic dumps removed"]
    assert removed.status == "pass" and removed.observed.startswith("deleted 3: ")
    assert f"{old} (50.0 days old" in removed.observed
    assert set(applied.figures["deleted"]) == {
        f"forensics/{p.name}" for name in (old, older, b_old) for p in files(root, name)
    }
    assert "removed 3 forensic dumps" in applied.summary
    assert applied.status is RunStatus.SUCCEEDED

    again = run(s, dry_run=False)
    assert again.figures["deleted"] == []
    assert checks(again)["old forensic dumps removed"].observed == "none (5 kept)"


def test_leftovers_in_the_forensics_folder(
    s: Settings, root: Path, dbs: tuple[str, str], tmp_path: Path, maint_env: dict[str, str]
) -> None:
    now = clock.now()
    a, _ = dbs
    keep = dump(s, a, now - HOUR)
    folder = layout.forensics_dir(root)
    # a restore killed while dumping: its temp file, once more than a day old
    crashed = crashed_write(
        folder / f"{layout.forensic_name(a, now - 2 * DAY)}{layout.DUMP_SUFFIX}"
    )
    age_file(crashed, now - 2 * DAY)
    running = crashed_write(folder / f"{layout.forensic_name(a, now)}{layout.DUMP_SUFFIX}")
    # a restore killed between its record and the rename of the dump
    orphan = dump(s, a, now - 3 * DAY)
    files(root, orphan)[0].unlink()
    age_file(files(root, orphan)[1], now - 3 * DAY)
    stray = folder / "notes.txt"
    stray.write_text("x")
    precious = tmp_path / "precious.dump.zst"
    precious.write_bytes(b"precious")
    link = folder / f"{layout.forensic_name(a, now - 400 * DAY)}{layout.DUMP_SUFFIX}"
    link.symlink_to(precious)

    # the root check and `maint backups list --forensics` count the same leftovers
    found = "2 temp files of interrupted runs, 1 stray file"
    dry = run(s, dry_run=True)
    assert f"forensics: 3 dumps, {found}" in str(checks(dry)["backup root read safely"].observed)
    env = {**maint_env, "MAINT_BACKUP_ROOT": str(root)}
    listed = run_cli("backups", "list", "--forensics", env=env)
    assert listed.returncode == 0, listed.stderr
    assert found in listed.stdout

    result = run(s, dry_run=False)

    assert not crashed.exists() and running.exists()
    assert not files(root, orphan)[1].exists()
    assert all(p.exists() for p in files(root, keep))
    assert stray.exists() and link.is_symlink() and precious.read_bytes() == b"precious"
    deleted = set(result.figures["deleted"])
    assert {f"forensics/{crashed.name}", f"forensics/{files(root, orphan)[1].name}"} <= deleted
    assert "record without its dump" in forensic_decisions(result)[orphan]["reason"]
    c = checks(result)
    assert c["no stray files"].observed == "forensics/notes.txt"
    assert f"forensics/{link.name.removesuffix(layout.DUMP_SUFFIX)}" in (
        c["no links or misplaced backups"].observed
    )
    assert c["forensic floor holds per database"].status == "pass"


def test_a_forensics_folder_that_is_a_link_is_left_alone(
    s: Settings, root: Path, dbs: tuple[str, str], tmp_path: Path
) -> None:
    now = clock.now()
    a, _ = dbs
    names = [dump(s, a, now - (100 + n) * DAY) for n in range(4)]
    elsewhere = tmp_path / "elsewhere"
    layout.forensics_dir(root).rename(elsewhere)
    layout.forensics_dir(root).symlink_to(elsewhere)
    before = listing(elsewhere)

    result = run(s, dry_run=False)

    assert listing(elsewhere) == before
    assert result.figures["forensics"] == []
    links = checks(result)["no links or misplaced backups"]
    assert links.status == "warn"
    assert f"forensics/: a symbolic link to {elsewhere}" in links.observed
    assert all((elsewhere / f"{n}{layout.DUMP_SUFFIX}").exists() for n in names)


def test_the_forensic_floor_is_a_safety_net(
    s: Settings, root: Path, dbs: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    a, _ = dbs
    for n in range(3):
        dump(s, a, now - (100 + n) * DAY)
    for n in range(3):
        make_backup(root, Tier.DAILY, now - n * DAY - HOUR)
    old_backup = make_backup(root, Tier.DAILY, now - 30 * DAY)
    before = listing(root)

    def delete_everything(
        candidates: list[forensics.Candidate], rule: forensics.Rule, at: datetime
    ) -> list[forensics.Decision]:
        return [
            forensics.Decision(c.name, c.database, False, "bug", c.created_at) for c in candidates
        ]

    monkeypatch.setattr(forensics, "decide", delete_everything)
    result = run(s, dry_run=False)

    assert listing(root) == before  # nothing at all: not even the backup that was due
    assert layout.dump_path(root, old_backup).exists()
    floor = checks(result)["forensic floor holds per database"]
    assert floor.status == "fail"
    assert floor.observed == f"{a}: 0 kept of 3"
    assert result.status is RunStatus.FAILED
    assert result.summary.startswith("refused")


@pytest.mark.parametrize("name", ["MAINT_FORENSICS_MIN_KEEP", "MAINT_FORENSICS_KEEP_DAYS"])
def test_a_forensic_setting_below_one_is_refused_by_name(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ConfigError, match=name):
        load_settings()
