"""Demo data for the residency scheduler database: ``maint demo seed``.

Benchmarks and integration tests need a scheduler database of a known size with the
production schema's shape. :func:`seed` drops and recreates one *explicitly named*
database and bulk-loads deterministic, realistic data into it (see docs/demo-data.md).

``words`` holds the constant vocabulary, ``generate`` the small tables' rows,
``assignments`` the bulk rows, ``seed`` the database work; the schema's tables and
integrity rules themselves live in :mod:`maintenance.schema`.
"""

from maintenance.demo.seed import (
    COUNT_KEYS,
    SCHEMA_TABLES,
    SeedReport,
    check_target,
    integrity_queries,
    seed,
)

__all__ = ["COUNT_KEYS", "SCHEMA_TABLES", "SeedReport", "check_target", "integrity_queries", "seed"]
