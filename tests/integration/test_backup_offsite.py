"""backup.offsite end to end: real files in a backup root and an off-site root, real
AES-256-GCM, run through the runner with its history row."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from maintenance import clock, runner
from maintenance.backup import crypto, layout, manifest
from maintenance.backup.layout import Tier
from maintenance.backup.offsite import copies, task
from maintenance.backup.offsite.copies import CopyPaths
from maintenance.config import Settings
from maintenance.fs import temp
from maintenance.results import RunStatus, Trigger
from maintenance.runner import Outcome
from maintenance.taskspec import TaskSpec
from tests.conftest import history_rows
from tests.fakes import fabricate_backup

pytestmark = pytest.mark.integration

SPEC = TaskSpec(
    name="backup.offsite",
    func=task.run,
    params=task.OffsiteParams,
    description="encrypted off-site copy",
    exclusive=True,
    lock="backups",
)
MB = 1 << 20


def make_backup(
    root: Path, backup_id: str, size: int = 100_000, *, level: str = "full", passed: bool = True
) -> bytes:
    """A fabricated backup (tests/fakes.py)."""
    return fabricate_backup(
        root,
        backup_id,
        size,
        level=level,
        passed=passed,
        extra={"database": {"name": "residency_scheduler", "tables": 12}},
    )


def recent_id(tier: Tier = Tier.MONTHLY, days_ago: float = 1) -> str:
    return layout.make_id(tier, clock.now() - timedelta(days=days_ago))


@dataclass
class Env:
    settings: Settings
    backups: Path
    offsite: Path
    key: bytes
    key_file: Path

    def run(self, **params: Any) -> Outcome:
        return runner.execute(SPEC, params, settings=self.settings, trigger=Trigger.CLI)

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.offsite)) for p in self.offsite.rglob("*"))

    def copy_of(self, backup_id: str) -> CopyPaths:
        return copies.copy_paths(self.offsite, backup_id)


@pytest.fixture
def env(tmp_path: Path, settings: Settings, clean_history: str) -> Env:
    backups, off = tmp_path / "backups", tmp_path / "offsite"
    off.mkdir(mode=0o700)
    key = os.urandom(32)
    key_file = tmp_path / "offsite.key"
    key_file.write_bytes(key)
    key_file.chmod(0o600)
    configured = Settings.model_validate(
        settings.model_dump()
        | {"backup_root": backups, "offsite_root": off, "offsite_key_file": key_file}
    )
    return Env(configured, backups, off, key, key_file)


def row(out: Outcome) -> dict[str, Any]:
    (found,) = history_rows("id = %s", (out.run_id,))
    return found


def checks(out: Outcome) -> dict[str, dict[str, Any]]:
    assert out.result is not None
    return {c["name"]: c for c in out.result["checks"]}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_copy_read_back_record_and_decrypt(env: Env, tmp_path: Path) -> None:
    backup_id = recent_id()
    data = make_backup(env.backups, backup_id, size=3 * MB + 5)
    make_backup(env.backups, recent_id(Tier.DAILY, 0.5))  # newer, but not monthly
    local_manifest = layout.manifest_path(env.backups, backup_id)
    manifest_before = local_manifest.read_bytes()

    out = env.run()

    assert out.status is RunStatus.SUCCEEDED, out
    c = checks(out)
    assert c["backup is verified"]["status"] == "pass"
    assert c["off-site copy reads back and matches"]["status"] == "pass"
    assert c["off-site location is another filesystem"]["status"] == "warn"  # tmp_path: same disk
    paths = env.copy_of(backup_id)
    assert env.files() == sorted(["monthly", *(f"monthly/{p.name}" for p in paths.all)])
    assert mode(env.offsite / "monthly") == 0o700
    assert all(mode(p) == 0o600 for p in paths.all)
    assert data[:4096] not in paths.dump.read_bytes()

    sidecar = json.loads(paths.sidecar.read_text())
    assert sidecar["readback"]["passed"] is True
    assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
    assert sidecar["files"]["dump"]["sha256"] == hashlib.sha256(paths.dump.read_bytes()).hexdigest()
    assert "database" not in sidecar  # the plain sidecar holds only what retention needs

    recorded = manifest.read_document(local_manifest)["offsite"]
    assert [e["action"] for e in recorded] == ["copied"]
    assert recorded[0]["readback"]["passed"] is True
    assert recorded[0]["path"] == f"monthly/{backup_id}.dump.zst.enc"
    assert recorded[0]["run_id"] == out.run_id

    figures = out.result["figures"]  # type: ignore[index]
    assert figures["encrypt_mb_s"] > 0 and figures["readback_mb_s"] > 0
    assert figures["plain_bytes"] == 3 * MB + 5

    r = row(out)
    assert r["task"] == "backup.offsite"
    assert r["status"] == "succeeded"
    assert backup_id in r["summary"] and "read back OK" in r["summary"]
    recorded_text = json.dumps(r, default=str)
    for secret in (env.key.hex(), env.key.hex().upper(), base64.b64encode(env.key).decode()):
        assert secret not in recorded_text

    # the way back: `maint backups decrypt SRC DEST`
    restored = tmp_path / "restored.dump.zst"
    sha, size = crypto.decrypt_file(
        paths.dump, restored, env.key, expected_sha256=copies.expected_sha256(paths.dump)
    )
    assert restored.read_bytes() == data
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert mode(restored) == 0o600
    manifest_copy = tmp_path / "restored.manifest.json"
    crypto.decrypt_file(
        paths.manifest,
        manifest_copy,
        env.key,
        expected_sha256=copies.expected_sha256(paths.manifest),
    )
    assert manifest_copy.read_bytes() == manifest_before


def test_a_second_run_is_idempotent(env: Env) -> None:
    backup_id = recent_id()
    make_backup(env.backups, backup_id)
    first = env.run()
    assert first.status is RunStatus.SUCCEEDED
    before = {p: (p.stat().st_ino, p.read_bytes()) for p in env.copy_of(backup_id).all[:2]}

    second = env.run()

    assert second.status is RunStatus.SUCCEEDED, second
    assert second.result["figures"]["action"] == "already-present"  # type: ignore[index]
    assert "already off-site" in second.summary
    assert {p: (p.stat().st_ino, p.read_bytes()) for p in before} == before
    sidecar = json.loads(env.copy_of(backup_id).sidecar.read_text())
    assert [r["run_id"] for r in sidecar["readbacks"]] == [first.run_id, second.run_id]
    recorded = manifest.read_document(layout.manifest_path(env.backups, backup_id))["offsite"]
    assert [e["action"] for e in recorded] == ["copied", "already-present"]
    assert row(second)["status"] == "succeeded"


def test_a_flipped_byte_off_site_is_caught_by_the_next_run(env: Env) -> None:
    backup_id = recent_id()
    data = make_backup(env.backups, backup_id, size=2 * MB)
    assert env.run().status is RunStatus.SUCCEEDED
    enc = env.copy_of(backup_id).dump
    blob = bytearray(enc.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    enc.write_bytes(bytes(blob))

    out = env.run()

    assert out.status is RunStatus.FAILED
    damaged = checks(out)["existing off-site copy is intact"]
    assert damaged["status"] == "fail"
    assert "authentication failed" in damaged["observed"]
    r = row(out)
    assert r["status"] == "failed" and r["error_type"] == "CheckFailed"
    assert "existing off-site copy is intact" in r["error_message"]
    # replaced by a fresh copy, which reads back and decrypts to the original
    assert checks(out)["off-site copy reads back and matches"]["status"] == "pass"
    assert env.run().result["figures"]["action"] == "already-present"  # type: ignore[index]
    sink = crypto.NullSink()
    with enc.open("rb") as handle:
        sha, _ = crypto.decrypt_stream(handle, sink, env.key)
    assert sha == hashlib.sha256(data).hexdigest()


def test_recheck_reads_every_other_copy(env: Env) -> None:
    old, new = recent_id(days_ago=40), recent_id(days_ago=5)
    make_backup(env.backups, old)
    make_backup(env.backups, new)
    assert env.run(backup=old).status is RunStatus.SUCCEEDED
    assert env.run(backup=new).status is RunStatus.SUCCEEDED
    enc = env.copy_of(old).dump
    enc.write_bytes(enc.read_bytes()[:-1])  # cut the last byte

    fine = env.run()  # the default run only reads back the copy it handles
    assert fine.status is RunStatus.SUCCEEDED
    out = env.run(recheck="true")

    assert out.status is RunStatus.FAILED
    failed = checks(out)["every other off-site copy reads back"]
    assert old in failed["observed"][0]
    assert json.loads(env.copy_of(old).sidecar.read_text())["readback"]["passed"] is False


def test_an_unverified_backup_is_not_copied(env: Env) -> None:
    checksum_only = recent_id(days_ago=2)
    failed = recent_id(days_ago=1)
    make_backup(env.backups, checksum_only, level="checksum")
    make_backup(env.backups, failed, passed=False)

    for backup_id in (checksum_only, failed):
        out = env.run(backup=backup_id, prune="no")
        assert out.status is RunStatus.FAILED
        assert checks(out)["backup is verified"]["status"] == "fail"
        assert "not verified" in out.summary
        assert row(out)["status"] == "failed"
    latest = env.run(prune="no")
    assert checks(latest)["a verified monthly backup to copy"]["status"] == "fail"
    assert env.files() == []
    assert "offsite" not in manifest.read_document(layout.manifest_path(env.backups, failed))


def test_a_backup_changed_since_verification_is_not_copied(env: Env) -> None:
    backup_id = recent_id()
    make_backup(env.backups, backup_id)
    dump = layout.dump_path(env.backups, backup_id)
    blob = bytearray(dump.read_bytes())
    blob[100] ^= 0xFF  # same size: only the checksum can tell
    dump.write_bytes(bytes(blob))

    out = env.run(prune="no")

    assert out.status is RunStatus.FAILED
    assert checks(out)["local backup still matches its manifest"]["status"] == "fail"
    assert env.files() == ["monthly"]  # the folder, and not even a temp file in it


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "/etc/passwd", "monthly-20260101T000000Z/../../x", "latest/.."],
)
def test_bad_ids_are_refused_before_anything_is_touched(env: Env, bad: str) -> None:
    out = env.run(backup=bad)
    assert out.status is RunStatus.FAILED
    assert out.exit_code == 2
    assert out.error_type == "ParamError"
    assert row(out)["error_type"] == "ParamError"
    assert env.files() == []
    assert not env.backups.exists()


def test_not_configured_is_skipped_naming_the_setting(env: Env) -> None:
    no_root = Settings.model_validate(env.settings.model_dump() | {"offsite_root": None})
    out = runner.execute(SPEC, {}, settings=no_root, trigger=Trigger.CLI)
    assert out.status is RunStatus.SKIPPED
    assert "MAINT_OFFSITE_ROOT" in out.summary
    no_key = Settings.model_validate(env.settings.model_dump() | {"offsite_key_file": None})
    out = runner.execute(SPEC, {}, settings=no_key, trigger=Trigger.CLI)
    assert out.status is RunStatus.SKIPPED
    assert "MAINT_OFFSITE_KEY_FILE" in out.summary
    assert row(out)["status"] == "skipped"


def test_a_key_file_others_can_read_fails_the_run(env: Env) -> None:
    make_backup(env.backups, recent_id())
    env.key_file.chmod(0o644)
    out = env.run()
    assert out.status is RunStatus.FAILED
    assert out.error_type == "ConfigError"
    assert str(env.key_file) in (out.error_message or "")
    assert env.files() == []


def test_an_unmounted_off_site_root_is_not_created(env: Env) -> None:
    make_backup(env.backups, recent_id())
    env.offsite.rmdir()
    out = env.run()
    assert out.status is RunStatus.FAILED
    assert out.error_type == "ServiceUnavailable"
    assert "mounted" in (out.error_message or "")
    assert not env.offsite.exists()


def test_off_site_retention_keeps_the_floor(env: Env) -> None:
    assert env.settings.retention_min_verified == 3
    assert env.settings.offsite_retention_days == 730
    ancient = [f"monthly-2019{m:02d}01T020000Z" for m in range(1, 6)]
    current = recent_id(days_ago=20)
    for backup_id in [*ancient, current]:
        make_backup(env.backups, backup_id, size=10_000)
        assert env.run(backup=backup_id, prune="no").status is RunStatus.SUCCEEDED
    # the newest ancient copy failed its last read-back: it does not count toward the floor
    failed = env.copy_of(ancient[4]).sidecar
    doc = json.loads(failed.read_text())
    doc["readback"]["passed"] = False
    failed.write_text(json.dumps(doc))
    leftover = temp.temp_path(env.offsite / "monthly" / f"{current}.dump.zst.enc")
    leftover.write_bytes(b"half a copy")
    expected_gone = {ancient[0], ancient[1], ancient[4]}

    dry = env.run(prune="dry-run")

    retention = dry.result["figures"]["retention"]  # type: ignore[index]
    assert set(retention["would_delete"]) == expected_gone
    assert retention["deleted"] == []
    assert len(env.files()) == 1 + 3 * 6 + 1  # nothing deleted
    assert checks(dry)["no leftover temp files off-site"]["status"] == "warn"
    reasons = {d["id"]: d["reason"] for d in retention["decisions"]}
    assert "floor" in reasons[ancient[2]]

    applied = env.run(prune="apply")

    assert applied.status is RunStatus.SUCCEEDED, applied
    retention = applied.result["figures"]["retention"]  # type: ignore[index]
    assert set(retention["deleted"]) == expected_gone
    left = {c.id for c in copies.scan(env.offsite).copies}
    assert left == {ancient[2], ancient[3], current}
    assert not leftover.exists()
    assert all(not p.exists() for gone in expected_gone for p in env.copy_of(gone).all)
    assert "deleted 3" in applied.summary
    assert row(applied)["status"] == "succeeded"


def test_off_site_pruning_never_deletes_or_follows_a_link(env: Env) -> None:
    """A temp-named link off-site (someone's shortcut, or an attack) is reported, and
    neither it nor what it points to is deleted: only the one deleter removes files."""
    current = recent_id(days_ago=2)
    make_backup(env.backups, current, size=10_000)
    assert env.run(backup=current, prune="no").status is RunStatus.SUCCEEDED
    precious = env.offsite / "notes.txt"
    precious.write_text("precious")
    link = temp.temp_path(env.offsite / "monthly" / f"{current}.dump.zst.enc")
    link.symlink_to(precious)

    out = env.run(prune="apply")

    assert link.is_symlink() and precious.read_text() == "precious"
    applied = checks(out)["off-site retention applied"]
    assert applied["status"] == "fail"
    assert any(link.name in e and "symbolic link" in e for e in applied["observed"])
    assert all(p.exists() for p in env.copy_of(current).all)


def test_a_damaged_manifest_copy_is_caught_too(env: Env) -> None:
    backup_id = recent_id()
    make_backup(env.backups, backup_id)
    assert env.run().status is RunStatus.SUCCEEDED
    enc = env.copy_of(backup_id).manifest
    enc.write_bytes(enc.read_bytes() + b"\n")

    out = env.run()

    assert out.status is RunStatus.FAILED
    assert "manifest copy" in checks(out)["existing off-site copy is intact"]["observed"]
    assert env.run().status is RunStatus.SUCCEEDED


def test_a_copy_made_with_a_retired_key_is_re_encrypted(env: Env) -> None:
    backup_id = recent_id()
    data = make_backup(env.backups, backup_id)
    assert env.run().status is RunStatus.SUCCEEDED
    old_key_id = json.loads(env.copy_of(backup_id).sidecar.read_text())["key_id"]
    new_key = os.urandom(32)
    env.key_file.write_bytes(new_key.hex().encode() + b"\n")

    out = env.run()

    assert out.status is RunStatus.SUCCEEDED, out  # a warning: the copy is good again
    rotated = checks(out)["existing off-site copy uses the current key"]
    assert rotated["status"] == "warn"
    assert old_key_id in rotated["observed"]
    assert out.result["figures"]["action"] == "re-encrypted"  # type: ignore[index]
    with env.copy_of(backup_id).dump.open("rb") as handle:
        sha, _ = crypto.decrypt_stream(handle, crypto.NullSink(), new_key)
    assert sha == hashlib.sha256(data).hexdigest()
