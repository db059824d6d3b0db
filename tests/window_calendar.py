"""A tiny calendar for tests/integration/test_window_run.py: a weekly window of cheap
steps (``window.run`` with ``calendar=tests.window_calendar``)."""

from __future__ import annotations

import dataclasses

from maintenance.calendar.model import Entry, step
from maintenance.config import Settings

#: cache.stats in the backups slot runs only after db.stats succeeded.
WINDOW_AFTER = {"cache.stats": ("db.stats",)}


def steps(settings: Settings) -> list[Entry]:
    w = "weekly"
    return [
        # listed out of slot order on purpose: the window sorts them by slot
        step("t-verify", "diag.hold", "30 4 * * SUN", w, "Testing & verification", seconds=0.1),
        step("t-stats", "db.stats", "0 2 * * SUN", w, "Database maintenance"),
        step("t-cache", "cache.stats", "30 2 * * SUN", w, "Backup operations"),
        dataclasses.replace(
            step("t-hold", "diag.hold", "30 3 * * SUN", w, "System updates", seconds=0.1),
            disruptive=True,
        ),
        step("t-other", "db.stats", "0 2 * * SAT", "monthly", "Backups"),
    ]
