"""The job history: one row per run, in its own PostgreSQL database.

* :mod:`.models`: the tables (SQLAlchemy 2), migrated by Alembic (``maint db upgrade``)
* :mod:`.store`: engine, queries, the reaper that turns dead runs into ``lost``
* :mod:`.recorder`: the one context manager that owns a run's row
"""
