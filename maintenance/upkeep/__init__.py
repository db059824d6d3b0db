"""Database upkeep of the target database (docs/upkeep.md), safe to run while it is in use.

``session``   the one way upkeep talks to the database: autocommit, lock and statement
              timeouts per statement kind, and the pre-check that refuses to start while
              sessions would block it (built on :mod:`maintenance.activity`)
``bloat``     table and B-tree index bloat, estimated from the statistics (facts, then
              pure arithmetic)
``vacuum``    db.vacuum_analyze        ``reindex``   db.reindex (leftovers, then rebuilds)
``facts``     what db.report reads     ``report``    db.report's judgement (pure)
``optimize``  db.optimize (monthly; pg_repack or VACUUM FULL)
``outcomes``  the rebuilt check and the bytes given back, for reindex and optimize
"""
