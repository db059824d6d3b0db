"""Retention's third step: carry a :class:`~.plan.Plan` out, nothing else, through the
one deleter (:mod:`maintenance.fs.delete`: confined to the root, never through a link,
under each folder's lock), ``dry_run`` threaded through.

* a plan the safety net refuses (:attr:`~.plan.Plan.refusal`) deletes nothing at all;
* a backup's dump file goes first, then its manifest, under one hold of the tier
  folder's lock, so no verification is reading it and no manifest update is in flight
  (a crash in between leaves a manifest without its file, which the next run removes);
  a folder whose lock stays held is skipped until the next run;
* file names are built from validated ids (:func:`..layout.parse_id`), forensic names
  and temp names only: a ``../`` id is bad input before anything is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from maintenance.backup import forensics, layout
from maintenance.backup.layout import Tier
from maintenance.backup.retention.plan import Plan
from maintenance.errors import BadInput
from maintenance.fs import delete
from maintenance.fs.delete import Busy, Deletion, Refused
from maintenance.logs_setup import get_logger

log = get_logger("maint.backup.retention")


@dataclass
class Applied:
    """What :func:`apply` did (or, with ``dry_run``, would do)."""

    dry_run: bool
    deleted: list[str] = field(default_factory=list)  # relative paths actually deleted
    would_delete: list[str] = field(default_factory=list)  # a dry run's, as the deleter saw it
    bytes_freed: int = 0
    backups_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "what: why"
    skipped: list[str] = field(default_factory=list)  # busy
    forensics_deleted: list[str] = field(default_factory=list)  # names
    refused: str | None = None  # why nothing at all was deleted

    def count(self, files: list[Deletion]) -> None:
        for d in files:
            if d.deleted:
                self.deleted.append(d.relpath)
                self.bytes_freed += d.size_bytes
            elif d.existed:
                self.would_delete.append(d.relpath)


def apply(p: Plan, *, dry_run: bool) -> Applied:
    """Carry out ``p``: delete what it says, nothing else. Refuses an unsafe plan."""
    done = Applied(dry_run)
    if p.refusal:
        done.refused = p.refusal
        return done
    for item in p.to_delete:
        try:
            files = delete_backup(
                p.root,
                item.id,
                orphan=item.kind == "orphan_manifest",
                reason=item.decision.reason,
                dry_run=dry_run,
            )
        except Busy as exc:
            done.skipped.append(f"{item.id}: {exc}: skipped, the next run retries")
            log.warning("backup.retention.busy", backup=item.id, error=str(exc))
            continue
        except (BadInput, OSError) as exc:
            done.errors.append(f"{item.tier}/{item.id}: {exc}")
            log.error("backup.retention.delete_failed", backup=item.id, error=str(exc))
            continue
        if not dry_run:
            done.backups_deleted.append(item.id)
        done.count(files)
    for f in p.forensics_to_delete:
        try:
            files = delete_forensic(
                p.root,
                f.name,
                orphan=f.kind == "orphan_record",
                reason=f.decision.reason,
                dry_run=dry_run,
            )
        except (BadInput, Busy, OSError) as exc:
            done.errors.append(f"{layout.FORENSICS_DIR}/{f.name}: {exc}")
            log.error("backup.retention.delete_failed", forensic=f.name, error=str(exc))
            continue
        if not dry_run:
            done.forensics_deleted.append(f.name)
        done.count(files)
    for temp in p.temp_to_remove:
        try:
            gone = delete_temp(p.root, temp.folder, temp.name, reason=temp.reason, dry_run=dry_run)
        except (BadInput, Busy, OSError) as exc:
            done.errors.append(f"{temp.relpath}: {exc}")
            log.error("backup.retention.delete_failed", file=temp.relpath, error=str(exc))
            continue
        done.count([gone])
    return done


def delete_backup(
    root: Path,
    backup_id: str,
    *,
    orphan: bool = False,
    reason: str = "retention",
    dry_run: bool = False,
) -> list[Deletion]:
    """Delete one backup: its dump file first, then its manifest, under one hold of the
    tier folder's lock (:class:`Busy` if it stays held). ``backup_id`` is validated
    (no ``../``, no absolute path); with ``orphan``, only a manifest whose dump file is
    still missing goes."""
    dump, man = layout.dump_path(root, backup_id), layout.manifest_path(root, backup_id)
    if orphan:
        return delete.delete_group(
            [man], root=root, reason=reason, dry_run=dry_run, unless_present=[dump]
        )
    return delete.delete_group([dump, man], root=root, reason=reason, dry_run=dry_run)


def delete_forensic(
    root: Path,
    name: str,
    *,
    orphan: bool = False,
    reason: str = "retention",
    dry_run: bool = False,
) -> list[Deletion]:
    """Delete one forensic dump: its dump file first, then its record. ``name`` is
    validated (:func:`..layout.parse_forensic_name`); with ``orphan``, only a record
    whose dump is still missing goes."""
    layout.parse_forensic_name(name)
    folder = layout.forensics_dir(root)
    dump = folder / f"{name}{layout.DUMP_SUFFIX}"
    record = folder / f"{name}{layout.MANIFEST_SUFFIX}"
    if orphan:
        return delete.delete_group(
            [record], root=root, reason=reason, dry_run=dry_run, unless_present=[dump]
        )
    return delete.delete_group([dump, record], root=root, reason=reason, dry_run=dry_run)


def delete_temp(
    root: Path, folder: str, name: str, *, reason: str = "retention", dry_run: bool = False
) -> Deletion:
    """Delete a temp file of a backup's, manifest's (in a tier folder) or forensic dump's
    (in forensics) write; its folder and name are validated."""
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
