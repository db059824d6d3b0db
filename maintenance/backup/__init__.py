"""Backups that are proven restorable.

* :mod:`.layout`: tiers, backup ids, where files live, atomic and private file writes
* :mod:`.manifest`: the JSON manifest beside every backup, updated atomically
* :mod:`.inventory`: what is in BACKUP_ROOT, for listing, verification and retention
* :mod:`.dump`: pg_dump streamed through zstd into a temp file, then renamed
* :mod:`.create`, :mod:`.verify`, :mod:`.retention`, :mod:`.archive`, :mod:`.offsite`:
  the tasks
"""
