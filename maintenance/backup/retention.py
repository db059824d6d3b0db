"""``backup.retention``: what to keep and what to delete in BACKUP_ROOT, with a reason.

:func:`plan` reads the backup root (:func:`~maintenance.backup.inventory.scan`) and asks
the pure policy (:func:`~maintenance.backup.policy.decide`) about every backup: younger
than its tier's age (MAINT_RETENTION_DAYS) is kept; the newest
MAINT_RETENTION_MIN_VERIFIED *verified* backups of a tier and the newest verified one are
kept whatever their age; a failed, unverified or broken backup never counts toward that
floor and goes once it is older than its tier's age. Besides backups, the plan covers:

* temp files of crashed runs (``.<id>.dump.zst.tmp-<pid>-<hex>``, :func:`layout.temp_path`):
  removed once older than a day;
* manifests without their backup file (a run died before the final rename): removed once
  older than a day;
* strays (anything else in a tier folder), links (also directly in the root) and
  misplaced backups: never deleted, reported;
* forensic dumps (``BACKUP_ROOT/forensics``, :mod:`.forensics`): by their own rule, the
  newest MAINT_FORENSICS_MIN_KEEP of each database kept whatever their age;
* the total size of the root against MAINT_BACKUP_BUDGET_BYTES.

:func:`run` applies the plan unless ``dry_run`` (the default). Deleting is the only thing
it does, and it is careful about it:

* a file name is built from an id validated by :func:`layout.parse_id` (or, for a temp
  file, from a temp name around such an id) and must pass :func:`layout.inside`;
* the tier folder is opened with ``O_NOFOLLOW`` and files are unlinked relative to it,
  so a tier folder that is a link (even to somewhere inside the root) is refused;
* only regular files are deleted: a symbolic link is never followed and never deleted,
  it is reported for a person to look at. A link that leads outside the root makes the
  scan itself refuse, and then nothing at all is deleted;
* a backup's dump file goes first, then its manifest, under the tier folder's manifest
  lock (:func:`manifest.locked`), so no manifest update is in flight.
  A crash in between leaves a manifest without its file, which the next run removes;
* if the plan would leave a tier with fewer verified backups than the floor (impossible
  by construction of the policy: this is a safety net), nothing is deleted.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from maintenance import clock
from maintenance.backup import forensics, inventory, layout, policy
from maintenance.backup.layout import Tier
from maintenance.backup.policy import Candidate, Decision, Policy
from maintenance.config import Settings
from maintenance.errors import BadInput, MaintenanceError
from maintenance.fs import delete
from maintenance.fs.delete import Busy, Deletion, Refused
from maintenance.logs_setup import get_logger
from maintenance.results import Check, CheckStatus, Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

log = get_logger("maint.backup.retention")

#: A temp file of a crashed run, or a manifest without its file, older than this goes.
GARBAGE_AGE = timedelta(days=1)
#: The playbook's "current backup < 24 hours old".
CURRENT_DAILY_AGE = timedelta(hours=24)

Kind = Literal["backup", "orphan_manifest", "refused"]


class RetentionParams(Params):
    dry_run: bool = Field(
        True,
        description="Only report what would be deleted (the default); dry_run=false deletes.",
    )


# --- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One backup id found in a tier folder, and what happens to it.

    ``kind``: ``backup`` (its dump file exists; decided by the policy),
    ``orphan_manifest`` (a manifest without its file; garbage once older than a day) or
    ``refused`` (a link or a misplaced backup: never deleted, reported).
    """

    decision: Decision
    kind: Kind
    status: str  # inventory's: verified:full, failed:restore, unverified, broken
    verified: bool  # counts toward the floor
    disk_bytes: int = 0  # dump + manifest, what deleting it frees
    files: tuple[str, ...] = ()  # relative paths deleting it removes, in that order

    @property
    def id(self) -> str:
        return self.decision.id

    @property
    def tier(self) -> str:
        return self.decision.tier

    @property
    def keep(self) -> bool:
        return self.decision.keep

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "id": d.id,
            "tier": d.tier,
            "keep": d.keep,
            "reason": d.reason,
            "created_at": d.created_at.isoformat(),
            "size_bytes": d.size_bytes,
            "kind": self.kind,
            "status": self.status,
        }


