"""``backup.offsite``: an encrypted copy of a verified backup in a second location, read
back and checked, with two-year retention under the same floor rules (docs/offsite.md).

``OFFSITE_ROOT/<tier>/`` holds, per backup id:

* ``<id>.dump.zst.enc``: the backup file, AES-256-GCM stream (:mod:`.crypto`);
* ``<id>.manifest.json.enc``: its full manifest as it was when copied, encrypted the
  same way (manifests may grow fields nobody reviewed for the outside world);
* ``<id>.offsite.json``: a plain sidecar holding only what retention and checks need
  (id, tier, plaintext size and SHA-256, ciphertext size and SHA-256, key id, the last
  read-back). Written last: a copy without it is incomplete.

Every path under the off-site root is built from a validated id and checked to resolve
inside it. The root itself is never created: a missing root is an unmounted share, and
writing there would fill the local disk with a "second location" on the same machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field

from maintenance import clock
from maintenance.backup import crypto, inventory, layout, manifest, policy
from maintenance.backup.inventory import Backup
from maintenance.backup.layout import Tier
from maintenance.errors import BadInput, MaintenanceError, RunSkipped, ServiceUnavailable
from maintenance.fs import atomic, delete, digest, temp
from maintenance.fs.digest import HashingWriter
from maintenance.logs_setup import get_logger
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext

log = get_logger("maint.backup.offsite")

ENC_SUFFIX = layout.DUMP_SUFFIX + ".enc"
MANIFEST_ENC_SUFFIX = layout.MANIFEST_SUFFIX + ".enc"
SIDECAR_SUFFIX = ".offsite.json"
SIDECAR_KIND = "maint-offsite-copy"
SIDECAR_VERSION = 1
_KEEP_READBACKS = 20


class OffsiteParams(Params):
    backup: layout.BackupRef = Field(
        "latest",
        description="Backup id to copy, or 'latest': the newest verified backup of `tier`.",
    )
    tier: Tier = Field(
        Tier.MONTHLY, description="Tier 'latest' picks from (the playbook copies monthly)."
    )
    prune: Literal["no", "dry-run", "apply"] = Field(
        "dry-run",
        description="Off-site retention: 'no' skips it, 'dry-run' reports, 'apply' deletes.",
    )
    recheck: bool = Field(
        False, description="Also read back and check every other off-site copy (a full read)."
    )


# --- where copies live --------------------------------------------------------------------


@dataclass(frozen=True)
class CopyPaths:
    dump: Path
    manifest: Path
    sidecar: Path

    @property
    def all(self) -> tuple[Path, Path, Path]:
        return (self.dump, self.manifest, self.sidecar)


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved, if it lies inside the off-site ``root``; BadInput otherwise."""
    try:
        return layout.inside(root, path)
    except BadInput:
        raise BadInput(f"{path} is outside the off-site root {root}: refused") from None


def copy_paths(root: Path, backup_id: str) -> CopyPaths:
    tier, _ = layout.parse_id(backup_id)
    folder = root / tier.value
    return CopyPaths(
        dump=inside(root, folder / f"{backup_id}{ENC_SUFFIX}"),
        manifest=inside(root, folder / f"{backup_id}{MANIFEST_ENC_SUFFIX}"),
        sidecar=inside(root, folder / f"{backup_id}{SIDECAR_SUFFIX}"),
    )


def expected_sha256(src: Path) -> str | None:
    """The plaintext SHA-256 that the sidecar beside an off-site file records for it
    (``maint backups decrypt`` checks it), or None when there is no usable sidecar."""
    for suffix, key in ((ENC_SUFFIX, "sha256"), (MANIFEST_ENC_SUFFIX, "manifest_sha256")):
        if src.name.endswith(suffix):
            sidecar = src.with_name(src.name.removesuffix(suffix) + SIDECAR_SUFFIX)
            data = _read_sidecar(sidecar)
            value = (data or {}).get(key)
            return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True)
class OffsiteCopy:
    """One backup's copy as found in the off-site root."""

    id: str
    tier: Tier
    created_at: datetime
    paths: CopyPaths
    size_bytes: int  # of the encrypted dump
    sidecar: dict[str, Any] | None
    problem: str | None = None

    @property
    def verified(self) -> bool:
        """Counts toward the retention floor: complete, and its last read-back passed."""
        readback = (self.sidecar or {}).get("readback") or {}
        return self.problem is None and readback.get("passed") is True


