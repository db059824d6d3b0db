"""backup.retention on real files: the floor holds after days of failures, dry run touches
nothing, apply deletes exactly the plan, garbage goes, and nothing outside the root is
ever deleted (links, ``../`` ids)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from maintenance import clock, runner
from maintenance.backup import layout, manifest, policy
from maintenance.backup.layout import Tier
from maintenance.backup.retention import apply as retention_apply
from maintenance.backup.retention import task as retention
from maintenance.backup.retention.task import RetentionParams
from maintenance.config import Settings
from maintenance.errors import BadInput
from maintenance.fs import atomic, temp
from maintenance.fs import delete as fs_delete
from maintenance.restore import report as restore_report
from maintenance.results import Result, RunStatus, Trigger
from maintenance.taskspec import RunContext, TaskSpec
from tests.conftest import history_rows, run_cli

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# --- fabricating backups -------------------------------------------------------------


def make_backup(
    root: Path,
    tier: Tier,
    created: datetime,
    *,
    verified: bool | None = True,
    level: str = "full",
    size: int = 64,
    dump: bool = True,
    with_manifest: bool = True,
    manifest_id: str | None = None,
) -> str:
    """A backup as backup.create and backup.verify leave it (``verified=None``: never
    verified)."""
    backup_id = layout.make_id(tier, created)
    atomic.private_dir(layout.tier_dir(root, tier))
    if dump:
        with atomic.atomic_write(layout.dump_path(root, backup_id)) as handle:
            handle.write(b"z" * size)
    if with_manifest:
        data: dict[str, Any] = {
            "format_version": manifest.FORMAT_VERSION,
            "id": manifest_id or backup_id,
            "tier": tier.value,
            "size_bytes": size,
            "created_at": created.isoformat(),
        }
        if verified is not None:
            data["verification"] = {
                "level": level,
                "passed": verified,
                "at": (created + HOUR).isoformat(),
            }
        manifest.write_document(layout.manifest_path(root, backup_id), data)
    return backup_id


def age_file(path: Path, moment: datetime) -> None:
    """Set a file's mtime (as a crashed run would have left it)."""
    os.utime(path, (moment.timestamp(), moment.timestamp()), follow_symlinks=False)


#: A writer that dies half-way, as a killed worker does: the backup's own atomic writer in
#: a process that exits without cleaning up.
_CRASHING_WRITER = """
import os, sys
from pathlib import Path
from maintenance.fs import atomic
with atomic.atomic_write(Path(sys.argv[1])) as handle:
    handle.write(b"partial")
    handle.flush()
    os._exit(9)
"""


def crashed_write(final: Path) -> Path:
    """The temp file a real writer of ``final`` leaves when it is killed mid-write."""
    atomic.private_dir(final.parent)
    before = set(final.parent.iterdir())
    proc = subprocess.run([sys.executable, "-c", _CRASHING_WRITER, str(final)], check=False)
    assert proc.returncode == 9
    (left,) = set(final.parent.iterdir()) - before
    assert not final.exists()
    return left


