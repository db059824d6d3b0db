"""Database upkeep (docs/upkeep.md): db.vacuum_analyze, db.reindex, db.report, db.optimize,
and the pre-check of the sessions on the target database that every one of them (and
backup.create, as a checklist item) runs first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import Field, field_validator, model_validator

from maintenance.config._base import Section

#: What an upkeep statement is, for its timeouts (maintenance.upkeep.session).
STATEMENT_KINDS = ("read", "vacuum", "analyze", "reindex", "drop_index", "rebuild")

_LOCK_MS = {k: 1000 for k in STATEMENT_KINDS}
_STATEMENT_S = {
    "read": 60.0,
    "vacuum": 3600.0,
    "analyze": 600.0,
    "reindex": 3600.0,
    "drop_index": 600.0,
    "rebuild": 7200.0,
}


class UpkeepSection(Section):
    TITLE = "Database upkeep"

    upkeep_lock_timeout_ms: dict[str, int] = Field(
        default_factory=lambda: dict(_LOCK_MS),
        description="JSON object, statement kind -> lock_timeout (ms) set before each upkeep "
        "statement of that kind (read, vacuum, analyze, reindex, drop_index, rebuild); kinds "
        "left out keep their default. The application's statements queue behind a lock an "
        "upkeep statement waits for, so this bounds how long they can be held up.",
    )
    upkeep_statement_timeout_s: dict[str, float] = Field(
        default_factory=lambda: dict(_STATEMENT_S),
        description="JSON object, statement kind -> statement_timeout (s) of each upkeep "
        "statement of that kind; kinds left out keep their default.",
    )
    upkeep_idle_in_transaction_s: float = Field(
        300,
        ge=0,
        description="Pre-check: a session idle in a transaction for longer than this blocks "
        "the start of every upkeep task (it holds back vacuum and blocks concurrent "
        "reindexes); backup.create warns.",
    )
    upkeep_lock_hold_s: float = Field(
        60,
        ge=0,
        description="Pre-check: a session whose transaction has held a lock that conflicts "
        "with VACUUM (SHARE UPDATE EXCLUSIVE or stronger) on a table for longer than this "
        "blocks the start.",
    )
    upkeep_lock_wait_s: float = Field(
        10,
        ge=0,
        description="Pre-check: a session that has waited for a lock for longer than this "
        "names the session it waits for, which blocks the start.",
    )

    upkeep_reindex_bloat_ratio: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="db.reindex rebuilds a B-tree index whose estimated bloat is at least this "
        "share of it (and at least MAINT_UPKEEP_REINDEX_MIN_BYTES).",
    )
    upkeep_reindex_min_bytes: int = Field(
        1 << 20,
        ge=0,
        description="db.reindex leaves an index alone whose estimated bloat is under this "
        "many bytes, whatever its share.",
    )
    upkeep_optimize_bloat_ratio: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="db.optimize rebuilds a table whose estimated bloat is at least this share "
        "of it (and at least MAINT_UPKEEP_OPTIMIZE_MIN_BYTES).",
    )
    upkeep_optimize_min_bytes: int = Field(
        8 << 20,
        ge=0,
        description="db.optimize leaves a table alone whose estimated bloat is under this many "
        "bytes, whatever its share.",
    )
    upkeep_pg_repack: str | None = Field(
        "pg_repack",
        description="The pg_repack client db.optimize uses (a name on PATH or a path) when its "
        "extension exists in the target database; empty: always VACUUM FULL.",
    )

    upkeep_dead_tuples_warn_ratio: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="db.report warns for a table (of 1,000 dead tuples or more) whose dead "
        "share is at least this.",
    )
    upkeep_xid_warn_ratio: float = Field(
        1.0,
        gt=0,
        description="db.report warns when the database's transaction-ID age reaches this "
        "multiple of autovacuum_freeze_max_age (autovacuum should have frozen it by then).",
    )
    upkeep_xid_fail_ratio: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="db.report fails when the transaction-ID age reaches this share of the "
        "2^31 wraparound limit (at the limit PostgreSQL stops accepting writes).",
    )
    upkeep_cache_hit_warn_ratio: float = Field(
        0.95,
        ge=0,
        le=1,
        description="db.report warns when the database's buffer cache hit ratio (since the "
        "statistics were reset) is below this.",
    )
    upkeep_connections_warn_ratio: float = Field(
        0.8,
        gt=0,
        le=1,
        description="db.report warns when client connections reach this share of "
        "max_connections minus the superuser-reserved ones.",
    )

    @field_validator("upkeep_pg_repack", mode="before")
    @classmethod
    def _upkeep_repack(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("upkeep_lock_timeout_ms")
    @classmethod
    def _upkeep_lock_ms(cls, value: dict[str, int]) -> dict[str, int]:
        _known_kinds(value)
        for kind, ms in value.items():
            if not 1 <= ms <= 600_000:
                raise ValueError(f"{kind}: lock_timeout must be 1..600000 ms, got {ms}")
        return {**_LOCK_MS, **value}

    @field_validator("upkeep_statement_timeout_s")
    @classmethod
    def _upkeep_statement_s(cls, value: dict[str, float]) -> dict[str, float]:
        _known_kinds(value)
        for kind, s in value.items():
            if not 0 < s <= 86_400:
                raise ValueError(f"{kind}: statement_timeout must be within (0, 86400] s, got {s}")
        return {**_STATEMENT_S, **value}

    @model_validator(mode="after")
    def _upkeep_lock_below_statement(self) -> Self:
        for kind in STATEMENT_KINDS:
            if self.upkeep_lock_timeout_ms[kind] / 1000 > self.upkeep_statement_timeout_s[kind]:
                raise ValueError(
                    f"MAINT_UPKEEP_LOCK_TIMEOUT_MS[{kind}] exceeds its statement timeout "
                    f"MAINT_UPKEEP_STATEMENT_TIMEOUT_S[{kind}]"
                )
        return self


def _known_kinds(value: Mapping[str, object]) -> None:
    unknown = sorted(set(value) - set(STATEMENT_KINDS))
    if unknown:
        raise ValueError(
            f"unknown statement kind(s) {', '.join(unknown)} (known: {', '.join(STATEMENT_KINDS)})"
        )
