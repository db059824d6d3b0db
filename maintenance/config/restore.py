"""Restores and drills: what `maint restore` may replace, its hooks, its speed, the
checks of a restored copy, and the objectives a drill is held to."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from maintenance.config._base import Section


class RestoreSection(Section):
    TITLE = "Restores and drills"

    restore_targets: list[str] | None = Field(
        None,
        description="Databases `maint restore` may replace; default: only the target's own.",
    )
    restore_stop_app_cmd: list[str] | None = Field(
        None, description="argv run before the swap to stop the application (no shell)."
    )
    restore_start_app_cmd: list[str] | None = Field(
        None, description="argv run after the swap to start the application again."
    )
    restore_hook_timeout_s: float = Field(300, gt=0, description="Time limit of each hook command.")
    restore_jobs: int = Field(
        2,
        ge=1,
        le=64,
        description="Parallel COPY streams and index builds of a restore (the server's cores).",
    )
    restore_health_path: str = Field(
        "/api/health",
        description="Health endpoint of MAINT_API_URL probed after a restore; empty: not probed.",
    )
    restore_health_timeout_s: float = Field(
        120, ge=0, description="How long to wait for the API to report healthy after a restore."
    )
    restore_rto_objective_s: float = Field(
        3600, gt=0, description="Recovery time objective: a drill slower than this fails."
    )
    restore_rpo_objective_s: float = Field(
        26 * 3600, gt=0, description="Recovery point objective: a drill on an older backup fails."
    )
    integrity_checks: dict[str, str] | None = Field(
        None,
        description="Checks of a restored copy (restore.run, restore.drill, restore-level "
        "verification), name -> SQL returning a count of violations; default: the scheduler "
        "schema's orphan, duplicate and date checks (maintenance/schema.py).",
    )

    @field_validator("restore_stop_app_cmd", "restore_start_app_cmd")
    @classmethod
    def _argv(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(isinstance(a, str) and a for a in value)):
            raise ValueError(
                'must be a JSON list of arguments, e.g. ["docker", "compose", "stop", "backend"]'
            )
        return value

    @field_validator("restore_targets")
    @classmethod
    def _targets(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for name in value:
                if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", name):
                    raise ValueError(f"{name!r} is not a plain database name")
        return value
