"""Celery beat's leadership and dispatch claims (docs/beat.md): how often a standby asks
for leadership, the lock's name, what counts as on time."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from maintenance.config._base import Section


class BeatSection(Section):
    TITLE = "Beat"

    beat_poll_interval_s: float = Field(
        10.0,
        gt=0,
        le=30,
        description="How often a standby beat asks for leadership, and the longest the "
        "leader goes without checking its lock's session. A dead leader is replaced within "
        "this plus the server's keepalive (25 s) when its host dies, within this when only "
        "its process died (at most 30: takeover stays under 60 s).",
    )
    beat_lock_name: str = Field(
        "beat-leader",
        description="The advisory lock beats contend for (in the history database). Beats "
        "that must exclude each other share it; a second suite on the same history "
        "database would need its own.",
    )
    beat_on_time_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="An occurrence sent this long after its due instant still counts as "
        "on time; a later one is a catch-up, sent only if its entry's catch-up policy "
        "allows it (otherwise recorded missed).",
    )

    @field_validator("beat_lock_name")
    @classmethod
    def _beat_lock_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}", value):
            raise ValueError("letters, digits and _ . : - only, at most 63 characters")
        return value