@dataclass
class OffsiteInventory:
    copies: list[OffsiteCopy]
    temp_files: list[Path]
    stray_files: list[Path]


def scan(root: Path) -> OffsiteInventory:
    """Every copy under ``root``, oldest first, with leftovers of crashed runs."""
    inv = OffsiteInventory([], [], [])
    for tier in Tier:
        folder = root / tier.value
        if not folder.is_dir():
            continue
        ids: set[str] = set()
        for entry in sorted(folder.iterdir()):
            name = entry.name
            if temp.is_temp(entry):
                inv.temp_files.append(entry)
                continue
            for suffix in (ENC_SUFFIX, MANIFEST_ENC_SUFFIX, SIDECAR_SUFFIX):
                if name.endswith(suffix):
                    ids.add(name.removesuffix(suffix))
                    break
            else:
                inv.stray_files.append(entry)
        for backup_id in sorted(ids):
            try:
                id_tier, created = layout.parse_id(backup_id)
            except BadInput:
                inv.stray_files.extend(p for p in folder.glob(f"{backup_id}.*") if p.is_file())
                continue
            if id_tier is not tier:  # not where this suite puts it: not ours to judge
                inv.stray_files.extend(p for p in folder.glob(f"{backup_id}.*") if p.is_file())
                continue
            paths = copy_paths(root, backup_id)
            sidecar = _read_sidecar(paths.sidecar)
            problem = None
            if not paths.dump.exists():
                problem = "sidecar without its encrypted backup"
            elif sidecar is None:
                problem = "encrypted backup without a readable sidecar (an interrupted copy)"
            size = paths.dump.stat().st_size if paths.dump.exists() else 0
            inv.copies.append(
                OffsiteCopy(backup_id, id_tier, created, paths, size, sidecar, problem)
            )
    inv.copies.sort(key=lambda c: c.created_at)
    return inv


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") != SIDECAR_KIND:
        return None
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic.write_bytes(path, json.dumps(data, indent=2, sort_keys=True).encode() + b"\n")


# --- read-back ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadBack:
    passed: bool
    detail: str
    seconds: float
    bytes: int
    wrong_key: bool = False

    def entry(self, at: datetime, run_id: int | None) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "at": at.isoformat(),
            "run_id": run_id,
            "detail": self.detail,
            "seconds": round(self.seconds, 3),
        }


def read_back(path: Path, key: bytes, *, sha256: str, size_bytes: int) -> ReadBack:
    """Read ``path`` from the off-site location, decrypt it in memory (no plaintext is
    written anywhere) and compare with the expected plaintext size and SHA-256."""
    t0 = clock.monotonic()
    try:
        with path.open("rb") as handle:
            _drop_cache(handle)
            sha, size = crypto.decrypt_stream(handle, crypto.NullSink(), key)
    except crypto.WrongKeyError as exc:
        return ReadBack(False, str(exc), clock.monotonic() - t0, 0, wrong_key=True)
    except crypto.DecryptError as exc:
        return ReadBack(False, str(exc), clock.monotonic() - t0, 0)
    except OSError as exc:
        return ReadBack(False, f"cannot read {path}: {exc.strerror}", clock.monotonic() - t0, 0)
    seconds = clock.monotonic() - t0
    if sha != sha256 or size != size_bytes:
        return ReadBack(
            False,
            f"decrypts to {size} bytes with SHA-256 {sha}; expected {size_bytes} bytes with "
            f"SHA-256 {sha256}",
            seconds,
            size,
        )
    return ReadBack(True, f"{size} bytes decrypted, SHA-256 matches", seconds, size)


def _drop_cache(handle: IO[bytes]) -> None:
    """Ask the kernel to forget cached pages so the read-back reads the storage, not the
    copy still in memory (best effort: some network filesystems ignore it)."""
    with contextlib.suppress(AttributeError, OSError):
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


# --- the task -----------------------------------------------------------------------------


class _LocalMismatch(Exception):
    def __init__(self, sha: str, size: int) -> None:
        super().__init__(f"{size} bytes, SHA-256 {sha}")
        self.sha, self.size = sha, size


@dataclass
class _Run:
    ctx: RunContext
    root: Path
    key: bytes = field(repr=False)  # never in a repr, a log line or a traceback's text
    key_id: str
    result: Result
    figures: dict[str, Any]
    phrases: list[str]

    def now(self) -> datetime:
        return clock.now()


