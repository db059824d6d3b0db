"""Beat's leadership and dispatch claims (docs/beat.md), plain Python: no Celery here.

``policy``: which due occurrences are sent and which are recorded missed (pure);
``leader``: the leadership lock, a PostgreSQL session advisory lock on a checked session;
``claims``: the ``beat_dispatches`` table, one row per occurrence, claimed before a send.
"""
