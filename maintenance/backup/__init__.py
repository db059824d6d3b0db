"""Backups that are proven restorable.

* :mod:`.layout`: tiers, backup ids, where files live, atomic and private file writes
* :mod:`.manifest`: the JSON manifest beside every backup, updated atomically
* :mod:`.inventory`: what is in BACKUP_ROOT, for listing, verification and retention
* :mod:`.proof`: a backup proven by a restore: scratch database, checked against its
  manifest (used by verification, ``maint restore`` and the drill)
* :mod:`.create`, :mod:`.verify`, :mod:`.retention`, :mod:`.archive`, :mod:`.offsite`:
  the tasks
"""
