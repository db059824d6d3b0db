"""``maint demo``: demo data for tests, benchmarks and trying the suite out."""

from __future__ import annotations

import typer

from maintenance import pg
from maintenance.cli.render import err, out, print_json
from maintenance.config import get_settings

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command("seed")
def seed(
    database: str = typer.Option(..., "--database", help="Database to DROP and recreate."),
    scale: float = typer.Option(1.0, "--scale", help="1 is about 50 MB, 20 about 1 GB."),
    rng_seed: int = typer.Option(42, "--seed", help="Random seed: same seed, same data."),
    force: bool = typer.Option(False, "--force", help="Allow the configured production target."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Drop and recreate DATABASE with the scheduler schema and realistic demo data.

    Only the named database is touched, on the server of MAINT_TARGET_DSN. The configured
    target is refused unless --force; the history database is always refused.
    """
    from maintenance.demo.seed import seed as run_seed

    settings = get_settings()
    target = settings.target_dsn.get_secret_value()
    history = settings.history_dsn.get_secret_value()
    refuse = {}
    if pg.server_identity(history) == pg.server_identity(target):
        refuse[pg.dbname(history)] = "the job-history database (MAINT_HISTORY_DSN)"
    report = run_seed(
        target,
        database,
        scale=scale,
        rng_seed=rng_seed,
        refuse=refuse,
        production=pg.dbname(target),
        force=force,
        progress=None if as_json else (lambda msg: err.print(f"[dim]{msg}[/]")),
    )
    if as_json:
        print_json(
            {
                "database": report.database,
                "scale": report.scale,
                "counts": report.counts,
                "size_bytes": report.size_bytes,
                "duration_s": round(report.duration_s, 3),
            }
        )
        return
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    out.print(
        f"seeded {report.database} (scale {report.scale:g}) in {report.duration_s:.1f}s: "
        f"{report.size_bytes / 1e6:.1f} MB; {counts}"
    )
