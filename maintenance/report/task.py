"""``report.monthly`` (build, keep and send a month's report) and ``report.approve`` (a
sign-off, recorded in the history; the report is rendered again with it).

The report reads the sign-offs of its month when it is built, so a rebuild keeps them;
an approval renders the kept report again from its JSON (the data that was signed, not a
new reading of the history) with the sign-off lines filled in.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from maintenance import clock
from maintenance.errors import BadInput
from maintenance.logs_setup import get_logger
from maintenance.notify.deliver import configured_channels, send
from maintenance.notify.message import Attachment, Message, Severity
from maintenance.report import build, facts, files, html
from maintenance.report import common as report_common
from maintenance.report import month as report_month
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

log = get_logger("maint.report")


class MonthlyParams(Params):
    month: str | None = Field(
        None, description="The month (YYYY-MM); default: the previous month in MAINT_TIMEZONE."
    )
    send: bool = Field(
        True, description="Send it through the notification channels (MAINT_REPORT_SEND too)."
    )

    @field_validator("month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None:
            report_month.parse_month(value)
            return value.strip()
        return value


class ApproveParams(Params):
    month: str = Field(..., description="The month whose report is signed (YYYY-MM).")
    by: str = Field(..., min_length=1, max_length=200, description="Who signs (a name).")
    role: Literal["verified", "approved"] = Field(
        "approved",
        description="verified (the playbook's Verified By: the backup administrator) or "
        "approved (Approved By: the IT manager).",
    )
    note: str | None = Field(None, max_length=2000, description="A note kept with the sign-off.")

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        report_month.parse_month(value)
        return value.strip()

    @field_validator("by")
    @classmethod
    def _by(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name who signs")
        return value.strip()


def render(settings: Any, data: dict[str, Any]) -> str:
    # matplotlib is imported when a report is drawn, not by every `maint` command and
    # worker that loads the catalog
    from maintenance.report import charts

    return html.render(data, charts.all_charts(data), max_rows=settings.report_max_rows)


def monthly(ctx: RunContext, params: MonthlyParams) -> Result:
    s = ctx.settings
    now = clock.now()
    month = params.month or report_month.previous_month(now, s.zone)
    start, end = report_month.span(month, s.zone)
    dsn = s.history_dsn.get_secret_value()
    found = facts.read(dsn, month, start, end)
    data = build.build(
        found,
        report_common.Context(
            month=month,
            zone=s.timezone,
            generated_at=now,
            run_id=ctx.run_id,
            rto_objective_s=s.restore_rto_objective_s,
            rpo_objective_s=s.restore_rpo_objective_s,
            sample_retention_days=s.health_sample_retention_days,
        ),
    )
    page = render(s, data)
    html_path, json_path = files.write(s, month, data, page)
    result = Result()
    result.check(
        "report written", True, observed=str(html_path), expected="a file under MAINT_REPORT_DIR"
    )
    absent = [
        key
        for key in ("windows", "backups", "drills", "health", "upkeep", "security", "capacity")
        if data[key].get("missing")
    ]
    h = data["headline"]
    summary = (
        f"{month}: {h['windows']} windows, {h['runs']} runs, {h['failures']} failures "
        f"({h['unresolved_failures']} unresolved), {h['backups']} backups "
        f"({human_bytes(h['backup_bytes'])}), {h['drills']} drills, {h['incidents']} incidents"
    )
    deliveries: list[dict[str, Any]] = []
    if params.send and s.report_send and configured_channels(s):
        message = _message(data, summary, absent, page, html_path, ctx.run_id)
        for d in send(s, message):
            deliveries.append(d.to_dict())
            result.check(
                f"sent by {d.channel}",
                d.ok,
                observed="already sent" if d.skipped else (d.error or "sent"),
                expected="delivered",
                warn_only=True,
            )
    result.figures = {
        "month": month,
        "html": str(html_path),
        "json": str(json_path),
        "headline": h,
        "not_found": absent,
        "deliveries": deliveries,
    }
    result.summary = summary + (f"; not found: {', '.join(absent)}" if absent else "")
    return result


def _message(
    data: dict[str, Any],
    summary: str,
    absent: list[str],
    page: str,
    html_path: Any,
    run_id: int | None,
) -> Message:
    h = data["headline"]
    critical = h["unresolved_failures"] or h["drills_missing_objective"]
    lines = [
        f"The maintenance report for {data['month']} is ready.",
        summary + ".",
        f"Kept at {html_path} (and .json beside it); the HTML is attached to the e-mail.",
        f"Sign it off with: maint report approve {data['month']} --by NAME",
    ]
    if absent:
        lines.append("Not found in the history this month: " + ", ".join(absent) + ".")
    return Message(
        kind="report",
        severity=Severity.WARNING if critical else Severity.INFO,
        subject=f"Maintenance report {data['month']}",
        text="\n".join(lines),
        fields=(
            ("failures", str(h["failures"])),
            ("unresolved", str(h["unresolved_failures"])),
            ("backups", str(h["backups"])),
            ("drills", str(h["drills"])),
            ("incidents", str(h["incidents"])),
        ),
        dedup_key=f"report:{data['month']}:run:{run_id}" if run_id is not None else None,
        run_id=run_id,
        attachments=(Attachment(files.filename(data["month"]), "text/html", page.encode()),),
    )


def approve(ctx: RunContext, params: ApproveParams) -> Result:
    s = ctx.settings
    kept = files.read(s, params.month)
    if kept is None:
        html_path, _ = files.paths(s, params.month)
        raise BadInput(
            f"no report for {params.month} has been built (no {html_path.with_suffix('.json')}): "
            f"build it first with `maint report build {params.month}`"
        )
    data, sha = kept, files.fingerprint(kept)
    dsn = s.history_dsn.get_secret_value()
    now = clock.now()
    generated = data.get("generated_at")
    approval_id = facts.record_approval(
        dsn,
        facts.NewApproval(
            month=params.month,
            role=params.role,
            by=params.by,
            at=now,
            note=params.note,
            report_sha256=sha,
            report_generated_at=report_common.parse_instant(generated) if generated else None,
            run_id=ctx.run_id,
        ),
    )
    data["approvals"] = build.latest_approvals(facts.approvals(dsn, params.month))
    html_path, _ = files.write(s, params.month, data, render(s, data))
    result = Result()
    result.check(
        "sign-off recorded",
        True,
        observed=f"approval {approval_id}",
        expected="a row in report_approvals",
    )
    result.figures = {
        "month": params.month,
        "approval_id": approval_id,
        "role": params.role,
        "by": params.by,
        "at": now.isoformat(),
        "report_sha256": sha,
        "html": str(html_path),
        "sign_offs": len(data["approvals"]["history"]),
    }
    result.summary = (
        f"{params.month}: {params.role} by {params.by} at {now.isoformat(timespec='seconds')} "
        f"(sign-off {len(data['approvals']['history'])} of this report; {html_path} rendered again)"
    )
    return result