def run(ctx: RunContext, params: OffsiteParams) -> Result:
    """Copy a verified backup off-site, encrypted; read it back; apply off-site retention."""
    settings = ctx.settings
    if settings.offsite_root is None:
        raise RunSkipped(
            "off-site copies are not configured: set MAINT_OFFSITE_ROOT (a mounted second "
            "location) and MAINT_OFFSITE_KEY_FILE (docs/offsite.md)"
        )
    if settings.offsite_key_file is None:
        raise RunSkipped(
            "off-site copies are not configured: MAINT_OFFSITE_ROOT is set but "
            "MAINT_OFFSITE_KEY_FILE is not (docs/offsite.md)"
        )
    if params.backup != "latest":
        layout.parse_id(params.backup)  # also when Params were built without validation
    root = settings.offsite_root
    if not root.is_dir():
        raise ServiceUnavailable(
            f"MAINT_OFFSITE_ROOT {root} does not exist or is not a folder: is the off-site "
            "location mounted? (it is never created, so that an unmounted share is not "
            "silently replaced by a folder on the local disk)"
        )
    key = crypto.load_key(settings.offsite_key_file)
    state = _Run(ctx, root, key, crypto.key_id(key), Result(), {}, [])
    state.figures.update({"offsite_root": str(root), "key_id": state.key_id})

    _check_separate_filesystem(state, settings.backup_root)
    handled = _copy_stage(state, params)
    if params.recheck:
        _recheck_stage(state, skip=handled)
    if params.prune != "no":
        _prune_stage(state, params.prune == "apply")

    state.result.figures = state.figures
    state.result.summary = "; ".join(state.phrases)
    return state.result


def _check_separate_filesystem(state: _Run, backup_root: Path) -> None:
    try:
        same = os.stat(state.root).st_dev == os.stat(backup_root).st_dev
    except OSError:
        return
    state.result.check(
        "off-site location is another filesystem",
        not same,
        observed="same filesystem as MAINT_BACKUP_ROOT" if same else "another filesystem",
        expected="a separate mount (NFS, SMB, object store)",
        warn_only=True,
    )


def _pick(state: _Run, params: OffsiteParams) -> Backup | None:
    inv = inventory.scan(state.ctx.settings.backup_root)
    if params.backup != "latest":
        return inv.get(params.backup)
    backup = inv.latest(params.tier, verified=True)
    state.result.check(
        f"a verified {params.tier.value} backup to copy",
        backup is not None,
        observed=backup.id if backup else f"none in {state.ctx.settings.backup_root}",
        expected=f"the newest verified {params.tier.value} backup",
    )
    if backup is None:
        state.phrases.append(f"no verified {params.tier.value} backup to copy off-site")
    return backup


