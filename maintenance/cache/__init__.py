"""The application's Redis cache (``MAINT_CACHE_URL``), never the broker's database.

* :mod:`.stats`: ``cache.stats`` (daily): memory against maxmemory (the 80 % alert), the
  hit ratio since the previous sample, evictions, expirations, fragmentation, DBSIZE
* :mod:`.clear`: ``cache.clear_pattern`` (SCAN MATCH + UNLINK in paced batches) and
  ``cache.clear`` (the playbook's gradual order: swaps, schedule when the API is idle,
  report)
* :mod:`.flush`: ``cache.flush``: FLUSHDB of the cache's db, in a window or with a reason
* :mod:`.analyze`: ``cache.analyze`` (weekly): prefixes by count and memory, TTLs, use,
  the hit-ratio trend, suggestions

Their core: :mod:`.client` (connections, the broker guard, errors), :mod:`.patterns`
(Redis globs, pure), :mod:`.sweep` (the batch engine), :mod:`.samples` (counter samples
and intervals, pure).
"""
