"""``maint backups``: what backups exist, and proving, pruning and decrypting them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.text import Text

from maintenance import catalog, runner
from maintenance.backup import forensics, inventory, layout
from maintenance.backup.inventory import BackupStatus
from maintenance.backup.layout import Tier
from maintenance.cli.fit import Column, FirstFit, Grid, Note, one_line
from maintenance.cli.render import (
    compact,
    end_run,
    local,
    out,
    print_json,
    show_run,
    status_text,
    styled,
)
from maintenance.config import get_settings
from maintenance.history import store
from maintenance.results import Trigger
from maintenance.units import human_bytes

app = typer.Typer(help="Backups: list, verify, retention, decrypt.", no_args_is_help=True)


def _row(b: inventory.Backup) -> dict[str, Any]:
    m = b.manifest
    return {
        "id": b.id,
        "tier": b.tier.value,
        "created_at": b.created_at.isoformat(),
        "size_bytes": b.size_bytes,
        "database": m.database if m else None,
        "status": b.status.value,
        "problem": b.problem,
        "verification": b.verification.document() if b.verification else None,
        "last_drill": m.drills[-1].document() if m and m.drills else None,
        "offsite": m.offsite[-1].document() if m and m.offsite else None,
        "expires_at": m.expires_at.isoformat() if m and m.expires_at else None,
        "path": str(b.path),
    }


@app.command("list")
def list_backups(
    tier: Tier | None = typer.Option(None, "--tier", help="Only this tier."),
    forensic: bool = typer.Option(
        False,
        "--forensics",
        help="The forensic dumps restore took of each database before replacing it, instead.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Every backup, newest first: tier, time, size, last verification and its status."""
    settings = get_settings()
    if forensic:
        if tier is not None:
            raise typer.BadParameter("--tier does not apply to --forensics", param_hint="--tier")
        _list_forensics(settings, as_json)
        return
    inv = inventory.scan(settings.backup_root)
    backups = sorted(
        (b for b in inv.backups if tier is None or b.tier is tier),
        key=lambda b: b.created_at,
        reverse=True,
    )
    if as_json:
        print_json([_row(b) for b in backups])
        return
    if not backups:
        out.print(f"no backups in {settings.backup_root}")
        _leftovers(inv.temp_files, inv.stray_files)
        return
    out.print(backups_table(backups, settings.zone, f"backups in {settings.backup_root}"))
    _leftovers(inv.temp_files, inv.stray_files)


def _leftovers(temps: list[Path], strays: list[Path]) -> None:
    """The same count retention's root check shows."""
    if temps or strays:
        found = inventory.describe_leftovers(len(temps), len(strays))
        out.print(f"[yellow]{found}[/]: `maint backups retention` lists them")


def _list_forensics(settings: Any, as_json: bool) -> None:
    root = settings.backup_root
    inv = forensics.scan(root)
    dumps = sorted(inv.dumps, key=lambda d: d.created_at, reverse=True)
    if as_json:
        print_json([d.to_dict() for d in dumps])
        return
    folder = layout.forensics_dir(root)
    problem = forensics.folder_problem(root)
    if problem:
        out.print(f"[red]{folder} is {problem}[/]: not read (`maint backups retention` reports it)")
        return
    if not dumps:
        out.print(f"no forensic dumps in {folder}")
    else:
        rows: list[list[Any]] = [
            [
                d.name,
                d.database,
                compact(d.created_at, settings.zone),
                human_bytes(d.size_bytes),
                status_text(d.status),
                str(d.record.restore_run_id) if d.record and d.record.restore_run_id else "-",
            ]
            for d in dumps
        ]
        columns = [Column("name"), Column("database"), Column("taken"), Column("size", right=True)]
        columns += [Column("status"), Column("restore run")]
        out.print(
            Grid(columns, rows, title=f"forensic dumps in {folder} (times in {settings.zone.key})")
        )
    _leftovers(inv.temp_files, inv.stray_files)


def backups_table(backups: list[inventory.Backup], zone: ZoneInfo, title: str) -> FirstFit:
    """Ids whole, always (an operator copies them): where the room is short the times
    go compact, then the tier and creation time go (the id carries both), then the
    drill's time; a broken backup's problem takes the room that is left."""
    notes = any(b.problem or b.status is BackupStatus.CHANGED for b in backups)

    def grid(when: Any, *, short: bool, drill_time: bool) -> Grid:
        columns = [Column("id")]
        if not short:
            columns += [Column("tier"), Column("created")]
        columns += [Column("size", right=True), Column("status"), Column("verified")]
        columns += [Column("last drill")] + ([Column("problem", flex=True)] if notes else [])
        rows = []
        for b in backups:
            drills = b.manifest.drills if b.manifest else ()
            drill = "-"
            if drills:
                d = drills[-1]
                drill = "passed" if d.passed else "FAILED"
                drill += f" {when(d.at, zone)}" if drill_time else ""
            word, _, note = (
                ("broken", "", b.problem) if b.problem else b.status.value.partition(": ")
            )
            cells: list[Any] = [b.id]
            if not short:
                cells += [b.tier.value, when(b.created_at, zone)]
            cells += [
                human_bytes(b.size_bytes),
                status_text(word),
                when(b.verification.at if b.verification else None, zone),
                Text(drill, style="" if drill[:1] != "F" else "bold red"),
            ]
            rows.append(cells + ([one_line(note)] if notes else []))
        return Grid(columns, rows, title=f"{title} (times in {zone.key})")

    return FirstFit(
        [
            grid(local, short=False, drill_time=True),
            grid(compact, short=False, drill_time=True),
            grid(compact, short=True, drill_time=True),
            grid(compact, short=True, drill_time=False),
        ]
    )


