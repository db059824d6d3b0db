"""backup.archive end to end: a real tar of a fabricated backup, read back, recorded,
through the runner with its history row."""

from __future__ import annotations

import hashlib
import json
import stat
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from maintenance import clock, runner
from maintenance.backup import layout, manifest
from maintenance.backup.archive import task as archive
from maintenance.backup.layout import Tier
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from maintenance.runner import Outcome
from maintenance.taskspec import TaskSpec
from tests.conftest import history_rows
from tests.fakes import fabricate_backup

pytestmark = pytest.mark.integration

SPEC = TaskSpec(
    name="backup.archive",
    func=archive.run,
    params=archive.ArchiveParams,
    description="monthly archive",
    exclusive=True,
    lock="backups",
)


def make_backup(
    root: Path, backup_id: str, size: int = 300_000, *, level: str = "full", passed: bool = True
) -> bytes:
    """A fabricated backup (tests/fakes.py)."""
    return fabricate_backup(root, backup_id, size, level=level, passed=passed)


def an_id(tier: Tier = Tier.MONTHLY, days_ago: float = 1) -> str:
    return layout.make_id(tier, clock.now() - timedelta(days=days_ago))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def configured(settings: Settings, root: Path, clean_history: str) -> Settings:
    return Settings.model_validate(settings.model_dump() | {"backup_root": root})


def run(settings: Settings, **params: Any) -> Outcome:
    return runner.execute(SPEC, params, settings=settings, trigger=Trigger.CLI)


def row(out: Outcome) -> dict[str, Any]:
    (found,) = history_rows("id = %s", (out.run_id,))
    return found


def checks(out: Outcome) -> dict[str, dict[str, Any]]:
    assert out.result is not None
    return {c["name"]: c for c in out.result["checks"]}


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        out = {}
        for m in tar.getmembers():
            f = tar.extractfile(m)
            assert f is not None
            out[m.name] = f.read()
        return out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_archive_holds_the_backup_and_its_manifest(configured: Settings, root: Path) -> None:
    backup_id = an_id(days_ago=3)
    data = make_backup(root, backup_id, size=2 * (1 << 20) + 7)
    make_backup(root, an_id(days_ago=1), level="checksum")  # newer but unverified
    make_backup(root, an_id(Tier.WEEKLY, days_ago=0.5))  # newer, verified, not monthly
    manifest_bytes = layout.manifest_path(root, backup_id).read_bytes()

    out = run(configured)

    assert out.status is RunStatus.SUCCEEDED, out
    tar_path = root / "archive" / f"{backup_id}.tar"
    assert members(tar_path) == {
        f"{backup_id}.dump.zst": data,
        f"{backup_id}.manifest.json": manifest_bytes,
    }
    assert mode(tar_path) == 0o600
    assert mode(root / "archive") == 0o700
    assert [p.name for p in (root / "archive").iterdir()] == [tar_path.name]  # no temp left
    for name in (
        "archive holds exactly the backup and its manifest",
        "archived backup matches the manifest's SHA-256",
        "archived manifest is this backup's",
        "archive is private",
    ):
        assert checks(out)[name]["status"] == "pass", name

    (entry,) = manifest.read_document(layout.manifest_path(root, backup_id))["archives"]
    assert entry["action"] == "archived"
    assert entry["path"] == f"archive/{backup_id}.tar"
    assert entry["sha256"] == hashlib.sha256(tar_path.read_bytes()).hexdigest()
    assert entry["members"][f"{backup_id}.dump.zst"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["run_id"] == out.run_id

    figures = out.result["figures"]  # type: ignore[index]
    assert figures["archive_bytes"] == tar_path.stat().st_size
    assert figures["write_mb_s"] > 0 and figures["readback_mb_s"] > 0
    r = row(out)
    assert (r["task"], r["status"]) == ("backup.archive", "succeeded")
    assert backup_id in r["summary"] and "read back OK" in r["summary"]


def test_a_second_run_is_idempotent(configured: Settings, root: Path) -> None:
    backup_id = an_id()
    make_backup(root, backup_id)
    assert run(configured, backup=backup_id).status is RunStatus.SUCCEEDED
    tar_path = root / "archive" / f"{backup_id}.tar"
    before = (tar_path.stat().st_ino, tar_path.stat().st_mtime_ns, tar_path.read_bytes())

    again = run(configured, backup=backup_id)

    assert again.status is RunStatus.SUCCEEDED, again
    assert "already archived" in again.summary
    assert (tar_path.stat().st_ino, tar_path.stat().st_mtime_ns, tar_path.read_bytes()) == before
    actions = [
        e["action"] for e in manifest.read_document(layout.manifest_path(root, backup_id))["archives"]
    ]
    assert actions == ["archived", "already-present"]


def test_a_damaged_archive_is_reported_and_rebuilt(configured: Settings, root: Path) -> None:
    backup_id = an_id()
    data = make_backup(root, backup_id)
    assert run(configured).status is RunStatus.SUCCEEDED
    tar_path = root / "archive" / f"{backup_id}.tar"
    blob = bytearray(tar_path.read_bytes())
    blob[4096] ^= 0x01  # inside the dump's data
    tar_path.write_bytes(bytes(blob))

    out = run(configured)

    assert out.status is RunStatus.FAILED
    assert checks(out)["existing archive is intact"]["status"] == "fail"
    assert row(out)["error_type"] == "CheckFailed"
    assert members(tar_path)[f"{backup_id}.dump.zst"] == data
    assert run(configured).status is RunStatus.SUCCEEDED


def test_an_unverified_backup_is_not_archived(configured: Settings, root: Path) -> None:
    backup_id = an_id()
    make_backup(root, backup_id, level="checksum")

    out = run(configured, backup=backup_id)
    assert out.status is RunStatus.FAILED
    assert checks(out)["backup is verified"]["status"] == "fail"
    latest = run(configured)
    assert checks(latest)["a verified monthly backup to archive"]["status"] == "fail"
    assert row(latest)["status"] == "failed"
    assert not (root / "archive").exists()
    assert "archives" not in manifest.read_document(layout.manifest_path(root, backup_id))


def test_a_backup_changed_since_verification_is_not_archived(
    configured: Settings, root: Path
) -> None:
    backup_id = an_id()
    make_backup(root, backup_id)
    dump = layout.dump_path(root, backup_id)
    blob = bytearray(dump.read_bytes())
    blob[-1] ^= 0xFF
    dump.write_bytes(bytes(blob))

    out = run(configured)

    assert out.status is RunStatus.FAILED
    assert checks(out)["local backup still matches its manifest"]["status"] == "fail"
    assert list((root / "archive").iterdir()) == []  # neither the tar nor a temp file


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "/etc/shadow", "monthly-20260101T000000Z/../x", ""]
)
def test_bad_ids_are_refused_before_anything_is_touched(
    configured: Settings, root: Path, bad: str
) -> None:
    out = run(configured, backup=bad)
    assert out.status is RunStatus.FAILED
    assert out.exit_code == 2
    assert row(out)["error_type"] == "ParamError"
    assert not root.exists()


