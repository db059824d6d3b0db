"""One backup copied off-site and proven: encrypted into the off-site root (the backup,
then its manifest), both read back and decrypted, the sidecar written last, and the copy
recorded in the local manifest. An intact copy already there is only read back."""

from __future__ import annotations

import io
from pathlib import Path

from maintenance import clock
from maintenance.backup import crypto, manifest
from maintenance.backup.inventory import Backup
from maintenance.backup.manifest import OffsiteReadback
from maintenance.backup.offsite import copies
from maintenance.backup.offsite.copies import CopyPaths, Sidecar
from maintenance.backup.offsite.readback import ReadBack, read_back
from maintenance.backup.offsite.state import OffsiteRun, rate
from maintenance.errors import BadInput
from maintenance.fs import atomic, delete, digest
from maintenance.fs.digest import HashingWriter


class _LocalMismatch(Exception):
    def __init__(self, sha: str, size: int) -> None:
        super().__init__(f"{size} bytes, SHA-256 {sha}")
        self.sha, self.size = sha, size


def copy_stage(state: OffsiteRun, backup: Backup) -> None:
    """Copy (or re-check) ``backup``; every step is a check of the run's result."""
    result = state.result
    state.figures["backup_id"] = backup.id
    verified = backup.verified
    result.check(
        "backup is verified",
        verified,
        observed=backup.problem or backup.status,
        expected="verified:full or verified:restore",
    )
    if not verified or backup.manifest is None:  # verified implies a manifest
        state.phrases.append(f"{backup.id} not copied: it is not verified ({backup.status})")
        return
    sha, size = str(backup.manifest.sha256), backup.manifest.size_bytes
    paths = copies.copy_paths(state.root, backup.id)
    state.figures["offsite_path"] = str(paths.dump.relative_to(state.root.resolve()))

    action = "copied"
    existing = _existing(paths)
    if existing is not None:
        check = _check_existing(state, paths, existing, sha, size)
        if check.passed:
            _already_there(state, backup, paths, existing, check)
            return
        if check.wrong_key:
            result.check(
                "existing off-site copy uses the current key",
                False,
                observed=f"key id {existing.key_id}",
                expected=f"key id {state.key_id}",
                warn_only=True,
                detail="re-encrypted with the current key",
            )
            action = "re-encrypted"
        else:
            result.check(
                "existing off-site copy is intact",
                False,
                observed=check.detail,
                expected="authentic, and decrypting to the manifest's SHA-256",
                detail="the damaged copy was replaced by a fresh one",
            )
            action = "replaced"
        # the sidecar describes the old ciphertext: it goes first, the copy is rewritten
        delete.delete(
            paths.sidecar,
            root=state.root,
            reason=f"it describes the old ciphertext of a copy being {action}",
            dry_run=False,
        )

    atomic.private_dir(copies.inside(state.root, paths.dump.parent))
    # under the backups lock, a temp file beside the copy is a dead run's
    stale = [
        d.path.name
        for path in paths.all
        for d in delete.remove_leftovers(path, root=state.root)
        if d.deleted
    ]
    if stale:
        state.figures["stale_temps_removed"] = stale
    manifest_bytes = backup.manifest_path.read_bytes()
    t0 = clock.monotonic()
    try:
        with backup.path.open("rb") as src, atomic.atomic_write(paths.dump) as out:
            writer = HashingWriter(out)
            got_sha, got_size = crypto.encrypt_stream(src, writer, state.key)
            if got_sha != sha or got_size != size:
                raise _LocalMismatch(got_sha, got_size)
    except _LocalMismatch as exc:
        result.check(
            "local backup still matches its manifest",
            False,
            observed=f"{exc.size} bytes, SHA-256 {exc.sha}",
            expected=f"{size} bytes, SHA-256 {sha}",
            detail="not copied: the backup file changed after it was verified",
        )
        state.phrases.append(f"{backup.id} not copied: its checksum no longer matches")
        return
    encrypt_s = clock.monotonic() - t0
    result.check("local backup still matches its manifest", True, observed=sha, expected=sha)
    manifest_writer = _encrypt_bytes(paths.manifest, manifest_bytes, state.key)

    dump_check = read_back(paths.dump, state.key, sha256=sha, size_bytes=size)
    manifest_sha = digest.of_bytes(manifest_bytes)
    manifest_check = read_back(
        paths.manifest, state.key, sha256=manifest_sha, size_bytes=len(manifest_bytes)
    )
    passed = dump_check.passed and manifest_check.passed
    at = state.now()
    readback = OffsiteReadback(
        passed=passed,
        at=at,
        run_id=state.ctx.run_id,
        detail=dump_check.detail
        if manifest_check.passed
        else f"{dump_check.detail}; manifest: {manifest_check.detail}",
        seconds=round(dump_check.seconds, 3),
    )
    source = backup.verification
    sidecar = Sidecar(
        format_version=copies.SIDECAR_VERSION,
        kind=copies.SIDECAR_KIND,
        id=backup.id,
        tier=backup.tier,
        created_at=backup.created_at,
        size_bytes=size,
        sha256=sha,
        manifest_sha256=manifest_sha,
        manifest_size_bytes=len(manifest_bytes),
        source_verification=copies.SourceVerification(
            level=source.level if source else None,
            passed=source.passed if source else None,
            at=source.at if source else None,
        ),
        encryption=copies.Encryption(format=crypto.FORMAT, chunk_bytes=crypto.CHUNK_SIZE),
        key_id=state.key_id,
        files=copies.CopyFiles(
            dump=copies.FileDigest(
                name=paths.dump.name, size_bytes=writer.bytes, sha256=writer.hexdigest()
            ),
            manifest=copies.FileDigest(
                name=paths.manifest.name,
                size_bytes=manifest_writer.bytes,
                sha256=manifest_writer.hexdigest(),
            ),
        ),
        copied_at=at,
        copied_by_run=state.ctx.run_id,
        readback=readback,
        readbacks=(readback,),
    )
    copies.write_sidecar(paths.sidecar, sidecar)

    result.check(
        "off-site copy reads back and matches",
        passed,
        observed=readback.detail,
        expected=f"{size} bytes with the manifest's SHA-256, authentic",
    )
    _record_local(state, backup, paths, action, sidecar)
    state.figures.update(
        {
            "action": action,
            "plain_bytes": size,
            "encrypted_bytes": writer.bytes,
            "encrypt_s": round(encrypt_s, 3),
            "encrypt_mb_s": rate(size, encrypt_s),
            "readback_s": round(dump_check.seconds, 3),
            "readback_mb_s": rate(size, dump_check.seconds),
        }
    )
    verdict = "read back OK" if passed else "READ-BACK FAILED"
    state.phrases.append(
        f"{backup.id} {action} off-site ({size / 1e6:.1f} MB at {rate(size, encrypt_s)} MB/s), "
        f"{verdict}"
    )


