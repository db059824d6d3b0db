"""``maint metrics``: the suite's Prometheus metrics (docs/metrics.md), read from the
job-history database: ``serve`` them over HTTP, or print the page once."""

from __future__ import annotations

import sys

import typer

from maintenance.cli.render import err
from maintenance.config import get_settings
from maintenance.metrics import server

app = typer.Typer(
    help="Prometheus metrics from the job history: serve them, or print them once.",
    invoke_without_command=True,
)


@app.callback()
def metrics(ctx: typer.Context) -> None:
    """Prometheus metrics from the job history (without a verb: print the page once)."""
    if ctx.invoked_subcommand is None:
        dump()


@app.command("dump")
def dump() -> None:
    """Print the metrics page once (the Prometheus text format) and exit."""
    sys.stdout.write(server.exposition(get_settings()))


@app.command("serve")
def serve(
    host: str | None = typer.Option(
        None, "--host", help="Address to listen on (default MAINT_METRICS_HOST)."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default MAINT_METRICS_PORT)."
    ),
) -> None:
    """Serve /metrics over HTTP until stopped; each scrape reads the history."""
    settings = get_settings()

    def ready(address: str, bound: int) -> None:
        err.print(f"serving metrics on http://{address}:{bound}/metrics")

    try:
        server.serve(
            settings,
            host or settings.metrics_host,
            port or settings.metrics_port,
            ready=ready,
        )
    except OSError as exc:  # the port is taken, the address is not ours
        err.print(f"[red]error[/]: cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