def _copy_stage(state: _Run, params: OffsiteParams) -> str | None:
    """Copy (or re-check) one backup; return its id if it was handled."""
    backup = _pick(state, params)
    if backup is None:
        return None
    result = state.result
    state.figures["backup_id"] = backup.id
    verified = backup.verified
    result.check(
        "backup is verified",
        verified,
        observed=backup.problem or backup.status,
        expected="verified:full or verified:restore",
    )
    if not verified:
        state.phrases.append(f"{backup.id} not copied: it is not verified ({backup.status})")
        return backup.id
    assert backup.manifest is not None  # verified implies a manifest
    sha, size = str(backup.manifest["sha256"]), int(backup.manifest["size_bytes"])
    paths = copy_paths(state.root, backup.id)
    state.figures["offsite_path"] = str(paths.dump.relative_to(state.root.resolve()))

    action = "copied"
    existing = _read_sidecar(paths.sidecar) if paths.dump.exists() else None
    if existing is not None:
        check = _check_existing(state, paths, existing, sha, size)
        if check.passed:
            _already_there(state, backup, paths, existing, check)
            return backup.id
        if check.wrong_key:
            result.check(
                "existing off-site copy uses the current key",
                False,
                observed=f"key id {existing.get('key_id')}",
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
            reason=f"it describes the {action} copy's old ciphertext",
            dry_run=False,
        )

    atomic.private_dir(inside(state.root, paths.dump.parent))
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
        return backup.id
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
    readback = dump_check.entry(at, state.ctx.run_id)
    readback["passed"] = passed
    if not manifest_check.passed:
        readback["detail"] = f"{dump_check.detail}; manifest: {manifest_check.detail}"
    sidecar = {
        "format_version": SIDECAR_VERSION,
        "kind": SIDECAR_KIND,
        "id": backup.id,
        "tier": backup.tier.value,
        "created_at": backup.created_at.isoformat(),
        "size_bytes": size,
        "sha256": sha,
        "manifest_sha256": manifest_sha,
        "manifest_size_bytes": len(manifest_bytes),
        "source_verification": {
            k: (backup.verification or {}).get(k) for k in ("level", "passed", "at")
        },
        "encryption": {"format": crypto.FORMAT, "chunk_bytes": crypto.CHUNK_SIZE},
        "key_id": state.key_id,
        "files": {
            "dump": {
                "name": paths.dump.name,
                "size_bytes": writer.bytes,
                "sha256": writer.hexdigest(),
            },
            "manifest": {
                "name": paths.manifest.name,
                "size_bytes": manifest_writer.bytes,
                "sha256": manifest_writer.hexdigest(),
            },
        },
        "copied_at": at.isoformat(),
        "copied_by_run": state.ctx.run_id,
        "readback": readback,
        "readbacks": [readback],
    }
    _write_json(paths.sidecar, sidecar)

    result.check(
        "off-site copy reads back and matches",
        passed,
        observed=readback["detail"],
        expected=f"{size} bytes with the manifest's SHA-256, authentic",
    )
    _record_local(state, backup, paths, action, sidecar)
    mb = size / 1e6
    state.figures.update(
        {
            "action": action,
            "plain_bytes": size,
            "encrypted_bytes": writer.bytes,
            "encrypt_s": round(encrypt_s, 3),
            "encrypt_mb_s": _rate(size, encrypt_s),
            "readback_s": round(dump_check.seconds, 3),
            "readback_mb_s": _rate(size, dump_check.seconds),
        }
    )
    verdict = "read back OK" if passed else "READ-BACK FAILED"
    state.phrases.append(
        f"{backup.id} {action} off-site ({mb:.1f} MB at {_rate(size, encrypt_s)} MB/s), {verdict}"
    )
    return backup.id


def _check_existing(
    state: _Run, paths: CopyPaths, sidecar: dict[str, Any], sha: str, size: int
) -> ReadBack:
    """Read back an existing copy: the backup, then its encrypted manifest."""
    check = read_back(paths.dump, state.key, sha256=sha, size_bytes=size)
    if not check.passed:
        return check
    of_manifest = read_back(
        paths.manifest,
        state.key,
        sha256=str(sidecar.get("manifest_sha256")),
        size_bytes=int(sidecar.get("manifest_size_bytes", -1)),
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
    state: _Run, backup: Backup, paths: CopyPaths, sidecar: dict[str, Any], check: ReadBack
) -> None:
    entry = check.entry(state.now(), state.ctx.run_id)
    sidecar["readback"] = entry
    sidecar["readbacks"] = [*sidecar.get("readbacks", []), entry][-_KEEP_READBACKS:]
    _write_json(paths.sidecar, sidecar)
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
            "readback_mb_s": _rate(check.bytes, check.seconds),
        }
    )
    state.phrases.append(f"{backup.id} already off-site, read back OK")


def _encrypt_bytes(path: Path, data: bytes, key: bytes) -> HashingWriter:
    with atomic.atomic_write(path) as out:
        writer = HashingWriter(out)
        crypto.encrypt_stream(io.BytesIO(data), writer, key)
    return writer


def _record_local(
    state: _Run, backup: Backup, paths: CopyPaths, action: str, sidecar: dict[str, Any]
) -> None:
    entry = {
        "at": state.now().isoformat(),
        "run_id": state.ctx.run_id,
        "action": action,
        "offsite_root": str(state.root),
        "path": str(paths.dump.relative_to(state.root.resolve())),
        "encrypted_bytes": sidecar["files"]["dump"]["size_bytes"],
        "encrypted_sha256": sidecar["files"]["dump"]["sha256"],
        "format": crypto.FORMAT,
        "key_id": sidecar.get("key_id"),
        "readback": sidecar["readback"],
    }
    manifest.record(backup.manifest_path, "offsite", entry)