@app.command("verify")
def verify_backup(
    backup: str = typer.Argument(..., help="Backup id, or 'latest'."),
    level: str = typer.Option("full", "--level", help="checksum, full or restore."),
    tier: Tier | None = typer.Option(
        None, "--tier", help="With 'latest': the newest of this tier."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Verify one backup now, in this process (recorded with trigger cli)."""
    settings = get_settings()
    params: dict[str, Any] = {"backup": backup, "level": level}
    if tier is not None:
        params["tier"] = tier.value
    outcome = runner.execute(
        catalog.get("backup.verify"), params, settings=settings, trigger=Trigger.CLI
    )
    _finish(outcome, as_json)


@app.command("retention")
def retention(
    apply: bool = typer.Option(False, "--apply", help="Delete for real (default: a dry run)."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Show what retention keeps and deletes, and why; delete only with --apply."""
    settings = get_settings()
    outcome = runner.execute(
        catalog.get("backup.retention"),
        {"dry_run": not apply},
        settings=settings,
        trigger=Trigger.CLI,
    )
    if not as_json and outcome.result:
        figures = outcome.result.get("figures", {})
        out.print(decisions_table(figures.get("decisions", []), apply=apply))
        if figures.get("forensics"):
            out.print(
                decisions_table(
                    figures["forensics"],
                    apply=apply,
                    title="forensic dumps",
                    key=("forensic dump", "name"),
                    group=("database", "database"),
                )
            )
        for t in figures.get("temp_files", []):
            out.print(Text(f"temp file {t.get('path')}: {t.get('reason', '')}"))
        for s in figures.get("strays", []):
            out.print(Text.assemble(("stray", "yellow"), f" {s}"))
        for r in figures.get("refused", []):
            out.print(Text.assemble(("refused", "red"), f" {r}"))
    _finish(outcome, as_json)


def decisions_table(
    decisions: list[dict[str, Any]],
    *,
    apply: bool,
    title: str = "decisions",
    key: tuple[str, str] = ("backup", "id"),
    group: tuple[str, str] = ("tier", "tier"),
) -> FirstFit:
    """Retention's decisions, one a line, ids whole; the reason beside them when every
    reason fits there whole, else under its decision, wrapped (the reason is the point).
    ``key`` and ``group`` are (column title, field) of the id and its group."""
    title += "" if apply else " (dry run)"
    gone = Text("delete", style="red") if apply else Text("would delete", style="yellow")
    keys = [
        [
            str(d.get(key[1])),
            str(d.get(group[1])),
            "keep" if d.get("keep") else gone,
            str(d.get("status", "")),
        ]
        for d in decisions
    ]
    reasons = [one_line(str(d.get("reason", ""))) for d in decisions]
    columns = [Column(key[0]), Column(group[0]), Column("decision"), Column("status")]
    beside = Grid(
        [*columns, Column("reason", flex=True)],
        [[*k, r] for k, r in zip(keys, reasons, strict=True)],
        title=title,
    )
    under: list[list[Any] | Note] = []
    for k, r in zip(keys, reasons, strict=True):
        under += [k, Note(r, under=1)] if r else [k]
    longest = max((len(r) for r in reasons), default=0)
    return FirstFit([beside, Grid(columns, under, title=title)], flex_want=longest)


@app.command("decrypt")
def decrypt(
    src: Path = typer.Argument(..., help="An off-site copy: <id>.dump.zst.enc"),
    dest: Path = typer.Argument(
        ..., help="Where to write the plain <id>.dump.zst (must not exist)."
    ),
) -> None:
    """Decrypt an off-site copy into a plain backup file (then restore it: docs/restore.md).

    The key is read from MAINT_OFFSITE_KEY_FILE. The output is written whole or not at
    all (0600), never over an existing file, and checked against the SHA-256 the copy's
    sidecar records.
    """
    from maintenance.backup import crypto
    from maintenance.backup.offsite import copies

    settings = get_settings()
    key = crypto.load_key(settings.offsite_key_file)
    sha, size = crypto.decrypt_file(src, dest, key, expected_sha256=copies.expected_sha256(src))
    out.print(f"decrypted {src} -> {dest}: {human_bytes(size)}, sha256 {sha}")


def _finish(outcome: runner.Outcome, as_json: bool) -> None:
    settings = get_settings()
    if as_json:
        print_json(outcome.to_dict())
    elif outcome.run_id and (
        row := store.get_run(settings.history_dsn.get_secret_value(), outcome.run_id)
    ):
        show_run(row, settings.zone)
    else:
        out.print(f"{outcome.task}: {styled(outcome.status.value)} {outcome.summary}")
    end_run(
        outcome.exit_code,
        history_error=outcome.history_error,
        bad_input=(outcome.error_message or "") if outcome.bad_input else None,
    )
