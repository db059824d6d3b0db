"""What db.reindex and db.optimize report of their rebuilds, in one shape: each row a
relation with ``status`` (``rebuilt``, ``failed`` and ``why``, ...) and its bytes before
and after."""

from __future__ import annotations

from typing import Any

from maintenance.results import Result


def rebuilt_check(
    result: Result, rows: list[dict[str, Any]], key: str, noun: str
) -> list[dict[str, Any]]:
    """Add the ``bloated <noun>s rebuilt`` check (a failed rebuild warns: nothing was
    changed by it); return the failed rows."""
    failed = [r for r in rows if r["status"] == "failed"]
    result.check(
        f"bloated {noun}s rebuilt",
        not failed,
        observed=f"{len(rows) - len(failed)} of {len(rows)}"
        + (f"; failed {', '.join(r[key] for r in failed)}" if failed else ""),
        expected=f"every {noun} over the bloat threshold",
        warn_only=True,
        detail="; ".join(f"{r[key]}: {r['why']}" for r in failed) or None,
    )
    return failed


def shrunk_bytes(rows: list[dict[str, Any]]) -> int:
    """Bytes the rebuilt rows gave back."""
    return sum(
        max(0, (r["bytes_before"] or 0) - (r["bytes_after"] or 0))
        for r in rows
        if r["status"] == "rebuilt"
    )
