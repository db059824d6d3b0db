"""What retention's checklist says: nothing shown as passed that did not run, links
anywhere in the root reported the same way, only the configured targets' set-aside
databases, and text a person reads (no Python reprs, no raw dicts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from maintenance import clock, pg
from maintenance.backup import layout, policy
from maintenance.backup.layout import Tier
from maintenance.config import Settings
from maintenance.restore import swap
from maintenance.results import RunStatus
from tests.conftest import PG_SERVER, TAG, TARGET_DB, run_cli
from tests.integration.test_backup_retention import (
    DAY,
    HOUR,
    checks,
    listing,
    make_backup,
    run,
    temp_file,
)

pytestmark = pytest.mark.integration

#: Checks that look at something other than the backup root: they run whatever the root.
NOT_OF_THE_ROOT = {"backup root read safely", "old pre-restore databases"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def s(settings: Settings, root: Path) -> Settings:
    return Settings.model_validate(settings.model_dump() | {"backup_root": root})


def _escape_the_root(root: Path, tmp_path: Path, now: datetime) -> Path:
    outside = tmp_path / "outside" / "precious.dump.zst"
    outside.parent.mkdir()
    outside.write_bytes(b"precious")
    for d in range(5):
        make_backup(root, Tier.DAILY, now - (30 + d) * DAY)
    link_id = layout.make_id(Tier.DAILY, now - 40 * DAY)
    (root / "daily" / f"{link_id}{layout.DUMP_SUFFIX}").symlink_to(outside)
    return outside


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_refused_run_shows_no_check_as_passed_that_did_not_run(
    s: Settings, root: Path, tmp_path: Path, dry_run: bool
) -> None:
    now = clock.now()
    outside = _escape_the_root(root, tmp_path, now)
    before = listing(root)

    result = run(s, dry_run=dry_run)

    assert listing(root) == before and outside.read_bytes() == b"precious"
    c = checks(result)
    assert c["backup root read safely"].status == "fail"
    assert result.status is RunStatus.FAILED
    not_run = [check for name, check in c.items() if name not in NOT_OF_THE_ROOT]
    assert {check.name for check in not_run} >= {
        "floor holds per tier",
        "backups within retention age",
        "current daily backup < 24 hours old",
        "total size within budget",
        "no stray files",
        "no links or misplaced backups",
        "forensic floor holds per database",
        "old forensic dumps removed",
    }
    assert ("planned deletions done" in c) is not dry_run
    for check in not_run:
        assert check.status == "warn", check
        assert str(check.observed).startswith("not run: the backup root was not read safely")


def test_a_plan_refused_by_the_floor_says_its_deletions_did_not_run(
    s: Settings, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    for d in range(5):
        make_backup(root, Tier.MONTHLY, now - (400 + d) * DAY)

    def delete_everything(
        candidates: list[policy.Candidate], pol: policy.Policy, at: datetime
    ) -> list[policy.Decision]:
        return [
            policy.Decision(c.id, c.tier, False, "bug", c.created_at, c.size_bytes)
            for c in candidates
        ]

    monkeypatch.setattr(policy, "decide", delete_everything)
    for dry_run in (True, False):
        result = run(s, dry_run=dry_run)
        c = checks(result)
        assert c["floor holds per tier"].status == "fail"
        # nothing is freed by a refused plan: the budget is judged on what stays
        f = result.figures
        assert f["total_bytes_after"] == f["total_bytes_before"] > 0
        assert f["bytes_to_free"] == 0
        if not dry_run:
            done = c["planned deletions done"]
            assert done.status == "warn"
            assert done.observed.startswith("not run: the plan would break the floor")


def test_a_link_directly_in_the_backup_root_is_reported_like_one_in_a_tier_folder(
    s: Settings, root: Path, tmp_path: Path
) -> None:
    now = clock.now()
    for n in range(3):
        make_backup(root, Tier.DAILY, now - n * DAY - HOUR)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    (root / "elsewhere").symlink_to(outside)
    (root / "daily" / "notes").symlink_to(outside / "keep.txt")

    result = run(s, dry_run=False)

    assert (root / "elsewhere").is_symlink() and (root / "daily" / "notes").is_symlink()
    assert (outside / "keep.txt").read_text() == "precious"
    links = checks(result)["no links or misplaced backups"]
    assert links.status == "warn"
    assert f"elsewhere: a symbolic link to {outside}" in links.observed
    assert f"daily/notes: a symbolic link to {outside / 'keep.txt'}" in links.observed
    assert sorted(result.figures["refused"]) == [
        f"daily/notes: a symbolic link to {outside / 'keep.txt'}",
        f"elsewhere: a symbolic link to {outside}",
    ]
    assert checks(result)["no stray files"].status == "pass"  # a link is not a stray


# --- the pre-restore databases -----------------------------------------------------------


@pytest.fixture
def set_aside(services: None) -> Iterator[list[str]]:
    """Set-aside databases as ``maint restore`` names them: one of the configured target,
    one of a database nobody configured, and a name that only looks like one."""
    then = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    names = [
        swap.pre_restore_name(TARGET_DB, then),
        swap.pre_restore_name(f"maint_test_{TAG}_other", then),
        f"maint_test_{TAG}_pre_restore_notes",
    ]
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        for name in names:
            pg.drop_database(PG_SERVER, name)


def test_the_pre_restore_report_lists_only_configured_targets(
    s: Settings, root: Path, set_aside: list[str]
) -> None:
    ours, others, lookalike = set_aside
    check = checks(run(s, dry_run=True))["old pre-restore databases"]
    assert check.status == "warn"
    assert ours in check.observed
    assert others not in check.observed and lookalike not in check.observed
    assert TARGET_DB in check.expected

    both = Settings.model_validate(
        s.model_dump() | {"restore_targets": [TARGET_DB, f"maint_test_{TAG}_other"]}
    )
    check = checks(run(both, dry_run=True))["old pre-restore databases"]
    assert ours in check.observed and others in check.observed
    assert lookalike not in check.observed


# --- words, not reprs --------------------------------------------------------------------


def test_every_check_reads_as_text(s: Settings, root: Path) -> None:
    now = clock.now()
    good = [make_backup(root, Tier.DAILY, now - d * DAY - HOUR) for d in range(10, 13)]
    make_backup(root, Tier.DAILY, now - HOUR, verified=False)
    temp_file(root, Tier.DAILY, now - 2 * DAY, now - 2 * DAY)
    (root / "daily" / "notes.txt").write_text("x")
    # no weekly or monthly backup at all: their floor has no newest verified backup

    for dry_run in (True, False):
        result = run(s, dry_run=dry_run)
        for check in result.checks:
            for value in (check.observed, check.expected):
                assert isinstance(value, str), check
                assert "None" not in value and "{" not in value and "['" not in value, check
        c = checks(result)
        floor = c["floor holds per tier"]
        assert floor.observed == "daily 3 verified kept, weekly 0, monthly 0"
        assert floor.expected == (
            f"daily >= 3 incl. the newest verified {good[0]}; "
            "weekly: no verified backup; monthly: no verified backup"
        )
        aged = c["backups within retention age"]
        assert set(aged.observed.split(", ")) == set(good)
        assert c["no stray files"].observed == "daily/notes.txt"


def test_a_name_with_an_impossible_date_is_a_stray_not_a_crash(
    s: Settings, root: Path, maint_env: dict[str, str]
) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - HOUR)
    odd = root / "daily" / f"daily-20261399T000000Z{layout.DUMP_SUFFIX}"
    odd.write_bytes(b"x")

    listed = run_cli("backups", "list", env={**maint_env, "MAINT_BACKUP_ROOT": str(root)})
    assert listed.returncode == 0, listed.stderr
    assert "1 stray file" in listed.stdout
    result = run(s, dry_run=False)
    assert odd.exists()
    assert checks(result)["no stray files"].observed == f"daily/{odd.name}"
    assert result.status is RunStatus.SUCCEEDED