def _existing(paths: CopyPaths) -> Sidecar | None:
    """The sidecar of a copy already there (None: no copy, or an unusable sidecar)."""
    if not paths.dump.exists():
        return None
    try:
        return copies.read_sidecar(paths.sidecar)
    except BadInput:
        return None


def _check_existing(
    state: OffsiteRun, paths: CopyPaths, sidecar: Sidecar, sha: str, size: int
) -> ReadBack:
    """Read back an existing copy: the backup, then its encrypted manifest."""
    check = read_back(paths.dump, state.key, sha256=sha, size_bytes=size)
    if not check.passed:
        return check
    of_manifest = read_back(
        paths.manifest,
        state.key,
        sha256=sidecar.manifest_sha256,
        size_bytes=sidecar.manifest_size_bytes,
    )
    if of_manifest.passed:
        return check
    return ReadBack(
        False,
        f"{check.detail}; but the manifest copy: {of_manifest.detail}",
        check.seconds + of_manifest.seconds,
        check.bytes,
        wrong_key=of_manifest.wrong_key,
    )


def _already_there(
    state: OffsiteRun, backup: Backup, paths: CopyPaths, sidecar: Sidecar, check: ReadBack
) -> None:
    sidecar = sidecar.read_back(check.entry(state.now(), state.ctx.run_id))
    copies.write_sidecar(paths.sidecar, sidecar)
    state.result.check(
        "off-site copy reads back and matches",
        True,
        observed=check.detail,
        expected="authentic, and decrypting to the manifest's SHA-256",
    )
    _record_local(state, backup, paths, "already-present", sidecar)
    state.figures.update(
        {
            "action": "already-present",
            "plain_bytes": check.bytes,
            "encrypted_bytes": paths.dump.stat().st_size,
            "readback_s": round(check.seconds, 3),
            "readback_mb_s": rate(check.bytes, check.seconds),
        }
    )
    state.phrases.append(f"{backup.id} already off-site, read back OK")


def _encrypt_bytes(path: Path, data: bytes, key: bytes) -> HashingWriter:
    with atomic.atomic_write(path) as out:
        writer = HashingWriter(out)
        crypto.encrypt_stream(io.BytesIO(data), writer, key)
    return writer


def _record_local(
    state: OffsiteRun, backup: Backup, paths: CopyPaths, action: str, sidecar: Sidecar
) -> None:
    manifest.record_offsite(
        backup.manifest_path,
        manifest.OffsiteRecord(
            at=state.now(),
            run_id=state.ctx.run_id,
            action=action,
            offsite_root=str(state.root),
            path=str(paths.dump.relative_to(state.root.resolve())),
            encrypted_bytes=sidecar.files.dump.size_bytes,
            encrypted_sha256=sidecar.files.dump.sha256,
            format=crypto.FORMAT,
            key_id=sidecar.key_id,
            readback=sidecar.readback,
        ),
    )