@dataclass(frozen=True)
class TempFile:
    """A temp file of a (crashed or running) backup, manifest or forensic dump write."""

    folder: str  # a tier's, or forensics
    name: str
    age: timedelta
    size_bytes: int
    remove: bool
    reason: str

    @property
    def relpath(self) -> str:
        return f"{self.folder}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.relpath,
            "age_hours": round(self.age.total_seconds() / 3600, 1),
            "size_bytes": self.size_bytes,
            "remove": self.remove,
            "reason": self.reason,
        }


@dataclass
class RetentionPlan:
    """Everything retention would do, and why. :func:`apply` carries it out."""

    root: Path
    now: datetime
    policy: Policy
    budget_bytes: int
    items: list[Item] = field(default_factory=list)
    temp_files: list[TempFile] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)  # relative paths, never deleted
    refused: list[str] = field(default_factory=list)  # "path: why", never deleted
    total_bytes: int = 0  # every regular file under the root, now
    found: str = ""  # what the scan found besides backups (inventory's words)
    scan_error: str | None = None  # the root could not be read safely: delete nothing
    forensic: forensics.Plan | None = None  # BACKUP_ROOT/forensics, by its own rule

    @property
    def decisions(self) -> list[Decision]:
        return [i.decision for i in self.items]

    @property
    def backups(self) -> list[Item]:
        return [i for i in self.items if i.kind == "backup"]

    @property
    def to_delete(self) -> list[Item]:
        return [i for i in self.items if not i.keep]

    @property
    def temp_to_remove(self) -> list[TempFile]:
        return [t for t in self.temp_files if t.remove]

    @property
    def forensics_to_delete(self) -> list[forensics.Item]:
        return self.forensic.to_delete if self.forensic else []

    @property
    def bytes_to_free(self) -> int:
        """What applying the plan frees; nothing if it would be refused."""
        if not self.safe_to_apply:
            return 0
        return (
            sum(i.disk_bytes for i in self.to_delete)
            + sum(t.size_bytes for t in self.temp_to_remove)
            + sum(i.disk_bytes for i in self.forensics_to_delete)
        )

    def floor(self) -> dict[str, dict[str, Any]]:
        """Per tier: verified backups, how many the plan keeps, how many it must keep.

        Computed from the plan itself, independently of the policy's reasoning: the
        safety net that :func:`apply` and :func:`run` insist on.
        """
        out: dict[str, dict[str, Any]] = {}
        for tier in Tier:
            verified = [i for i in self.backups if i.tier == tier and i.verified]
            kept = [i for i in verified if i.keep]
            required = min(max(1, self.policy.min_verified), len(verified))
            newest = max(verified, key=lambda i: i.decision.created_at, default=None)
            out[tier.value] = {
                "verified": len(verified),
                "verified_kept": len(kept),
                "required": required,
                "newest_verified": newest.id if newest else None,
                "holds": len(kept) >= required and (newest is None or newest.keep),
            }
        return out

    @property
    def floor_holds(self) -> bool:
        return all(t["holds"] for t in self.floor().values())

    @property
    def forensic_floor_holds(self) -> bool:
        return self.forensic is None or self.forensic.floor_holds

    @property
    def safe_to_apply(self) -> bool:
        return self.scan_error is None and self.floor_holds and self.forensic_floor_holds

    @property
    def refusal(self) -> str | None:
        """Why :func:`apply` would delete nothing at all, or None."""
        if self.scan_error:
            return "the backup root was not read safely"
        if not self.floor_holds:
            return "the plan would break the floor of verified backups"
        if not self.forensic_floor_holds:
            return "the plan would break the floor of forensic dumps"
        return None

    def rows(self) -> list[dict[str, Any]]:
        """Every decision as a dict (the ``decisions`` figure; what the CLI prints)."""
        return [i.to_dict() for i in self.items]