def _recheck_stage(state: _Run, skip: str | None) -> None:
    inv = scan(state.root)
    failures: list[str] = []
    checked = 0
    for copy in inv.copies:
        if copy.id == skip or copy.sidecar is None or copy.problem:
            continue
        sidecar = dict(copy.sidecar)
        check = read_back(
            copy.paths.dump,
            state.key,
            sha256=str(sidecar.get("sha256")),
            size_bytes=int(sidecar.get("size_bytes", -1)),
        )
        checked += 1
        entry = check.entry(state.now(), state.ctx.run_id)
        sidecar["readback"] = entry
        sidecar["readbacks"] = [*sidecar.get("readbacks", []), entry][-_KEEP_READBACKS:]
        _write_json(copy.paths.sidecar, sidecar)
        if not check.passed:
            failures.append(f"{copy.id}: {check.detail}")
    state.result.check(
        "every other off-site copy reads back",
        not failures,
        observed=failures or f"{checked} checked",
        expected="all authentic and matching their recorded SHA-256",
    )
    state.figures["rechecked"] = checked
    state.phrases.append(
        f"rechecked {checked} other copies" + (f", {len(failures)} FAILED" if failures else "")
    )


def _prune_stage(state: _Run, apply: bool) -> None:
    settings = state.ctx.settings
    inv = scan(state.root)
    rules = policy.Policy(
        max_age={t.value: timedelta(days=settings.offsite_retention_days) for t in Tier},
        min_verified=settings.retention_min_verified,
    )
    candidates = [
        policy.Candidate(c.id, c.tier.value, c.created_at, c.verified, c.size_bytes)
        for c in inv.copies
    ]
    decisions = policy.decide(candidates, rules, state.now())
    by_id = {c.id: c for c in inv.copies}
    doomed = [d for d in decisions if not d.keep]
    deleted: list[str] = []
    errors: list[str] = []
    for d in doomed:
        try:
            # the sidecar last: a copy cut short by a crash stays visible as incomplete
            delete.delete_group(
                by_id[d.id].paths.all, root=state.root, reason=d.reason, dry_run=not apply
            )
        except (MaintenanceError, OSError) as exc:
            errors.append(f"{d.id}: {exc}")
            continue
        if apply:
            deleted.append(d.id)
    for tmp in inv.temp_files if apply else []:  # under the backups lock: no writer is live
        try:
            delete.delete(
                tmp, root=state.root, reason="left by an interrupted copy", dry_run=False
            )
        except (MaintenanceError, OSError) as exc:
            errors.append(f"{tmp.name}: {exc}")
    freed = sum(d.size_bytes for d in doomed if d.id in deleted)
    kept_verified: dict[str, int] = {}
    for d in decisions:
        if d.keep and by_id[d.id].verified:
            kept_verified[d.tier] = kept_verified.get(d.tier, 0) + 1
    state.figures["retention"] = {
        "mode": "apply" if apply else "dry-run",
        "max_age_days": settings.offsite_retention_days,
        "min_verified": settings.retention_min_verified,
        "copies": len(decisions),
        "kept": len(decisions) - len(doomed),
        "verified_kept_by_tier": kept_verified,
        "deleted": deleted,
        "would_delete": [] if apply else [d.id for d in doomed],
        "freed_bytes": freed if apply else 0,
        "would_free_bytes": 0 if apply else sum(d.size_bytes for d in doomed),
        "temp_files": [p.name for p in inv.temp_files],
        "stray_files": [p.name for p in inv.stray_files],
        "decisions": [{"id": d.id, "keep": d.keep, "reason": d.reason} for d in decisions],
    }
    if apply:
        state.result.check(
            "off-site retention applied",
            not errors,
            observed=errors or f"{len(deleted)} deleted",
            expected="every expired copy deleted",
        )
    incomplete = [f"{c.id}: {c.problem}" for c in inv.copies if c.problem]
    state.result.check(
        "every off-site copy is complete",
        not incomplete,
        observed=incomplete or f"{len(inv.copies)} complete",
        expected="an encrypted backup with its sidecar",
        warn_only=True,
    )
    state.result.check(
        "no leftover temp files off-site",
        not inv.temp_files or apply,
        observed=[p.name for p in inv.temp_files],
        expected="none (left by interrupted copies; prune=apply removes them)",
        warn_only=True,
    )
    verb = "deleted" if apply else "would delete"
    state.phrases.append(
        f"off-site retention ({'apply' if apply else 'dry-run'}): "
        f"{len(decisions) - len(doomed)} kept, {verb} {len(doomed)}"
    )
    if doomed:
        log.info(
            "offsite.retention",
            mode="apply" if apply else "dry-run",
            ids=[d.id for d in doomed],
        )


def _rate(size: int, seconds: float) -> float:
    return round(size / 1e6 / seconds, 1) if seconds > 0 else 0.0
