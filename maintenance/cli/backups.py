"""``maint backups``: what backups exist, and proving, pruning and decrypting them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from maintenance import catalog, runner
from maintenance.backup import forensics, inventory, layout
from maintenance.backup.layout import Tier
from maintenance.cli.render import local, out, print_json, show_run, styled
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
    zone = settings.zone
    table = Table(
        header_style="bold", title=f"backups in {settings.backup_root}", title_justify="left"
    )
    for col in ("id", "tier", f"created ({zone.key})", "size", "status", "verified", "last drill"):
        table.add_column(col, no_wrap=True)
    for b in backups:
        when = local(b.verification.at, zone) if b.verification else "-"
        drills = b.manifest.drills if b.manifest else ()
        drill_text = "-"
        if drills:
            d = drills[-1]
            drill_text = f"{'passed' if d.passed else 'FAILED'} {local(d.at, zone)}"
        word = b.status.word
        rest = f": {b.problem}" if b.problem else b.status.value[len(word) :]
        table.add_row(
            b.id,
            b.tier.value,
            local(b.created_at, zone),
            human_bytes(b.size_bytes),
            styled(word) + rest,
            when,
            drill_text,
        )
    out.print(table)
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
        zone = settings.zone
        table = Table(
            header_style="bold", title=f"forensic dumps in {folder}", title_justify="left"
        )
        for col in ("name", "database", f"taken ({zone.key})", "size", "status", "restore run"):
            table.add_column(col, no_wrap=True)
        for d in dumps:
            run_id = d.record.restore_run_id if d.record else None
            table.add_row(
                d.name,
                d.database,
                local(d.created_at, zone),
                human_bytes(d.size_bytes),
                d.status,
                str(run_id) if run_id is not None else "-",
            )
        out.print(table)
    _leftovers(inv.temp_files, inv.stray_files)


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
        table = Table(
            header_style="bold",
            title="decisions" + ("" if apply else " (dry run)"),
            title_justify="left",
        )
        for col in ("backup", "tier", "decision", "status", "reason"):
            table.add_column(col, overflow="fold")
        for d in figures.get("decisions", []):
            keep = (
                "keep"
                if d.get("keep")
                else ("[red]delete[/]" if apply else "[yellow]would delete[/]")
            )
            table.add_row(
                str(d.get("id")),
                str(d.get("tier")),
                keep,
                str(d.get("status", "")),
                str(d.get("reason", "")),
            )
        out.print(table)
        if figures.get("forensics"):
            ftable = Table(
                header_style="bold",
                title="forensic dumps" + ("" if apply else " (dry run)"),
                title_justify="left",
            )
            for col in ("forensic dump", "database", "decision", "status", "reason"):
                ftable.add_column(col, overflow="fold")
            for d in figures["forensics"]:
                keep = (
                    "keep"
                    if d.get("keep")
                    else ("[red]delete[/]" if apply else "[yellow]would delete[/]")
                )
                ftable.add_row(
                    str(d.get("name")),
                    str(d.get("database")),
                    keep,
                    str(d.get("status", "")),
                    str(d.get("reason", "")),
                )
            out.print(ftable)
        for t in figures.get("temp_files", []):
            out.print(f"temp file {t.get('path')}: {t.get('reason', '')}")
        for s in figures.get("strays", []):
            out.print(f"[yellow]stray[/] {s}")
        for r in figures.get("refused", []):
            out.print(f"[red]refused[/] {r}")
    _finish(outcome, as_json)


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
    if outcome.bad_input:
        from maintenance.cli.render import err

        err.print(f"[red]bad input[/]: {outcome.error_message}")
    raise typer.Exit(outcome.exit_code)
