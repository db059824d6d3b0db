"""The report's charts, drawn by matplotlib (Agg, no display) into SVG text that the HTML
carries inline: no file beside it, no script, nothing fetched.

Each function takes a section of the report's data and returns the ``<svg>`` element,
or None when there is nothing to draw (the HTML then says "not found").
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

TIER_COLOURS = {"daily": "#1f77b4", "weekly": "#ff7f0e", "monthly": "#2ca02c"}


def _tier(item: dict[str, Any]) -> str:
    """A backup's tier as a series name: one of the three, or "other" (a label is never
    taken from a parameter as it was typed)."""
    tier = item.get("tier")
    return tier if tier in TIER_COLOURS else "other"


_RC: dict[Any, Any] = {
    "svg.fonttype": "path",  # text as paths: no font needed where it is opened
    "text.parse_math": False,  # a "$" in a name is a dollar sign, not TeX
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _x(items: list[dict[str, Any]]) -> Any:
    """The items' start times as matplotlib's date numbers."""
    return mdates.date2num([_when(b["started_at"]) for b in items])


def _svg(fig: Figure, name: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog), its ids unique to
    ``name`` so that several charts in one page do not share clip paths."""
    buf = io.StringIO()
    salt: dict[Any, Any] = {"svg.hashsalt": f"maint-report-{name}"}
    with matplotlib.rc_context(salt):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    # the prolog and the RDF metadata block name outside namespaces; neither is needed
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.find("<svg") :], flags=re.S)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" data-chart="{name}" ', 1)


def backup_sizes(backups: dict[str, Any]) -> str | None:
    """Size of each backup made, over the month, one series per tier."""
    made = [b for b in backups.get("items", []) if b.get("size_bytes") is not None]
    if not made:
        return None
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(10, 3.2))
        for tier in sorted({_tier(b) for b in made}):
            pts = [b for b in made if _tier(b) == tier]
            ax.plot(
                _x(pts),
                [b["size_bytes"] / 1e6 for b in pts],
                marker="o",
                markersize=3,
                label=tier,
                color=TIER_COLOURS.get(tier),
            )
        ax.set_ylabel("size (MB)")
        ax.set_title("Backup size")
        ax.legend(loc="best", frameon=False)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        return _svg(fig, "backup-size")


def backup_durations(backups: dict[str, Any]) -> str | None:
    """How long each backup run took (the run's duration, verification included)."""
    runs = [b for b in backups.get("items", []) if b.get("duration_s") is not None]
    if not runs:
        return None
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(10, 3.2))
        made = [b for b in runs if b.get("status") == "succeeded"]
        for tier in sorted({_tier(b) for b in made}):
            pts = [b for b in made if _tier(b) == tier]
            ax.plot(
                _x(pts),
                [b["duration_s"] for b in pts],
                marker="o",
                markersize=3,
                label=tier,
                color=TIER_COLOURS.get(tier),
            )
        failed = [b for b in runs if b.get("status") != "succeeded"]
        if failed:
            ax.scatter(
                _x(failed),
                [b["duration_s"] for b in failed],
                marker="x",
                color="#d62728",
                zorder=3,
                label="failed",
            )
        ax.set_ylabel("duration (s)")
        ax.set_title("Backup duration")
        ax.legend(loc="best", frameon=False)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        return _svg(fig, "backup-duration")


def drill_rto(drills: dict[str, Any]) -> str | None:
    """RTO of each drill against its objective (a red bar missed it)."""
    items = [d for d in drills.get("items", []) if d.get("rto_s") is not None]
    if not items:
        return None
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(10, 3.2))
        labels = [f"{d['started_at'][:10]}\nrun {d['run_id']}" for d in items]
        colours = ["#2ca02c" if d.get("rto_met") else "#d62728" for d in items]
        ax.bar(labels, [d["rto_s"] for d in items], color=colours)
        objectives = {d["rto_objective_s"] for d in items if d.get("rto_objective_s")}
        for obj in sorted(objectives):
            ax.axhline(obj, color="#555555", linestyle="--", linewidth=1)
            ax.annotate(f"objective {obj:g} s", (0, obj), xytext=(2, 2), textcoords="offset points")
        ax.set_ylabel("RTO (s)")
        ax.set_title("Restore drills: recovery time")
        return _svg(fig, "drill-rto")


def uptime(health: dict[str, Any]) -> str | None:
    """Uptime per component: the share of samples not failing, and fully healthy."""
    comps = [c for c in health.get("components", []) if c.get("uptime_pct") is not None]
    if not comps:
        return None
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(10, 1.0 + 0.45 * len(comps)))
        names = [c["component"] for c in comps]
        ax.barh(names, [c["uptime_pct"] for c in comps], color="#9ecae1", label="up (not failing)")
        ax.barh(names, [c["healthy_pct"] for c in comps], color="#3182bd", label="healthy (pass)")
        for y, c in enumerate(comps):
            ax.annotate(
                f"{c['uptime_pct']:.2f}%",
                (c["uptime_pct"], y),
                xytext=(3, -3),
                textcoords="offset points",
            )
        # a scale that shows 99.6 % apart from 100 %, down to 0 when it must
        low = min(c["healthy_pct"] for c in comps)
        floor = 0.0 if low < 50 else max(0.0, 10 * int((low - 1) // 10))
        ax.set_xlim(floor, 100 + (100 - floor) * 0.08)
        ax.invert_yaxis()
        ax.set_xlabel("% of samples")
        ax.set_title("Health: uptime per component")
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=2, frameon=False, fontsize=7
        )
        return _svg(fig, "uptime")


def all_charts(data: dict[str, Any]) -> dict[str, str | None]:
    return {
        "backup_size": backup_sizes(data["backups"]),
        "backup_duration": backup_durations(data["backups"]),
        "drill_rto": drill_rto(data["drills"]),
        "uptime": uptime(data["health"]),
    }
