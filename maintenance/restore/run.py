"""``maint restore BACKUP --target DB``: the playbook's Database Restore Procedures, safe.

Steps, each a row in the history under the run (``maint show RUN``):

1. **verify backup**: size and SHA-256 against the manifest. A bad backup is refused
   before anything is touched.
2. **forensic dump** of the live database into ``BACKUP_ROOT/forensics/`` (playbook,
   Full System Restore, step 2): whatever happens next, the state before is kept.
3. **load** the backup into a new database ``maint_scratch_restore_<random>``.
4. **verify restore**: every table's rows, schema objects, db.stats counts, foreign keys,
   orphans, duplicates, dates. A failure drops the new database; the live one was never
   touched.
5. **confirmation**: ``--yes``, or a person at the terminal. Without it the verified
   copy is dropped and the run is recorded ``skipped``.
6. **stop application** (``MAINT_RESTORE_STOP_APP_CMD``, an argv list), **swap** (the live
   database renamed ``<target>_pre_restore_<time>`` and kept, the restored one renamed
   to the target, connections terminated), **start application**, **health check** of
   the API.

The output is the RESTORE VERIFICATION CHECKLIST, filled in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from maintenance import api, childenv, clock, dbcheck, pg, pgtools, proc, redact
from maintenance.backup import inventory, layout, manifest, proof
from maintenance.backup import verify as backup_verify
from maintenance.backup.inventory import Backup
from maintenance.config import Settings
from maintenance.errors import BadInput, PermanentError, RunSkipped
from maintenance.fs import atomic
from maintenance.fs.temp import temp_path
from maintenance.pgarchive import dump, load
from maintenance.restore import swap
from maintenance.results import CheckStatus, Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes


class HookFailed(PermanentError):
    """A configured hook command failed."""


class RestoreParams(Params):
    backup: layout.BackupRef = Field(
        ..., description="Backup id to restore, or 'latest' (newest verified)."
    )
    target: str | None = Field(None, description="Database to replace (default: the target's own).")
    yes: bool = Field(
        False, description="Swap without asking (required where nobody can be asked)."
    )


def check_target(settings: Settings, target: str) -> str:
    """``target`` if it may be replaced; BadInput naming why not."""
    pg.check_dbname(target)
    dbcheck.refuse_scratch_names(target)
    if swap.is_pre_restore(target):
        raise BadInput(f"{target!r} is a set-aside pre-restore database: restore to the real name")
    if target in ("postgres", "template0", "template1"):
        raise BadInput(f"{target!r} is a built-in database")
    history = settings.history_dsn.get_secret_value()
    target_dsn = settings.target_dsn.get_secret_value()
    if target == pg.dbname(history) and pg.server_identity(history) == pg.server_identity(
        target_dsn
    ):
        raise BadInput(f"{target!r} is the job-history database: never restored over")
    if target not in settings.restorable:
        raise BadInput(
            f"{target!r} is not configured as restorable (MAINT_RESTORE_TARGETS: "
            f"{', '.join(settings.restorable)})"
        )
    return target


def pick(inv: inventory.Inventory, backup_id: str) -> Backup:
    if backup_id == "latest":
        found = inv.latest(verified=True)
        if found is None:
            raise BadInput("there is no verified backup to restore")
        return found
    return inv.get(backup_id)


def hook_context(phase: str, database: str, backup_id: str, run_id: int | None) -> dict[str, str]:
    """What a hook command is told, in its environment (docs/restore.md): the phase
    (``stop`` or ``start``), the database being replaced, the backup, the run. Never a
    DSN, a password or any MAINT_ setting."""
    return {
        "RESTORE_HOOK_PHASE": phase,
        "RESTORE_HOOK_DATABASE": database,
        "RESTORE_HOOK_BACKUP": backup_id,
        "RESTORE_HOOK_RUN_ID": "" if run_id is None else str(run_id),
    }


def run_hook(argv: list[str] | None, timeout_s: float, what: str, context: dict[str, str]) -> str:
    """Run a configured hook command (an argv list, no shell) with the curated child
    environment and ``context`` (:func:`hook_context`); HookFailed if it fails."""
    if not argv:
        return "not configured"
    try:
        done = proc.run(argv, env=childenv.child_env(context), timeout=timeout_s)
    except (OSError, proc.ChildTimeout) as exc:
        raise HookFailed(f"{what}: {redact.scrub(str(exc))}") from None
    if done.returncode != 0:
        out = redact.scrub(done.stdout.decode(errors="replace").strip())
        tail = (done.stderr or out)[-500:]
        raise HookFailed(f"{what}: {argv[0]} exited {done.returncode}: {tail}")
    return f"{argv[0]} exited 0"


def forensic_dump(
    settings: Settings, target: str, moment: datetime, run_id: int | None
) -> dict[str, Any]:
    """Dump the live database into BACKUP_ROOT/forensics (same format as backups)."""
    root = settings.backup_root
    folder = atomic.private_dir(layout.inside(root, layout.forensics_dir(root)))
    name = layout.forensic_name(target, moment)
    final = layout.inside(root, folder / f"{name}{layout.DUMP_SUFFIX}")
    dsn = pg.with_dbname(settings.target_dsn.get_secret_value(), target)
    with pg.connect(dsn) as conn:
        facts = dbcheck.server_facts(conn)
    major = int(str(facts["server_version"]).split(".")[0])
    temp = temp_path(final)
    written = dump.dump_to(
        temp,
        pg_dump=pgtools.find("pg_dump", settings, major),
        dsn=dsn,
        snapshot=None,
        level=settings.backup_compression_level,
        threads=settings.backup_compression_threads,
    )
    record = manifest.ForensicRecord(
        database=target,
        file=final.name,
        size_bytes=written.size_bytes,
        sha256=written.sha256,
        created_at=moment,
        restore_run_id=run_id,
        server_version=str(facts["server_version"]),
    )
    manifest.write(folder / f"{name}{layout.MANIFEST_SUFFIX}", record)
    atomic.commit(temp, final)
    return record.document() | {"path": str(final)}


def restore(ctx: RunContext, params: RestoreParams) -> Result:
    s = ctx.settings
    target = check_target(s, params.target or pg.dbname(s.target_dsn.get_secret_value()))
    server = s.target_dsn.get_secret_value()
    inv = inventory.scan(s.backup_root)
    backup = pick(inv, params.backup)
    data = backup.manifest
    result = Result()
    result.figures = {"backup": backup.id, "target": target}
    t0 = clock.now()

    # PRE-RESTORE
    with ctx.step("verify backup", backup=backup.id) as step:
        found, figures = backup_verify.verify_backup(s, backup, "checksum")
        step.complete(Result(checks=found, figures=figures, summary=f"{backup.id}: checksum"))
    result.checks.extend(found)
    if not backup_verify.passed(found) or data is None:  # a checksum needs the manifest
        result.summary = f"refused: {backup.id} failed its checksum; nothing was changed"
        return result
    result.check(
        "backup file exists and is readable", True, observed=str(backup.path), expected="present"
    )

    live = pg.database_exists(server, target)
    if live:
        with ctx.step("forensic dump", database=target) as step:
            info = forensic_dump(s, target, t0, ctx.run_id)
            step.complete(Result(figures=info, summary=f"{target} -> {info['file']}"))
        result.check(
            "current database dumped for forensics",
            True,
            observed=info["path"],
            expected="BACKUP_ROOT/forensics/",
        )
        result.figures["forensic_dump"] = info
    else:
        result.check(
            "current database dumped for forensics",
            True,
            observed=f"no database {target} to dump",
            expected="BACKUP_ROOT/forensics/",
        )

    # RESTORE PROCESS, into a new database that is dropped unless it is swapped in
    server_major = data.server_major()
    with dbcheck.scratch_database(server, "restore") as new:
        new_dsn = pg.with_dbname(server, new)
        with ctx.step("load", into=new) as step:
            report = load.load(
                backup.path,
                new_dsn,
                settings=s,
                server_major=server_major,
                jobs=s.restore_jobs,
                scratch=False,
            )
            loaded = {
                "duration_s": round(report.duration_s, 3),
                "method": report.method,
                "phases": report.phases,
            }
            step.complete(
                Result(figures=loaded, summary=f"{report.method}, {report.duration_s:.1f}s")
            )
        result.check(
            "no restore errors",
            True,
            observed=f"{report.method} in {report.duration_s:.1f}s",
            expected="pg_restore exit 0",
        )
        verified = Result()
        with ctx.step("verify restore", database=new) as step:
            proof.check_restored(verified, s, data, new_dsn)
            step.complete(Result(checks=verified.checks, summary="restored database checked"))
        result.checks.extend(verified.checks)
        result.figures["load"] = loaded
        if verified.failed:
            result.summary = (
                f"refused: the restored copy of {backup.id} failed its checks; "
                f"it was dropped and {target} was not touched"
            )
            return result

        # confirmation
        question = (
            f"Replace database {target} with {backup.id} (taken {backup.created_at:%Y-%m-%d %H:%M} UTC)? "
            f"The current {target} is kept as {swap.pre_restore_name(target, clock.now())}."
        )
        if not params.yes and not (ctx.confirm and ctx.confirm(question)):
            raise RunSkipped(
                f"not confirmed: {backup.id} was restored and verified, then dropped; "
                f"{target} is unchanged (use --yes or yes=true to swap)"
            )

        # the swap, with the application stopped around it
        hook = (target, backup.id, ctx.run_id)
        try:
            with ctx.step("stop application") as step:
                step.complete(
                    Result(
                        summary=run_hook(
                            s.restore_stop_app_cmd,
                            s.restore_hook_timeout_s,
                            "stop application",
                            hook_context("stop", *hook),
                        )
                    )
                )
        except HookFailed:
            _start_again(ctx, s, hook)  # it may have stopped half of it: bring it back up
            raise
        result.check(
            "system placed in maintenance mode",
            bool(s.restore_stop_app_cmd),
            observed="stop command ran"
            if s.restore_stop_app_cmd
            else "no stop command configured: the application kept running",
            expected="MAINT_RESTORE_STOP_APP_CMD",
            warn_only=True,
        )
        try:
            with ctx.step("swap", target=target, restored=new) as step:
                aside = swap.swap(server, target, new, clock.now())
                step.complete(Result(summary=f"{target} -> {aside or '(none)'}; {new} -> {target}"))
        except BaseException:
            _start_again(ctx, s, hook)
            raise
    result.check(
        "all connections closed and databases swapped",
        True,
        observed=f"{target} is the restored copy; the previous one is kept as {aside or '(none existed)'}",
        expected="previous database kept under a _pre_restore_ name",
    )
    result.figures["pre_restore_database"] = aside

    # APPLICATION VERIFICATION
    start_error = _start_again(ctx, s, hook)
    result.check(
        "application started",
        start_error is None,
        observed=start_error
        or ("start command ran" if s.restore_start_app_cmd else "no start command configured"),
        expected="exit 0",
    )
    if s.restore_health_path:
        with ctx.step("health check") as step:
            health = api.wait_healthy(
                s.api_url, s.restore_health_path, within_s=s.restore_health_timeout_s
            )
            checked = Result(summary=health.observed)
            checked.check(
                "API responds to requests",
                health.ok,
                observed=health.observed,
                expected=f"healthy at {s.api_url}{s.restore_health_path}",
            )
            step.complete(checked)
        result.checks.extend(checked.checks)
    else:
        result.check(
            "API responds to requests",
            False,
            observed="not checked (MAINT_RESTORE_HEALTH_PATH is empty)",
            expected="a health endpoint",
            warn_only=True,
        )
    done = clock.now()
    result.figures["duration_s"] = round((done - t0).total_seconds(), 3)
    result.figures["backup_age_s"] = round((t0 - backup.created_at).total_seconds(), 1)
    failed = [c.name for c in result.checks if c.status is CheckStatus.FAIL]
    result.summary = (
        f"{target} restored from {backup.id} ({human_bytes(backup.size_bytes)}) in "
        f"{result.figures['duration_s']:.0f}s; previous kept as {aside or '(none)'}"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return result


def _start_again(ctx: RunContext, s: Settings, hook: tuple[str, str, int | None]) -> str | None:
    """Start the application; return the error, if any (the run then fails loudly)."""
    try:
        with ctx.step("start application") as step:
            step.complete(
                Result(
                    summary=run_hook(
                        s.restore_start_app_cmd,
                        s.restore_hook_timeout_s,
                        "start application",
                        hook_context("start", *hook),
                    )
                )
            )
    except HookFailed as exc:
        return str(exc)
    return None