def test_the_tar_is_plain_tar(configured: Settings, root: Path) -> None:
    backup_id = an_id()
    make_backup(root, backup_id, size=1000)
    run(configured)
    tar_path = root / "archive" / f"{backup_id}.tar"
    with tarfile.open(tar_path, "r:") as tar:  # uncompressed
        infos = tar.getmembers()
    assert all(i.isreg() and i.mode == 0o600 and "/" not in i.name for i in infos)
    doc = json.loads(members(tar_path)[f"{backup_id}.manifest.json"])
    assert doc["id"] == backup_id


def test_archive_retention_keeps_a_year_and_the_floor(settings, tmp_path: Path) -> None:
    """Archives older than the monthly retention age go; the newest N stay regardless."""
    from datetime import timedelta

    from maintenance import clock
    from maintenance.backup.archive import tar as archive_mod
    from maintenance.backup.archive.prune import prune
    from maintenance.backup.layout import Tier, make_id
    from maintenance.config import Settings as S
    from maintenance.results import Result, Trigger
    from maintenance.taskspec import RunContext

    s = S.model_validate(
        settings.model_dump() | {"backup_root": tmp_path, "retention_min_verified": 2}
    )
    folder = tmp_path / archive_mod.ARCHIVE_DIR
    folder.mkdir()
    now = clock.now()
    ages = [400, 380, 370, 200, 30]  # days
    ids = [make_id(Tier.MONTHLY, now - timedelta(days=d)) for d in ages]
    for i in ids:
        (folder / f"{i}{archive_mod.TAR_SUFFIX}").write_bytes(b"tar")
    outside = tmp_path.parent / "precious.tar"
    outside.write_bytes(b"keep me")
    (
        folder / f"{make_id(Tier.MONTHLY, now - timedelta(days=900))}{archive_mod.TAR_SUFFIX}"
    ).symlink_to(outside)
    ctx = RunContext(s, None, Trigger.CLI, "backup.archive")

    dry = Result()
    prune(ctx, dry, apply=False)
    assert sorted(p.name for p in folder.iterdir() if not p.is_symlink()) == sorted(
        f"{i}.tar" for i in ids
    )
    going = [d["id"] for d in dry.figures["archive_retention"]["decisions"] if not d["keep"]]
    assert going == ids[:3]  # older than 365 days; the two newest would stay anyway

    applied = Result()
    prune(ctx, applied, apply=True)
    assert sorted(p.name for p in folder.iterdir() if not p.is_symlink()) == sorted(
        f"{i}.tar" for i in ids[3:]
    )
    assert outside.read_bytes() == b"keep me"  # a link is never followed nor counted