def temp_file(root: Path, tier: Tier, created: datetime, written: datetime) -> Path:
    final = layout.tier_dir(root, tier) / f"{layout.make_id(tier, created)}{layout.DUMP_SUFFIX}"
    path = crashed_write(final)
    age_file(path, written)
    return path


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under root (links not followed): relative path -> (size, mtime_ns)."""
    out = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            st = (Path(folder) / name).lstat()
            out[str((Path(folder) / name).relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def files_of(root: Path) -> set[str]:
    return {p for p in listing(root) if p not in {t.value for t in Tier}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def s(settings: Settings, root: Path) -> Settings:
    return Settings.model_validate(settings.model_dump() | {"backup_root": root})


def run(s: Settings, *, dry_run: bool) -> Result:
    ctx = RunContext(s, None, Trigger.CLI, "backup.retention")
    return restore_report.retention(ctx, RetentionParams(dry_run=dry_run))


def checks(result: Result) -> dict[str, Any]:
    return {c.name: c for c in result.checks}


def decisions(result: Result) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in result.figures["decisions"]}


# --- the floor -----------------------------------------------------------------------


def test_ten_days_of_failed_backups_the_floor_holds(s: Settings, root: Path) -> None:
    now = clock.now()
    failed = [
        make_backup(root, Tier.DAILY, now - d * DAY - HOUR, verified=False) for d in range(10)
    ]
    good = [make_backup(root, Tier.DAILY, now - d * DAY - HOUR) for d in range(10, 15)]

    result = run(s, dry_run=False)

    left = {p.name.removesuffix(layout.DUMP_SUFFIX) for p in (root / "daily").glob("*.dump.zst")}
    # the three newest verified stay although 10-12 days old; failed ones go by age alone
    assert left == set(failed[:7]) | set(good[:3])
    for bid in good[3:] + failed[7:]:
        assert not layout.manifest_path(root, bid).exists()
    c = checks(result)
    assert c["floor holds per tier"].status == "pass"
    assert result.figures["floor"]["daily"]["verified_kept"] == 3
    assert c["floor holds per tier"].observed.startswith("daily 3 verified kept,")
    assert c["backups within retention age"].status == "warn"
    assert set(c["backups within retention age"].observed.split(", ")) == set(good[:3])
    assert result.status is RunStatus.SUCCEEDED
    d = decisions(result)
    assert "newest verified daily backup: always kept" in d[good[0]]["reason"]
    assert "floor" in d[good[2]]["reason"]
    assert "(unverified or failed): delete" in d[failed[9]]["reason"]
    assert result.summary.startswith("deleted 5 backups")

    # and again: nothing more goes, the floor is stable
    again = run(s, dry_run=False)
    assert again.figures["deleted"] == []
    assert checks(again)["floor holds per tier"].status == "pass"


def test_checksum_only_and_foreign_manifests_do_not_count_toward_the_floor(
    s: Settings, root: Path
) -> None:
    now = clock.now()
    checksum_only = make_backup(root, Tier.WEEKLY, now - 60 * DAY, level="checksum")
    foreign = make_backup(root, Tier.WEEKLY, now - 61 * DAY, manifest_id="weekly-20200101T000000Z")
    real = make_backup(root, Tier.WEEKLY, now - 90 * DAY, level="restore")
    p = retention.survey(s, now)
    d = {i.id: i for i in p.items}
    assert not d[checksum_only].keep and not d[checksum_only].verified
    assert not d[foreign].keep and d[foreign].status == "broken"
    assert "weekly-20200101T000000Z" in d[foreign].decision.reason
    assert d[real].keep and "always kept" in d[real].decision.reason


def test_the_safety_net_refuses_a_plan_that_breaks_the_floor(
    s: Settings, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    for d in range(5):
        make_backup(root, Tier.MONTHLY, now - (400 + d) * DAY)
    before = listing(root)

    def delete_everything(
        candidates: list[policy.Candidate], pol: policy.Policy, at: datetime
    ) -> list[policy.Decision]:
        return [
            policy.Decision(c.id, c.tier, False, "bug", c.created_at, c.size_bytes)
            for c in candidates
        ]

    monkeypatch.setattr(policy, "decide", delete_everything)
    result = run(s, dry_run=False)
    assert listing(root) == before
    assert checks(result)["floor holds per tier"].status == "fail"
    assert result.status is RunStatus.FAILED
    assert result.summary.startswith("refused")


# --- dry run and apply -----------------------------------------------------------------


def _mixed(root: Path, now: datetime) -> None:
    for d in range(12):
        make_backup(root, Tier.DAILY, now - d * DAY - HOUR)
    for w in range(10):
        make_backup(root, Tier.WEEKLY, now - w * 7 * DAY - 2 * HOUR, verified=w % 3 != 0)
    make_backup(root, Tier.MONTHLY, now - 400 * DAY, verified=None)
    make_backup(root, Tier.MONTHLY, now - 30 * DAY)
    orphan = make_backup(root, Tier.DAILY, now - 3 * DAY - timedelta(minutes=30), dump=False)
    age_file(layout.manifest_path(root, orphan), now - 3 * DAY)
    temp_file(root, Tier.DAILY, now - 2 * DAY, now - 2 * DAY)
    temp_file(root, Tier.WEEKLY, now - HOUR, now - HOUR)


def test_dry_run_deletes_nothing(s: Settings, root: Path) -> None:
    now = clock.now()
    _mixed(root, now)
    before = listing(root)
    result = run(s, dry_run=True)
    assert listing(root) == before
    f = result.figures
    assert f["dry_run"] is True and f["deleted"] == [] and f["bytes_freed"] == 0
    assert f["backups_to_delete"] > 0 and f["bytes_to_free"] > 0
    assert result.summary.startswith(f"dry run: would delete {f['backups_to_delete']} backups")
    assert result.summary.endswith("; would remove 1 temp file and 1 orphan manifest")
    # every backup id on disk has exactly one decision with its reason
    names = [Path(n).name for n in files_of(root)]
    ids = {
        n.removesuffix(layout.DUMP_SUFFIX).removesuffix(layout.MANIFEST_SUFFIX)
        for n in names
        if not n.startswith(".")
    }
    assert set(decisions(result)) == ids
    for d in f["decisions"]:
        assert set(d) >= {"id", "tier", "keep", "reason", "created_at", "size_bytes"}


def test_apply_deletes_exactly_what_the_plan_said(s: Settings, root: Path) -> None:
    now = clock.now()
    _mixed(root, now)
    p = retention.survey(s, now)
    planned = {f for i in p.to_delete for f in i.files} | {t.relpath for t in p.temp_to_remove}
    assert planned
    before = files_of(root)

    result = run(s, dry_run=False)

    after = files_of(root)
    assert after <= before
    assert before - after == planned
    assert set(result.figures["deleted"]) == planned
    assert result.figures["bytes_freed"] == p.bytes_to_free
    assert result.figures["dry_run"] is False
    assert checks(result)["planned deletions done"].status == "pass"
    # what is kept is still whole: dump and manifest side by side
    for item in p.items:
        if item.keep and item.kind == "backup":
            assert layout.dump_path(root, item.id).exists()
            assert layout.manifest_path(root, item.id).exists()


def _count(text: str, what: str) -> int:
    match = re.search(rf"(\d+) {what}", text)
    assert match, f"no count of {what!r} in {text!r}"
    return int(match.group(1))


@pytest.mark.parametrize("suffix", [layout.DUMP_SUFFIX, layout.MANIFEST_SUFFIX])
def test_a_real_crashed_run_temp_file_is_gone_after_the_next_retention_a_day_later(
    s: Settings, root: Path, maint_env: dict[str, str], suffix: str
) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - HOUR)
    crashed_id = layout.make_id(Tier.DAILY, now - DAY - 2 * HOUR)
    final = layout.tier_dir(root, Tier.DAILY) / f"{crashed_id}{suffix}"
    left = crashed_write(final)
    assert left.name.startswith(f".{final.name}{temp.TEMP_MARK}")
    age_file(left, now - DAY - HOUR)

    # `maint backups list` and retention's root check count the same leftovers
    listed = run_cli("backups", "list", env={**maint_env, "MAINT_BACKUP_ROOT": str(root)})
    assert listed.returncode == 0, listed.stderr
    dry = run(s, dry_run=True)
    root_check = str(checks(dry)["backup root read safely"].observed)
    assert _count(listed.stdout, "temp file") == _count(root_check, "temp file") == 1
    assert _count(listed.stdout, "stray file") == _count(root_check, "stray file") == 0
    assert left.exists()  # a dry run

    result = run(s, dry_run=False)
    assert not left.exists()
    assert f"daily/{left.name}" in result.figures["deleted"]
    assert "removed 1 temp file" in result.summary
    assert checks(result)["no stray files"].status == "pass"


def test_backups_list_counts_leftovers_even_without_a_backup(
    s: Settings, root: Path, maint_env: dict[str, str]
) -> None:
    now = clock.now()
    temp_file(root, Tier.WEEKLY, now - DAY, now - DAY)
    listed = run_cli("backups", "list", env={**maint_env, "MAINT_BACKUP_ROOT": str(root)})
    assert listed.returncode == 0, listed.stderr
    assert "no backups in" in listed.stdout
    root_check = str(checks(run(s, dry_run=True))["backup root read safely"].observed)
    assert _count(listed.stdout, "temp file") == _count(root_check, "temp file") == 1


def test_temp_files_older_than_a_day_go_younger_stay(s: Settings, root: Path) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - HOUR)
    old = temp_file(root, Tier.DAILY, now - 2 * DAY, now - DAY - HOUR)
    young = temp_file(root, Tier.DAILY, now - 3 * HOUR, now - 23 * HOUR)
    not_ours = layout.tier_dir(root, Tier.DAILY) / f".notes{temp.TEMP_MARK}1"
    not_ours.write_text("x")
    age_file(not_ours, now - 30 * DAY)

    result = run(s, dry_run=False)
    assert not old.exists()
    assert young.exists()
    assert not_ours.exists()  # a temp-like name that is not a backup's: a stray, kept
    temps = {t["path"]: t for t in result.figures["temp_files"]}
    assert temps[f"daily/{old.name}"]["remove"] is True
    assert temps[f"daily/{young.name}"]["remove"] is False
    assert "a run may be writing it" in temps[f"daily/{young.name}"]["reason"]
    strays = checks(result)["no stray files"]
    assert strays.status == "warn" and strays.observed == f"daily/{not_ours.name}"


def test_orphan_manifest_older_than_a_day_is_removed(s: Settings, root: Path) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - HOUR)
    old = make_backup(root, Tier.DAILY, now - 2 * DAY, dump=False)
    age_file(layout.manifest_path(root, old), now - 2 * DAY)
    young = make_backup(root, Tier.DAILY, now - 2 * HOUR, dump=False)

    result = run(s, dry_run=False)
    assert not layout.manifest_path(root, old).exists()
    assert layout.manifest_path(root, young).exists()
    d = decisions(result)
    assert d[old]["kind"] == "orphan_manifest" and d[old]["keep"] is False
    assert "garbage from a crashed run" in d[old]["reason"]
    assert d[young]["keep"] is True and "in progress" in d[young]["reason"]


def test_a_file_without_manifest_goes_only_after_its_age(s: Settings, root: Path) -> None:
    now = clock.now()
    for n in range(3):
        make_backup(root, Tier.DAILY, now - n * DAY - HOUR)
    young = make_backup(root, Tier.DAILY, now - 5 * DAY, with_manifest=False)
    old = make_backup(root, Tier.DAILY, now - 8 * DAY, with_manifest=False)
    result = run(s, dry_run=False)
    assert layout.dump_path(root, young).exists()
    assert not layout.dump_path(root, old).exists()
    d = decisions(result)
    assert d[young]["status"] == "broken" and "without a readable manifest" in d[young]["reason"]
    assert result.figures["floor"]["daily"]["verified"] == 3


def test_budget_warns(s: Settings, root: Path) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - HOUR, size=5000)
    ok = run(s, dry_run=True)
    assert checks(ok)["total size within budget"].status == "pass"
    tight = Settings.model_validate(s.model_dump() | {"backup_budget_bytes": 1000})
    over = run(tight, dry_run=True)
    c = checks(over)["total size within budget"]
    assert c.status == "warn" and c.observed.endswith("KiB")
    assert over.status is RunStatus.SUCCEEDED  # a warning does not fail the run


def test_current_daily_backup_check(s: Settings, root: Path) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - 30 * HOUR)
    assert checks(run(s, dry_run=True))["current daily backup < 24 hours old"].status == "warn"
    make_backup(root, Tier.DAILY, now - 2 * HOUR)
    assert checks(run(s, dry_run=True))["current daily backup < 24 hours old"].status == "pass"


def test_a_manifest_update_in_flight_makes_retention_wait_then_skip(
    s: Settings, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fs_delete, "LOCK_WAIT_S", 0.3)
    now = clock.now()
    for n in range(3):
        make_backup(root, Tier.DAILY, now - n * DAY - HOUR)
    busy = make_backup(root, Tier.DAILY, now - 20 * DAY)
    with manifest.locked(layout.manifest_path(root, busy)):
        result = run(s, dry_run=False)
    assert layout.dump_path(root, busy).exists()
    assert layout.manifest_path(root, busy).exists()
    assert "skipped, the next run retries" in (
        checks(result)["planned deletions done"].detail or ""
    )
    assert "1 skipped" in result.summary
    # once the lock is free, the next run deletes it
    run(s, dry_run=False)
    assert not layout.dump_path(root, busy).exists()


# --- nothing outside the root --------------------------------------------------------


def test_a_link_leading_outside_the_root_refuses_the_whole_run(
    s: Settings, root: Path, tmp_path: Path
) -> None:
    now = clock.now()
    outside = tmp_path / "outside" / "precious.dump.zst"
    outside.parent.mkdir()
    outside.write_bytes(b"precious")
    for d in range(5):
        make_backup(root, Tier.DAILY, now - (30 + d) * DAY)
    link_id = layout.make_id(Tier.DAILY, now - 40 * DAY)
    (root / "daily" / f"{link_id}{layout.DUMP_SUFFIX}").symlink_to(outside)
    before = listing(root)

    result = run(s, dry_run=False)
    assert outside.read_bytes() == b"precious"
    assert listing(root) == before  # not even the old backups: the root is not trusted
    c = checks(result)["backup root read safely"]
    assert c.status == "fail" and "outside the backup root" in c.observed
    assert result.status is RunStatus.FAILED


def test_a_link_inside_the_root_is_neither_followed_nor_deleted(s: Settings, root: Path) -> None:
    now = clock.now()
    weekly = make_backup(root, Tier.WEEKLY, now - 2 * DAY)
    for n in range(3):
        make_backup(root, Tier.DAILY, now - n * DAY - HOUR)
    link_id = layout.make_id(Tier.DAILY, now - 40 * DAY)
    link = root / "daily" / f"{link_id}{layout.DUMP_SUFFIX}"
    link.symlink_to(layout.dump_path(root, weekly))

    result = run(s, dry_run=False)
    assert link.is_symlink()
    assert layout.dump_path(root, weekly).exists()
    d = decisions(result)
    assert d[link_id]["kind"] == "refused" and d[link_id]["keep"] is True
    assert "symbolic link" in d[link_id]["reason"]
    assert checks(result)["no links or misplaced backups"].status == "warn"


def test_a_tier_folder_that_is_a_link_is_refused(s: Settings, root: Path, tmp_path: Path) -> None:
    now = clock.now()
    make_backup(root, Tier.DAILY, now - HOUR)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "monthly").symlink_to(elsewhere)
    stale = temp_file(root, Tier.MONTHLY, now - 3 * DAY, now - 3 * DAY)
    assert stale.resolve().parent == elsewhere

    result = run(s, dry_run=False)
    assert (elsewhere / stale.name).exists()
    refused = checks(result)["no links or misplaced backups"]
    assert refused.status == "warn"
    assert any(r.startswith("monthly/") for r in refused.observed.split("; "))
    with pytest.raises(BadInput):
        retention_apply.delete_temp(root, Tier.MONTHLY, stale.name)
    assert (elsewhere / stale.name).exists()


def test_a_misplaced_backup_is_not_deleted(s: Settings, root: Path) -> None:
    now = clock.now()
    bid = make_backup(root, Tier.DAILY, now - 30 * DAY)
    atomic.private_dir(root / "weekly")
    for suffix in (layout.DUMP_SUFFIX, layout.MANIFEST_SUFFIX):
        (root / "daily" / f"{bid}{suffix}").rename(root / "weekly" / f"{bid}{suffix}")
    result = run(s, dry_run=False)
    assert (root / "weekly" / f"{bid}{layout.DUMP_SUFFIX}").exists()
    assert decisions(result)[bid]["kind"] == "refused"


@pytest.mark.parametrize(
    "bad_id",
    [
        "../outside/precious",
        "../../outside/precious",
        "/etc/passwd",
        "daily-20261127T230000Z/../../outside/precious",
        "daily-20261127T230000Z/../x",
        "",
    ],
)
def test_a_bad_backup_id_is_rejected_before_anything_is_touched(
    root: Path, tmp_path: Path, bad_id: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / f"precious{layout.DUMP_SUFFIX}"
    precious.write_bytes(b"precious")
    (outside / f"precious{layout.MANIFEST_SUFFIX}").write_text("{}")
    atomic.private_dir(root / "daily")
    with pytest.raises(BadInput, match="not valid"):
        retention_apply.delete_backup(root, bad_id)
    assert precious.read_bytes() == b"precious"
    assert (outside / f"precious{layout.MANIFEST_SUFFIX}").exists()


# --- through the runner ----------------------------------------------------------------


def test_a_run_records_every_decision_in_the_history(
    s: Settings, root: Path, clean_history: str
) -> None:
    now = clock.now()
    ids = [make_backup(root, Tier.DAILY, now - d * DAY - HOUR) for d in range(10)]
    spec = TaskSpec(
        name="backup.retention",
        func=retention.run,
        params=RetentionParams,
        description="retention",
        exclusive=False,
    )
    out = runner.execute(spec, {"dry_run": "false"}, settings=s, trigger=Trigger.CLI)
    assert out.status is RunStatus.SUCCEEDED, out.summary
    (row,) = history_rows()
    assert row["task"] == "backup.retention" and row["status"] == "succeeded"
    result: Any = row["result"]
    assert {d["id"] for d in result["figures"]["decisions"]} == set(ids)
    assert [d["keep"] for d in result["figures"]["decisions"]] == [False] * 3 + [True] * 7
    assert result["figures"]["dry_run"] is False
    assert len(result["figures"]["deleted"]) == 6  # three dumps, three manifests
    assert str(row["summary"]).startswith("deleted 3 backups")
    assert not layout.dump_path(root, ids[-1]).exists()