def policy_of(settings: Settings) -> Policy:
    return Policy(
        max_age={tier: timedelta(days=days) for tier, days in settings.retention_days.items()},
        min_verified=settings.retention_min_verified,
    )


def forensic_rule_of(settings: Settings) -> forensics.Rule:
    return forensics.Rule(settings.forensics_keep_days, settings.forensics_min_keep)


def plan(settings: Settings, now: datetime) -> RetentionPlan:
    """What retention would do at ``now``. Reads the backup root; changes nothing."""
    root = settings.backup_root
    out = RetentionPlan(root, now, policy_of(settings), settings.backup_budget_bytes)
    try:
        inv = inventory.scan(root)
        escaped = [b for b in inv.backups if b.problem and "outside the backup root" in b.problem]
        if escaped:  # someone linked out of the root: do not trust anything in it
            raise BadInput(escaped[0].problem or "a file leads outside the backup root")
        fplan = forensics.plan(root, forensic_rule_of(settings), now, garbage_age=GARBAGE_AGE)
        _classify(out, inv, fplan)
        out.forensic = fplan
        out.found = inv.leftovers()
        if fplan.found or fplan.temp_files or fplan.strays:
            out.found += f"; forensics: {_n(fplan.found, 'dump')}, " + (
                inventory.describe_leftovers(len(fplan.temp_files), len(fplan.strays))
            )
        out.total_bytes = _root_bytes(root)
    except (BadInput, OSError) as exc:
        out.items, out.temp_files, out.forensic = [], [], None
        out.scan_error = (
            f"cannot read {root} safely: {exc}. Nothing is deleted until this is fixed "
            "(a link that leads outside the root must be removed by hand)."
        )
    return out


