"""The residency scheduler's schema, as this suite knows it: the one place.

What the suite assumes about the database it backs up and restores lives here and
nowhere else: its tables (parents before children), the tables every backup must
contain, the exact counts ``db.stats`` reports, and the integrity rules a restored copy
must satisfy. Settings take their defaults from these (``MAINT_BACKUP_EXPECTED_TABLES``,
``MAINT_STATS_COUNTS``, ``MAINT_INTEGRITY_CHECKS`` override them), ``dbcheck`` runs the
rules, and the demo seeder builds a database of this shape (its DDL is
``maintenance/demo/schema.sql``; ``tests/unit/test_schema.py`` checks the two agree).

A leaf: it imports nothing from ``maintenance``, so any module may import it. The
mappings are read-only; callers copy them (``dict(STATS_COUNTS)``) to get their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: The scheduler's tables, parents before children (load and create in this order).
TABLES: tuple[str, ...] = ("persons", "rotations", "blocks", "schedules", "assignments", "swaps")

#: Tables every backup must contain: the playbook's ``EXPECTED_TABLES``, in its order.
EXPECTED_TABLES: tuple[str, ...] = ("persons", "assignments", "blocks", "schedules", "rotations")

#: The playbook's DATA STATISTICS: name -> a query returning one integer (``db.stats``).
STATS_COUNTS: Mapping[str, str] = MappingProxyType(
    {
        "persons": "SELECT count(*) FROM persons",
        "residents": "SELECT count(*) FROM persons WHERE role = 'RESIDENT'",
        "faculty": "SELECT count(*) FROM persons WHERE role = 'FACULTY'",
        "assignments": "SELECT count(*) FROM assignments",
        "blocks": "SELECT count(*) FROM blocks",
        "schedules": "SELECT count(*) FROM schedules",
        "rotations": "SELECT count(*) FROM rotations",
    }
)


def _orphans(child: str, column: str, parent: str) -> str:
    """Rows of ``child`` whose non-null ``column`` names no ``parent`` row."""
    return (
        f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL AND "  # noqa: S608
        f"NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})"
    )


#: Name -> SQL returning one integer: how many rows break that rule (0 when sound).
#: Anti-joins and aggregates, not a look at the constraints: a restore can load data into
#: tables whose foreign keys and unique constraints were never recreated.
INTEGRITY_CHECKS: Mapping[str, str] = MappingProxyType(
    {
        "assignments_missing_person": _orphans("assignments", "person_id", "persons"),
        "assignments_missing_block": _orphans("assignments", "block_id", "blocks"),
        "assignments_missing_rotation": _orphans("assignments", "rotation_id", "rotations"),
        "assignments_missing_schedule": _orphans("assignments", "schedule_id", "schedules"),
        "assignments_duplicate_person_block": (
            "SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM assignments"
            " GROUP BY person_id, block_id HAVING count(*) > 1) AS d"
        ),
        "blocks_end_before_start": "SELECT count(*) FROM blocks WHERE end_date < start_date",
        "swaps_missing_assignment": _orphans("swaps", "assignment_id", "assignments"),
        "swaps_missing_target_assignment": _orphans("swaps", "target_assignment_id", "assignments"),
        "swaps_missing_requester": _orphans("swaps", "requester_id", "persons"),
        "swaps_missing_target": _orphans("swaps", "target_id", "persons"),
    }
)
