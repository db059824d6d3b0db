"""Typed manifests: files the pre-typed code wrote (tests/fixtures, made by backup.create,
verify, drill, archive, offsite and restore's forensic dump before the models existed)
read field for field, are rewritten byte for byte, and other format versions are refused
by name. BackupStatus keeps the strings ``maint backups list --json`` prints."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maintenance.backup import manifest
from maintenance.backup.inventory import Backup, BackupStatus
from maintenance.backup.layout import Tier
from maintenance.backup.offsite import copies
from maintenance.errors import BadInput

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MANIFEST = FIXTURES / "manifest-v1.json"
SIDECAR = FIXTURES / "offsite-sidecar-v1.json"
FORENSIC = FIXTURES / "forensic-record-v1.json"
ID = "monthly-20261201T195004Z"
DUMP_SHA = "b0dd75070417d610f8c7b717bc32b68c1c688b2c2c79db69fb92274a112188f6"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_manifest_written_before_the_models_reads_field_for_field() -> None:
    m = manifest.read(MANIFEST)
    assert m.format_version == 1
    assert m.id == ID and m.tier is Tier.MONTHLY
    assert m.file == f"{ID}.dump.zst"
    assert m.format == "pg_dump custom archive (-Fc -Z0) in a zstd frame with content checksum"
    assert m.compression == manifest.Compression(codec="zstd", level=3, threads=2)
    assert (m.size_bytes, m.dump_bytes, m.compression_ratio) == (146154, 763542, 5.224)
    assert m.sha256 == DUMP_SHA
    assert m.database == "maint_test_22264_38b4b9_target"
    assert m.database_size_bytes == 9723239
    assert (m.server_version, m.server_major()) == ("15.20", 15)
    assert m.client_version == "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    assert m.client_major() == 15
    assert m.started_at == at("2026-12-01T19:50:04.641455+00:00")
    assert m.finished_at == at("2026-12-01T19:50:04.735835+00:00")
    assert (m.duration_s, m.dump_duration_s) == (0.094, 0.058)
    tables = {
        "public.assignments": 2545,
        "public.blocks": 730,
        "public.persons": 5,
        "public.rotations": 30,
        "public.schedules": 13,
        "public.swaps": 13,
    }
    assert m.tables == tuple(tables)
    assert m.counts.tables == tables
    assert m.counts.stats == {
        "assignments": 2545,
        "blocks": 730,
        "faculty": 1,
        "persons": 5,
        "residents": 4,
        "rotations": 30,
        "schedules": 13,
    }
    assert m.objects == {"constraints": 28, "indexes": 18, "sequences": 6, "views": 0}
    assert m.expires_at == at("2027-12-01T19:50:04.641455+00:00")
    assert m.created_by_run == 1

    restore, full = m.verifications
    assert (restore.level, restore.passed, restore.run_id, restore.detail) == (
        "restore",
        True,
        1,
        "",
    )
    assert restore.at == at("2026-12-01T19:50:05.377869+00:00")
    assert restore.figures == {
        "backup": ID,
        "checksum_s": 0.0,
        "decoded_bytes": 763542,
        "decoded_rows": 3336,
        "full_s": 0.033,
        "level": "restore",
        "restore_s": 0.606,
    }
    assert (full.level, full.passed, full.run_id) == ("full", True, 2)
    assert full.at == at("2026-12-01T19:50:05.421758+00:00")
    assert full.figures is not None and full.figures["full_s"] == 0.022
    assert m.verification == full
    assert m.proven_level() == "restore"  # Sunday's restore still stands after a full

    (drill,) = m.drills
    assert drill == manifest.Drill(
        at=at("2026-12-01T19:50:05.456036+00:00"),
        passed=True,
        purpose="monthly",
        run_id=3,
        rto_s=0.825,
        rpo_s=1.5,
        load_s=0.336,
        method="pg_restore single stream",
    )

    (archived,) = m.archives
    assert (archived.action, archived.path, archived.run_id) == (
        "archived",
        f"archive/{ID}.tar",
        4,
    )
    assert archived.at == at("2026-12-01T19:50:06.298336+00:00")
    assert archived.size_bytes == 153600
    assert archived.sha256 == "2029f6cc603e69b224cfe97c213ee2d512ea42da1847d4c28811f1830fe2e1d8"
    assert archived.members == {
        f"{ID}.dump.zst": manifest.MemberDigest(size_bytes=146154, sha256=DUMP_SHA),
        f"{ID}.manifest.json": manifest.MemberDigest(
            size_bytes=2885,
            sha256="591fd513e21d6a25d97fceddbadc66cca7a61fcbdf129e450792117ff29ccc11",
        ),
    }
    assert archived.readback == manifest.ArchiveReadback(passed=True, problems=())

    (copied,) = m.offsite
    assert (copied.action, copied.run_id, copied.format, copied.key_id) == (
        "copied",
        5,
        "maint-aes256gcm-stream-v1",
        "35ac6842030168d6",
    )
    assert copied.at == at("2026-12-01T19:50:06.320110+00:00")
    assert copied.offsite_root == "/tmp/pytest-of-root/pytest-83/test_gen0/off"
    assert copied.path == f"monthly/{ID}.dump.zst.enc"
    assert copied.encrypted_bytes == 146222
    assert copied.encrypted_sha256 == (
        "ee83065bf455ffbf7521d218a1aca93b4b8d85f9bd09f666d94b05c8dd956af1"
    )
    assert copied.readback == manifest.OffsiteReadback(
        passed=True,
        at=at("2026-12-01T19:50:06.319307+00:00"),
        run_id=5,
        detail="146154 bytes decrypted, SHA-256 matches",
        seconds=0.001,
    )
    assert m.model_extra == {}  # nothing in the old format that the model does not know


def test_a_manifest_is_rewritten_byte_for_byte(tmp_path: Path) -> None:
    copy = tmp_path / MANIFEST.name
    manifest.write(copy, manifest.read(MANIFEST))
    assert copy.read_bytes() == MANIFEST.read_bytes()
    assert manifest.read_document(MANIFEST) == json.loads(MANIFEST.read_text())


def test_an_update_keeps_fields_it_does_not_know(tmp_path: Path) -> None:
    copy = tmp_path / MANIFEST.name
    doc = json.loads(MANIFEST.read_text()) | {"operator_note": {"by": "night shift"}}
    copy.write_text(json.dumps(doc))
    when = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    manifest.record_verification(copy, level="checksum", passed=True, at=when, run_id=9)
    after = json.loads(copy.read_text())
    assert after["operator_note"] == {"by": "night shift"}
    assert after["verification"] == {
        "at": "2026-12-02T03:00:00+00:00",
        "detail": "",
        "level": "checksum",
        "passed": True,
        "run_id": 9,
    }
    assert after["verifications"][:-1] == doc["verifications"]
    assert {k: v for k, v in after.items() if not k.startswith("verification")} == {
        k: v for k, v in doc.items() if not k.startswith("verification")
    }


def test_a_manifest_without_a_version_is_version_1(tmp_path: Path) -> None:
    doc = json.loads(MANIFEST.read_text())
    del doc["format_version"]
    path = tmp_path / "old.manifest.json"
    path.write_text(json.dumps(doc))
    m = manifest.read(path)
    assert m.format_version == 1 and m.id == ID
    manifest.write(path, m)
    assert json.loads(path.read_text())["format_version"] == 1  # written from now on


@pytest.mark.parametrize("version", [2, 0])
def test_another_format_version_is_refused_by_name(tmp_path: Path, version: int) -> None:
    path = tmp_path / "new.manifest.json"
    path.write_text(json.dumps(json.loads(MANIFEST.read_text()) | {"format_version": version}))
    with pytest.raises(BadInput) as caught:
        manifest.read(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"format_version {version} is not one this maint reads (it reads 1)" in message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{", "Invalid JSON"),
        ("[]", "Input should be an object"),
        ('{"id": "x", "tier": "daily"}', "size_bytes: Field required"),
        ('{"id": "x", "tier": "hourly", "size_bytes": 1}', "tier: Input should be"),
    ],
)
def test_a_bad_manifest_is_bad_input_that_says_what_is_wrong(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "bad.manifest.json"
    path.write_text(text)
    with pytest.raises(BadInput, match=why):
        manifest.read(path)
    assert path.read_text() == text  # reading changes nothing


def test_an_off_site_sidecar_written_before_the_models_reads_field_for_field(
    tmp_path: Path,
) -> None:
    s = copies.read_sidecar(SIDECAR)
    assert (s.format_version, s.kind, s.id, s.tier) == (1, "maint-offsite-copy", ID, Tier.MONTHLY)
    assert s.created_at == at("2026-12-01T19:50:04+00:00")
    assert (s.size_bytes, s.sha256) == (146154, DUMP_SHA)
    assert s.manifest_sha256 == "686fae00ed0a876b52ee5a8a87567c4c0e51992ddb2784dbb51ea7cfdf80b8af"
    assert s.manifest_size_bytes == 3638
    assert s.source_verification == copies.SourceVerification(
        level="full", passed=True, at=at("2026-12-01T19:50:05.421758+00:00")
    )
    assert s.encryption == copies.Encryption(
        format="maint-aes256gcm-stream-v1", chunk_bytes=1 << 20
    )
    assert s.key_id == "35ac6842030168d6"
    assert s.files.dump == copies.FileDigest(
        name=f"{ID}.dump.zst.enc",
        size_bytes=146222,
        sha256="ee83065bf455ffbf7521d218a1aca93b4b8d85f9bd09f666d94b05c8dd956af1",
    )
    assert s.files.manifest == copies.FileDigest(
        name=f"{ID}.manifest.json.enc",
        size_bytes=3706,
        sha256="c20b87560510662929824d5bdb1817d0ee789a6b63812ee03510733de69f76ed",
    )
    assert (s.copied_at, s.copied_by_run) == (at("2026-12-01T19:50:06.319307+00:00"), 5)
    assert s.readback.passed and s.readback.run_id == 5 and s.readback.seconds == 0.001
    assert s.readbacks == (s.readback,)
    assert s.model_extra == {}

    copy = tmp_path / SIDECAR.name
    copies.write_sidecar(copy, s)
    assert copy.read_bytes() == SIDECAR.read_bytes()
    # the sha256 ``maint backups decrypt`` checks against, read through the model
    shutil.copy(SIDECAR, tmp_path / f"{ID}.offsite.json")
    assert copies.expected_sha256(tmp_path / f"{ID}.dump.zst.enc") == DUMP_SHA
    assert copies.expected_sha256(tmp_path / f"{ID}.manifest.json.enc") == s.manifest_sha256


def test_a_sidecar_of_another_version_or_kind_is_refused(tmp_path: Path) -> None:
    doc = json.loads(SIDECAR.read_text())
    path = tmp_path / f"{ID}.offsite.json"
    path.write_text(json.dumps(doc | {"format_version": 3}))
    with pytest.raises(BadInput, match="format_version 3 is not one this maint reads"):
        copies.read_sidecar(path)
    assert copies.expected_sha256(tmp_path / f"{ID}.dump.zst.enc") is None
    path.write_text(json.dumps(doc | {"kind": "something-else"}))
    with pytest.raises(BadInput, match="kind"):
        copies.read_sidecar(path)


def test_a_forensic_record_without_a_version_reads_field_for_field(tmp_path: Path) -> None:
    r = manifest.read_forensic(FORENSIC)
    assert r.format_version == 1  # the old record has no version field
    assert r.database == "maint_test_22264_38b4b9_target"
    assert r.file == "maint_test_22264_38b4b9_target-20261201T195006Z.dump.zst"
    assert (r.size_bytes, r.restore_run_id, r.server_version) == (146156, 7, "15.20")
    assert r.sha256 == "8d6fbb1060190f4aaf2f80cc3ecbb00b789a0d4dcc6b3bfbbc0ed297b409ad37"
    assert r.created_at == at("2026-12-01T19:50:06.332186+00:00")
    copy = tmp_path / FORENSIC.name
    manifest.write(copy, r)
    assert json.loads(copy.read_text()) == json.loads(FORENSIC.read_text()) | {"format_version": 1}


# --- BackupStatus ------------------------------------------------------------------------


def _backup(
    m: manifest.Manifest | None, *, size: int = 146154, problem: str | None = None
) -> Backup:
    return Backup(
        ID, Tier.MONTHLY, at("2026-12-01T19:50:04+00:00"), Path("d"), Path("m"), size, m, problem
    )


def test_backup_status_is_one_enum_stored_by_the_strings_it_always_printed() -> None:
    assert sorted(s.value for s in BackupStatus) == sorted(
        [
            "broken",
            "changed: size differs from the manifest",
            "unverified",
            "failed:checksum",
            "failed:full",
            "failed:restore",
            "verified:checksum",
            "verified:full",
            "verified:restore",
        ]
    )
    m = manifest.read(MANIFEST)
    assert _backup(m).status is BackupStatus.VERIFIED_RESTORE and _backup(m).verified
    assert json.dumps({"status": _backup(m).status}) == '{"status": "verified:restore"}'
    assert _backup(m, size=1).status is BackupStatus.CHANGED and not _backup(m, size=1).verified
    assert _backup(None, problem="no manifest").status is BackupStatus.BROKEN
    bare = m.model_copy(update={"verification": None, "verifications": ()})
    assert _backup(bare).status is BackupStatus.UNVERIFIED
    failed = manifest.Verification(level="full", passed=False, at=at("2026-12-02T00:00:00+00:00"))
    broke = m.model_copy(
        update={"verification": failed, "verifications": (*m.verifications, failed)}
    )
    assert _backup(broke).status is BackupStatus.FAILED_FULL and not _backup(broke).verified
    assert BackupStatus.FAILED_FULL.word == "failed"
