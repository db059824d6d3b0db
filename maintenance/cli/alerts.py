"""``maint alerts``: ``list`` shows the open alerts, the held ones and the latest messages
with their delivery (docs/alerts.md); ``test`` sends one test message through every
configured channel (the ``alerts.test`` task, in this process, recorded like ``maint
run``; docs/notices.md)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import RenderableType

from maintenance.alerts import store as alert_store
from maintenance.alerts.rules import WORDS
from maintenance.cli.fit import Column, Grid, one_line
from maintenance.cli.render import compact, out, print_json, status_text
from maintenance.cli.verb import run_task
from maintenance.config import get_settings

app = typer.Typer(
    help="Alerts: what is open and what was sent; their channels.", no_args_is_help=True
)

_JSON = typer.Option(False, "--json", help="Print the run as JSON.")


@app.command("test")
def send_test(as_json: bool = _JSON) -> None:
    """Send one test message through every configured channel (webhook, e-mail); each
    channel's result is a line of the checklist. Exit 1 if a channel failed or none is
    configured."""
    run_task("alerts.test", {}, as_json, _no_tables)


def _no_tables(figures: dict[str, Any]) -> list[RenderableType]:
    return []  # the checklist has one line per channel


@app.command("list")
def list_alerts(
    as_json: bool = typer.Option(False, "--json", help="Print the alerts and messages as JSON."),
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="How many messages to list."),
) -> None:
    """Open alerts (what was last announced for each component that is not healthy), the
    ones a maintenance window holds, and the latest messages with their delivery."""
    settings = get_settings()
    dsn = settings.history_dsn.get_secret_value()
    zone = settings.zone
    alerts = alert_store.open_alerts(dsn)
    sent = alert_store.recent_notifications(dsn, limit)
    if as_json:
        print_json(
            {
                "open": [
                    {
                        "key": a.key,
                        "status": a.notified_status,
                        "notified_at": a.notified_at.isoformat(),
                        "opened_at": a.opened_at.isoformat() if a.opened_at else None,
                        "held_since": a.held_since.isoformat() if a.held_since else None,
                        "detail": a.detail,
                    }
                    for a in alerts
                ],
                "notifications": [
                    {
                        "id": n.id,
                        "created_at": n.created_at.isoformat(),
                        "kind": n.kind,
                        "severity": n.severity,
                        "channel": n.channel,
                        "status": n.status,
                        "attempts": n.attempts,
                        "subject": n.subject,
                        "dedup_key": n.dedup_key,
                        "error": n.error,
                        "run_id": n.run_id,
                    }
                    for n in sent
                ],
            }
        )
        return
    if alerts:
        rows: list[Any] = []
        for a in alerts:
            # a held alert was never sent: its reason says what was seen and which window
            # holds it
            state = "held" if a.held_since else WORDS.get(a.notified_status, a.notified_status)
            rows.append(
                [
                    a.key,
                    status_text(state),
                    compact(a.opened_at or a.notified_at, zone),
                    compact(a.notified_at, zone),
                    one_line(str((a.detail or {}).get("reason", ""))),
                ]
            )
        out.print(
            Grid(
                [
                    Column("alert"),
                    Column("state"),
                    Column("since"),
                    Column("notified"),
                    Column("why", flex=True),
                ],
                rows,
                title=f"open alerts (times in {zone.key})",
            )
        )
    else:
        out.print("no open alert: every component was last announced healthy")
    if sent:
        out.print(
            Grid(
                [
                    Column("id", right=True),
                    Column("when"),
                    Column("channel"),
                    Column("status"),
                    Column("tries", right=True),
                    Column("subject", flex=True),
                ],
                [
                    [
                        str(n.id),
                        compact(n.created_at, zone),
                        n.channel,
                        status_text("failed" if n.status == "failed" else n.status),
                        str(n.attempts),
                        one_line(n.subject + (f" — {n.error}" if n.error else "")),
                    ]
                    for n in sent
                ],
                title="latest messages",
            )
        )
    else:
        out.print("no message sent yet")