def _classify(out: RetentionPlan, inv: inventory.Inventory, fplan: forensics.Plan) -> None:
    root, now = out.root, out.now
    unsafe_tiers = {t for t in Tier if _tier_folder_problem(root, t)}
    for tier in sorted(unsafe_tiers):
        out.refused.append(f"{tier.value}/: {_tier_folder_problem(root, tier)}")
    # a link directly in the root is reported like one in a tier folder (tier folders
    # and forensics, when links, are reported above and by the forensic plan)
    known = {t.value for t in Tier} | {layout.FORENSICS_DIR}
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            if entry.is_symlink() and entry.name not in known:
                out.refused.append(f"{entry.name}: a symbolic link to {os.readlink(entry)}")
    out.refused.extend(fplan.refused)

    candidates: list[Candidate] = []
    pending: list[tuple[inventory.Backup, int, str | None, tuple[str, ...]]] = []
    extra: list[Item] = []  # orphan manifests and refused ids
    for b in inv.backups:
        try:
            id_tier, created = layout.parse_id(b.id)
        except BadInput:
            continue  # inventory lists its files as strays
        folder = layout.tier_dir(root, b.tier)
        dump_name, man_name = f"{b.id}{layout.DUMP_SUFFIX}", f"{b.id}{layout.MANIFEST_SUFFIX}"
        dump_st, man_st = _lstat(folder / dump_name), _lstat(folder / man_name)
        disk = sum(s.st_size for s in (dump_st, man_st) if s and stat.S_ISREG(s.st_mode))
        files = tuple(
            f"{b.tier.value}/{name}"
            for name in (dump_name, man_name)
            if _lstat(folder / name) is not None
        )

        def refuse(why: str, b: inventory.Backup = b, created: datetime = created) -> None:
            reason = f"{why}: never deleted by retention; look at it and remove it by hand"
            extra.append(
                Item(
                    Decision(b.id, b.tier.value, True, reason, created, 0),
                    "refused",
                    b.status,
                    False,
                )
            )
            out.refused.append(f"{b.tier.value}/{b.id}: {why}")

        if b.tier in unsafe_tiers:
            refuse(f"its tier folder is not a plain folder ({_tier_folder_problem(root, b.tier)})")
            continue
        if id_tier is not b.tier:
            refuse(f"a {id_tier.value} backup in the {b.tier.value} folder")
            continue
        odd = [
            name
            for name, st in ((dump_name, dump_st), (man_name, man_st))
            if st is not None and not stat.S_ISREG(st.st_mode)
        ]
        if odd:
            what = (
                "a symbolic link"
                if any(s is not None and stat.S_ISLNK(s.st_mode) for s in (dump_st, man_st))
                else "not a regular file"
            )
            refuse(f"{', '.join(odd)} is {what}")
            continue
        if dump_st is None:
            if man_st is None:
                continue  # gone since the scan
            # a run died before its final rename; or one is writing right now
            age = now - max(created, _mtime(man_st))
            garbage = age > GARBAGE_AGE
            reason = f"manifest without its backup file, {_days(age)} old: " + (
                "garbage from a crashed run, delete"
                if garbage
                else "may be a backup in progress, kept"
            )
            extra.append(
                Item(
                    Decision(b.id, b.tier.value, not garbage, reason, created, 0),
                    "orphan_manifest",
                    "broken",
                    False,
                    disk,
                    files,
                )
            )
            continue
        # the manifest must describe this very file: its id is the file's id
        own = b.manifest is None or b.manifest.id == b.id
        named = b.manifest.id if b.manifest else None
        problem = b.problem or (None if own else f"its manifest is that of {named!r}")
        verified = b.verified and problem is None
        candidates.append(Candidate(b.id, b.tier.value, created, verified, b.size_bytes))
        pending.append((b, disk, problem, files))

    by_id = {d.id: d for d in policy.decide(candidates, out.policy, now)}
    items = []
    for (b, disk, problem, files), c in zip(pending, candidates, strict=True):
        decision = by_id[b.id]
        if problem:  # say why it does not count
            decision = replace(decision, reason=f"{decision.reason} [broken: {problem}]")
        status = "broken" if problem else b.status
        items.append(Item(decision, "backup", status, c.verified, disk, files))
    out.items = sorted(items + extra, key=lambda i: (i.decision.created_at, i.tier, i.id))

    unsafe = {t.value for t in unsafe_tiers}
    for path in inv.temp_files + fplan.temp_files:
        where = path.parent.name  # a tier's or forensics (only when it is a plain folder)
        rel = f"{where}/{path.name}"
        st = _lstat(path)
        if st is None:
            continue
        if where in unsafe:
            out.refused.append(f"{rel}: its tier folder is not a plain folder")
        elif not stat.S_ISREG(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            out.refused.append(f"{rel}: a temp name but {kind}")
        else:  # only temp names of a backup's or forensic dump's files are listed
            age = now - _mtime(st)
            remove = age > GARBAGE_AGE
            reason = f"temp file last written {_days(age)} ago: " + (
                "left by a crashed run, delete" if remove else "a run may be writing it, kept"
            )
            out.temp_files.append(TempFile(where, path.name, age, st.st_size, remove, reason))

    for path in inv.stray_files:
        rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        if path.is_symlink():  # never followed, never deleted: for a person to look at
            out.refused.append(f"{rel}: a symbolic link to {os.readlink(path)}")
        else:
            out.strays.append(rel)
    out.strays = sorted(set(out.strays + fplan.strays))


def _tier_folder_problem(root: Path, tier: Tier) -> str | None:
    folder = layout.tier_dir(root, tier)
    st = _lstat(folder)
    if st is None or stat.S_ISDIR(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return f"a symbolic link to {os.readlink(folder)}"
    return "not a folder"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, tz=UTC)


def _root_bytes(root: Path) -> int:
    """Every regular file under the root (links not followed): what the disk holds."""
    total = 0
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            st = _lstat(Path(folder) / name)
            if st is not None and stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def _days(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours" if abs(hours) < 48 else f"{hours / 24:.1f} days"


# --- deleting ---------------------------------------------------------------------------


def delete_backup(
    root: Path, backup_id: str, *, orphan: bool = False, reason: str = "retention", dry_run: bool = False
) -> list[Deletion]:
    """Delete one backup through the one deleter: its dump file first, then its manifest,
    under one hold of the tier folder's lock (so no verification is reading it and no
    manifest update is in flight; :class:`Busy` if it stays held).

    ``backup_id`` is validated (:func:`layout.parse_id`: no ``../``, no absolute path).
    With ``orphan``, only a manifest whose dump file is still missing goes.
    """
    dump, man = layout.dump_path(root, backup_id), layout.manifest_path(root, backup_id)
    if orphan:
        return delete.delete_group(
            [man], root=root, reason=reason, dry_run=dry_run, unless_present=[dump]
        )
    # a crash in between leaves a manifest without its file: the next run removes it
    return delete.delete_group([dump, man], root=root, reason=reason, dry_run=dry_run)


def delete_forensic(
    root: Path, name: str, *, orphan: bool = False, reason: str = "retention", dry_run: bool = False
) -> list[Deletion]:
    """Delete one forensic dump: its dump file first, then its record. ``name`` is
    validated (:func:`layout.parse_forensic_name`); with ``orphan``, only a record whose
    dump is still missing goes."""
    layout.parse_forensic_name(name)
    folder = layout.forensics_dir(root)
    dump, record = folder / f"{name}{layout.DUMP_SUFFIX}", folder / f"{name}{layout.MANIFEST_SUFFIX}"
    if orphan:
        return delete.delete_group(
            [record], root=root, reason=reason, dry_run=dry_run, unless_present=[dump]
        )
    return delete.delete_group([dump, record], root=root, reason=reason, dry_run=dry_run)


def delete_temp(
    root: Path, folder: str, name: str, *, reason: str = "retention", dry_run: bool = False
) -> Deletion:
    """Delete a temp file of a backup's, manifest's (in a tier folder) or forensic dump's
    (in forensics) write; its name is validated."""
    if folder not in {t.value for t in Tier} | {layout.FORENSICS_DIR}:
        raise Refused(f"{folder!r} is not a folder retention deletes in: refused")
    ours = (
        forensics.is_temp_of_dump(name)
        if folder == layout.FORENSICS_DIR
        else layout.temp_backup_id(name) is not None
    )
    if not ours:
        raise Refused(f"{folder}/{name} is not the temp file of a backup: refused")
    return delete.delete(root / folder / name, root=root, reason=reason, dry_run=dry_run)


@dataclass
class Applied:
    """What :func:`apply` did."""

    deleted: list[str] = field(default_factory=list)  # relative paths
    bytes_freed: int = 0
    backups_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "what: why"
    skipped: list[str] = field(default_factory=list)  # busy
    forensics_deleted: list[str] = field(default_factory=list)  # names
    refused: str | None = None  # why nothing at all was deleted


def apply(p: RetentionPlan) -> Applied:
    """Carry out ``p``: delete what it says, nothing else. Refuses an unsafe plan."""
    done = Applied()
    if p.refusal:
        done.refused = p.refusal
        return done
    for item in p.to_delete:
        try:
            files = delete_backup(
                p.root, item.id, orphan=item.kind == "orphan_manifest", reason=item.decision.reason
            )
        except Busy as exc:
            done.skipped.append(f"{item.id}: {exc}: skipped, the next run retries")
            log.warning("backup.retention.busy", backup=item.id, error=str(exc))
            continue
        except (BadInput, OSError) as exc:
            done.errors.append(f"{item.tier}/{item.id}: {exc}")
            log.error("backup.retention.delete_failed", backup=item.id, error=str(exc))
            continue
        done.backups_deleted.append(item.id)
        _count(done, files)
    for f in p.forensics_to_delete:
        try:
            files = delete_forensic(
                p.root, f.name, orphan=f.kind == "orphan_record", reason=f.decision.reason
            )
        except (BadInput, Busy, OSError) as exc:
            done.errors.append(f"{layout.FORENSICS_DIR}/{f.name}: {exc}")
            log.error("backup.retention.delete_failed", forensic=f.name, error=str(exc))
            continue
        done.forensics_deleted.append(f.name)
        _count(done, files)
    for temp in p.temp_to_remove:
        try:
            gone = delete_temp(p.root, temp.folder, temp.name, reason=temp.reason)
        except (BadInput, Busy, OSError) as exc:
            done.errors.append(f"{temp.relpath}: {exc}")
            log.error("backup.retention.delete_failed", file=temp.relpath, error=str(exc))
            continue
        done.deleted.append(temp.relpath)
        done.bytes_freed += gone.size_bytes
    return done


def _count(done: Applied, files: list[Deletion]) -> None:
    for d in files:
        if d.deleted:
            done.deleted.append(d.relpath)
            done.bytes_freed += d.size_bytes


# --- the task ---------------------------------------------------------------------------

#: Extra checks a retention run reports: ``(ctx, now) -> checks``.
ExtraChecks = Callable[[RunContext, datetime], list[Check]]


def pre_restore_database_checks(ctx: RunContext, now: datetime) -> list[Check]:
    """Report (never drop) the ``<target>_pre_restore_<time>`` databases ``maint restore``
    set aside for the configured targets (MAINT_RESTORE_TARGETS) that are older than
    MAINT_PRE_RESTORE_REPORT_DAYS: each holds a whole copy of the database, and only a
    person decides when it may go (`DROP DATABASE name`). Other databases on the same
    server are not ours to report, whatever their names."""
    from maintenance import pg
    from maintenance.restore import swap

    s = ctx.settings
    server = s.target_dsn.get_secret_value()
    targets = ", ".join(s.restorable)
    try:
        with pg.connect(pg.with_dbname(server, "postgres")) as conn:
            found = conn.execute(
                "SELECT datname, pg_database_size(datname) FROM pg_database "
                "WHERE strpos(datname, %s) > 0 ORDER BY datname",
                (swap.PRE_RESTORE_MARK,),
            ).fetchall()
    except MaintenanceError as exc:
        return [
            Check(
                "old pre-restore databases",
                CheckStatus.WARN,
                observed=f"could not look: {exc}",
                expected="a list of set-aside databases",
            )
        ]
    limit = timedelta(days=s.pre_restore_report_days)
    ours: list[tuple[str, int, datetime]] = []
    for name, size in found:
        when = swap.pre_restore_time(name)
        if when is not None and any(_set_aside_for(t, when) == name for t in s.restorable):
            ours.append((name, int(size), when))
    old = [
        f"{name} ({(now - when).days} days, {size // 1_000_000} MB)"
        for name, size, when in ours
        if now - when > limit
    ]
    return [
        Check(
            "old pre-restore databases",
            CheckStatus.WARN if old else CheckStatus.PASS,
            observed="; ".join(old)
            if old
            else f"{len(ours)} set aside, none older than {limit.days} days",
            expected=f"none of {targets} older than {limit.days} days "
            "(MAINT_PRE_RESTORE_REPORT_DAYS); never dropped automatically",
        )
    ]


def _set_aside_for(target: str, when: datetime) -> str | None:
    """The name ``maint restore`` gives ``target`` set aside at ``when``."""
    from maintenance.restore import swap

    try:
        return swap.pre_restore_name(target, when)
    except BadInput:
        return None


#: Run after the plan, their checks appended to the result.
EXTRA_CHECKS: list[ExtraChecks] = [pre_restore_database_checks]


def run(ctx: RunContext, params: RetentionParams) -> Result:
    """``backup.retention``: plan, apply unless ``dry_run``, report every decision."""
    now = clock.now()
    p = plan(ctx.settings, now)
    done = None if params.dry_run else apply(p)
    result = report(p, done, dry_run=params.dry_run)
    for hook in EXTRA_CHECKS:
        result.checks.extend(hook(ctx, now))
    return result


def report(p: RetentionPlan, done: Applied | None, *, dry_run: bool) -> Result:
    """The checklist of a retention run (``done`` is None for a dry run).

    A check that could not run because retention refused is never shown as passed: it
    is a warning whose observed value reads ``not run: <why>``. Observed and expected
    values are sentences, never Python values.
    """
    result = Result()
    result.check(
        "backup root read safely",
        p.scan_error is None,
        observed=p.scan_error or f"{len(p.items)} backup ids, {p.found}",
        expected="every entry inside the root",
    )
    blind = "not run: the backup root was not read safely" if p.scan_error else None

    def not_run(name: str, why: str, expected: str) -> None:
        result.checks.append(Check(name, CheckStatus.WARN, why, expected))

    floor = p.floor()
    floor_rule = (
        f"every tier keeps >= min(MAINT_RETENTION_MIN_VERIFIED={p.policy.min_verified}, "
        "its verified backups), incl. its newest verified"
    )
    if blind:
        not_run("floor holds per tier", blind, floor_rule)
    else:
        result.check(
            "floor holds per tier",
            p.floor_holds,
            observed=_floor_kept(floor),
            expected=_floor_wanted(floor),
            detail=None if p.floor_holds else "nothing was deleted",
        )
    if done is not None and done.refused:
        not_run("planned deletions done", f"not run: {done.refused}", "every planned deletion")
    elif done is not None:
        result.check(
            "planned deletions done",
            not done.errors,
            observed="; ".join(done.errors) or _n(len(done.deleted), "file"),
            expected="every planned deletion",
            detail="; ".join(done.skipped) or None,
        )
    if blind:
        for name, expected in _ROOT_CHECKS.items():
            not_run(name, blind, expected.format(budget=_budget(p)))
        after = p.total_bytes
    else:
        after = _root_checks(result, p, done)
    result.checks.extend(
        forensics.checks(
            p.forensic,
            done.forensics_deleted if done else None,
            blind=blind,
            refused=f"not run: {p.refusal}" if p.refusal else None,
        )
    )

    kept = [i for i in p.backups if i.keep]
    gone = [i for i in p.to_delete if i.kind == "backup"]
    orphans = [i for i in p.to_delete if i.kind == "orphan_manifest"]
    fp = p.forensic
    result.figures = {
        "dry_run": dry_run,
        "now": p.now.isoformat(),
        "policy": {
            "max_age_days": {t: a.days for t, a in p.policy.max_age.items()},
            "min_verified": p.policy.min_verified,
        },
        "decisions": p.rows(),
        "temp_files": [t.to_dict() for t in p.temp_files],
        "strays": p.strays,
        "refused": p.refused,
        "floor": {} if blind else floor,
        "forensics": [i.to_dict() for i in fp.items] if fp else [],
        "forensics_policy": (
            {"keep_days": fp.rule.keep_days, "min_keep": fp.rule.min_keep} if fp else {}
        ),
        "forensics_floor": fp.floor() if fp else {},
        "backups_kept": len(kept),
        "backups_to_delete": len(gone),
        "bytes_to_free": p.bytes_to_free,
        "deleted": done.deleted if done else [],
        "bytes_freed": done.bytes_freed if done else 0,
        "total_bytes_before": p.total_bytes,
        "total_bytes_after": after,
        "budget_bytes": p.budget_bytes,
    }
    result.summary = _summary(p, done, kept, gone, orphans)
    return result


def _floor_kept(floor: dict[str, dict[str, Any]]) -> str:
    parts = [f"{t} {f['verified_kept']}" for t, f in floor.items()]
    return f"{parts[0]} verified kept, " + ", ".join(parts[1:]) if parts else "no tiers"


def _floor_wanted(floor: dict[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{t} >= {f['required']} incl. the newest verified {f['newest_verified']}"
        if f["newest_verified"]
        else f"{t}: no verified backup"
        for t, f in floor.items()
    )


#: The checks of what the root holds, and what each expects.
_ROOT_CHECKS = {
    "backups within retention age": "none older than its tier's retention",
    "current daily backup < 24 hours old": "< 24 hours",
    "total size within budget": "{budget}",
    "no stray files": "only backups, manifests, forensic dumps and temp files",
    "no links or misplaced backups": "regular files in their tier folder, no links in the root",
}


def _budget(p: RetentionPlan) -> str:
    return f"<= {human_bytes(p.budget_bytes)} (MAINT_BACKUP_BUDGET_BYTES={p.budget_bytes})"


def _root_checks(result: Result, p: RetentionPlan, done: Applied | None) -> int:
    """The checks of what the root holds; the total size after the run."""
    aged = [
        i.id
        for i in p.backups
        if i.keep and p.now - i.decision.created_at > p.policy.max_age.get(i.tier, timedelta.max)
    ]
    result.check(
        "backups within retention age",
        not aged,
        observed=", ".join(aged) or "none older",
        expected=_ROOT_CHECKS["backups within retention age"],
        warn_only=True,
        detail=(
            f"the floor keeps {len(aged)} backups past their age because newer ones are not "
            "verified (failed, unverified or broken): look at backup.verify"
            if aged
            else None
        ),
    )
    current = max(
        (i for i in p.backups if i.tier == Tier.DAILY and i.status != "broken"),
        key=lambda i: i.decision.created_at,
        default=None,
    )
    current_age = p.now - current.decision.created_at if current else None
    result.check(
        "current daily backup < 24 hours old",
        current_age is not None and current_age < CURRENT_DAILY_AGE,
        observed=(
            f"{current.id} ({current.status}), {_days(current_age)} old"
            if current and current_age is not None
            else "no daily backup"
        ),
        expected="< 24 hours",
        warn_only=True,
    )
    after = p.total_bytes - (p.bytes_to_free if done is None else done.bytes_freed)
    result.check(
        "total size within budget",
        after <= p.budget_bytes,
        observed=human_bytes(after),
        expected=_budget(p),
        warn_only=True,
        detail=f"{human_bytes(p.total_bytes)} before retention",
    )
    result.check(
        "no stray files",
        not p.strays,
        observed="; ".join(p.strays) or "none",
        expected=_ROOT_CHECKS["no stray files"],
        warn_only=True,
    )
    result.check(
        "no links or misplaced backups",
        not p.refused,
        observed="; ".join(p.refused) or "none",
        expected=_ROOT_CHECKS["no links or misplaced backups"],
        warn_only=True,
    )
    return after


def _summary(
    p: RetentionPlan, done: Applied | None, kept: list[Item], gone: list[Item], orphans: list[Item]
) -> str:
    if p.scan_error:
        return f"refused: {p.scan_error}"
    if p.refusal:
        return f"refused: {p.refusal}; nothing deleted"
    f_gone = [f for f in p.forensics_to_delete if f.kind == "dump"]
    f_orphans = [f for f in p.forensics_to_delete if f.kind == "orphan_record"]
    if done is None:
        size = human_bytes(sum(i.disk_bytes for i in gone))
        text = f"dry run: would delete {_n(len(gone), 'backup')} ({size}), keep {len(kept)}"
        extras = _extras(len(p.temp_to_remove), len(orphans) + len(f_orphans), len(f_gone))
        return text + (f"; would remove {extras}" if extras else "")
    deleted = set(done.backups_deleted)
    n = sum(1 for i in gone if i.id in deleted)
    freed = human_bytes(done.bytes_freed)
    text = f"deleted {_n(n, 'backup')} ({freed} freed), kept {len(kept) + len(gone) - n}"
    temps = {t.relpath for t in p.temp_to_remove} & set(done.deleted)
    f_done = set(done.forensics_deleted)
    extras = _extras(
        len(temps),
        sum(1 for i in orphans if i.id in deleted) + sum(1 for f in f_orphans if f.name in f_done),
        sum(1 for f in f_gone if f.name in f_done),
    )
    text += f"; removed {extras}" if extras else ""
    if done.errors or done.skipped:
        text += f"; {len(done.errors)} failed, {len(done.skipped)} skipped (folder locked)"
    return text


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _extras(temps: int, orphans: int, forensic: int = 0) -> str:
    parts = []
    if temps:
        parts.append(_n(temps, "temp file"))
    if orphans:
        parts.append(_n(orphans, "orphan manifest"))
    if forensic:
        parts.append(_n(forensic, "forensic dump"))
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
