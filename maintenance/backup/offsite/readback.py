"""Reading an off-site copy back: decrypt it in memory, compare with what it must be;
and the ``recheck`` stage, which does that for every other copy."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from maintenance import clock
from maintenance.backup import crypto
from maintenance.backup.manifest import OffsiteReadback
from maintenance.backup.offsite import copies
from maintenance.backup.offsite.state import OffsiteRun


@dataclass(frozen=True)
class ReadBack:
    passed: bool
    detail: str
    seconds: float
    bytes: int
    wrong_key: bool = False

    def entry(self, at: datetime, run_id: int | None) -> OffsiteReadback:
        return OffsiteReadback(
            passed=self.passed,
            at=at,
            run_id=run_id,
            detail=self.detail,
            seconds=round(self.seconds, 3),
        )


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


def recheck_stage(state: OffsiteRun, skip: str | None) -> None:
    """Read back every complete copy but ``skip`` (a full read), and record each."""
    inv = copies.scan(state.root)
    failures: list[str] = []
    checked = 0
    for copy in inv.copies:
        if copy.id == skip or copy.sidecar is None or copy.problem:
            continue
        check = read_back(
            copy.paths.dump,
            state.key,
            sha256=copy.sidecar.sha256,
            size_bytes=copy.sidecar.size_bytes,
        )
        checked += 1
        entry = check.entry(state.now(), state.ctx.run_id)
        copies.write_sidecar(copy.paths.sidecar, copy.sidecar.read_back(entry))
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
