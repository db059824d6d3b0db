"""``backup.offsite``, stage by stage: pick a verified backup, copy it (or re-check the
copy already there), optionally read back every other copy, then off-site retention."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from maintenance.backup import crypto, inventory, layout
from maintenance.backup.inventory import Backup
from maintenance.backup.layout import Tier
from maintenance.backup.offsite.copying import copy_stage
from maintenance.backup.offsite.prune import prune_stage
from maintenance.backup.offsite.readback import recheck_stage
from maintenance.backup.offsite.state import OffsiteRun
from maintenance.errors import RunSkipped, ServiceUnavailable
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext


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
    state = OffsiteRun(ctx, root, key, crypto.key_id(key))
    state.figures.update({"offsite_root": str(root), "key_id": state.key_id})

    _check_separate_filesystem(state, settings.backup_root)
    backup = _pick(state, params)
    if backup is not None:
        copy_stage(state, backup)
    if params.recheck:
        recheck_stage(state, skip=backup.id if backup else None)
    if params.prune != "no":
        prune_stage(state, params.prune == "apply")

    state.result.figures = state.figures
    state.result.summary = "; ".join(state.phrases)
    return state.result


def _check_separate_filesystem(state: OffsiteRun, backup_root: Path) -> None:
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


def _pick(state: OffsiteRun, params: OffsiteParams) -> Backup | None:
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
