"""Server end of life: the shipped table (``eol.json``, dated) and the verdict (pure).

A server past its release line's end of life fails; within ``warn_days`` of it warns; a
release line the table does not know warns (look it up, and add it); a table written
more than a year ago warns that it is stale. Update ``eol.json`` (its ``written`` date
too) when a new major ships: docs/security.md says how.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

from maintenance.results import CheckStatus

#: Older than this, the table itself warns.
STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class Table:
    written: date
    products: dict[str, dict[str, Any]]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        products = {k: v for k, v in data.items() if isinstance(v, dict) and "releases" in v}
        return cls(date.fromisoformat(data["written"]), products)

    def end_of(self, product: str, line: str) -> tuple[bool, date | None]:
        """(whether the table knows the release line, its end of life or None)."""
        releases = self.products.get(product, {}).get("releases", {})
        if line not in releases:
            return False, None
        value = releases[line]
        return True, date.fromisoformat(value) if value else None

    def source(self, product: str) -> str:
        return str(self.products.get(product, {}).get("source", "?"))


def load() -> Table:
    """The table shipped with the suite."""
    text = resources.files("maintenance.security").joinpath("eol.json").read_text("utf-8")
    return Table.from_dict(json.loads(text))


def release_line(product: str, version: str) -> str:
    """``15`` for PostgreSQL 15.8 (majors since 10), ``7.2`` for Redis 7.2.4."""
    parts = version.split(".")
    if product == "postgresql":
        return parts[0]
    return ".".join(parts[:2])


def postgres_version(server_version_num: int) -> str:
    """``150008`` -> ``15.8``."""
    return f"{server_version_num // 10000}.{server_version_num % 10000}"


@dataclass(frozen=True)
class Verdict:
    product: str
    server: str
    version: str
    line: str
    end_of_life: date | None
    known: bool
    status: CheckStatus
    observed: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "server": self.server,
            "version": self.version,
            "line": self.line,
            "end_of_life": self.end_of_life.isoformat() if self.end_of_life else None,
            "known": self.known,
            "status": self.status.value,
            "observed": self.observed,
        }


def assess(
    table: Table, product: str, server: str, version: str, now: datetime, warn_days: int
) -> Verdict:
    """Where ``version`` of ``product`` stands on ``now``'s date (pure)."""
    line = release_line(product, version)
    known, end = table.end_of(product, line)
    today = now.date()
    if not known:
        status, seen = CheckStatus.WARN, f"{line}: not in the table (written {table.written})"
    elif end is None:
        status, seen = CheckStatus.PASS, f"{line}: supported, no end of life announced"
    elif end <= today:
        status, seen = (
            CheckStatus.FAIL,
            f"{line}: end of life {end} ({(today - end).days} days ago)",
        )
    elif (end - today).days <= warn_days:
        status, seen = CheckStatus.WARN, f"{line}: end of life {end}, in {(end - today).days} days"
    else:
        status, seen = CheckStatus.PASS, f"{line}: supported until {end}"
    return Verdict(product, server, version, line, end, known, status, seen)


def table_age(table: Table, now: datetime) -> tuple[bool, str]:
    """(whether the table is fresh, what to show)."""
    age = (now.date() - table.written).days
    return age <= STALE_AFTER_DAYS, f"written {table.written} ({age} days ago)"
