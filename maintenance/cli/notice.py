"""``maint notice``: the maintenance-window notices (docs/notices.md).

``send KIND`` runs the ``notice.KIND`` task in this process (recorded like ``maint run``;
a notice already sent is not sent again unless ``-p force=true``); ``preview KIND``
renders it with the same parameters and sends nothing.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import RenderableType
from rich.text import Text

from maintenance import catalog
from maintenance.cli.render import out, print_json
from maintenance.cli.run import parse_pairs
from maintenance.cli.verb import run_task
from maintenance.config import get_settings
from maintenance.errors import BadInput
from maintenance.notify import configured_channels
from maintenance.notify import tasks as notify_tasks
from maintenance.notify.notices import NoticeKind

app = typer.Typer(help="Maintenance-window notices: send, preview.", no_args_is_help=True)

KINDS = ", ".join(k.value for k in NoticeKind)
_KIND = typer.Argument(..., metavar="KIND", help=f"One of: {KINDS}.", show_default=False)
_DATE = typer.Option(None, "--date", metavar="YYYY-MM-DD", help="The window's date.")
_PARAMS = typer.Option(
    [], "-p", "--param", metavar="KEY=VALUE", help="A parameter of the notice; repeatable."
)


def kind_of(name: str) -> NoticeKind:
    try:
        return NoticeKind(name.strip().lower().replace("-", "_"))
    except ValueError:
        raise BadInput(f"unknown notice {name!r} (known: {KINDS})") from None


def _params(date: str | None, pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = parse_pairs(pairs)
    if date is not None:
        if "date" in params:
            raise BadInput("give the date once: --date or -p date=")
        params["date"] = date
    return params


@app.command("send")
def send(
    kind: str = _KIND,
    date: str | None = _DATE,
    params: list[str] = _PARAMS,
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Send a notice now through every configured channel (once per window: -p
    force=true sends it again)."""
    notice = kind_of(kind)
    run_task(f"notice.{notice.value}", _params(date, params), as_json, _notice_tables)


@app.command("preview")
def preview(
    kind: str = _KIND,
    date: str | None = _DATE,
    params: list[str] = _PARAMS,
    as_json: bool = typer.Option(False, "--json", help="Print the notice as JSON."),
) -> None:
    """Render a notice as it would be sent now; send nothing, record nothing."""
    notice_kind = kind_of(kind)
    settings = get_settings()
    spec = catalog.get(f"notice.{notice_kind.value}")
    parsed = spec.parse(_params(date, params))
    notice = notify_tasks.render(notice_kind, parsed, settings)
    channels = configured_channels(settings)
    if as_json:
        print_json(
            {
                "kind": notice.kind.value,
                "window": notice.window.value,
                "date": notice.date.isoformat(),
                "start": notice.start.isoformat(),
                "end": notice.end.isoformat(),
                "subject": notice.subject,
                "text": notice.text,
                "fields": dict(notice.fields),
                "dedup_key": notice.dedup_key,
                "channels": channels,
            }
        )
        return
    out.print(Text(f"Subject: {notice.subject}", style="bold"))
    out.print()
    out.print(Text(notice.text.rstrip("\n")))
    out.print()
    out.print(
        Text(
            f"dedup key {notice.dedup_key}; would go to: {', '.join(channels) or 'no channel'}"
            f" (preview: nothing sent)",
            style="dim",
        )
    )


def _notice_tables(figures: dict[str, Any]) -> list[RenderableType]:
    notice = figures.get("notice") or {}
    if not notice:
        return []
    return [Text(f"subject: {notice.get('subject')}\ndedup key: {notice.get('dedup_key')}")]
