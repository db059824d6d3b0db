"""Restores and disaster-recovery drills.

* :mod:`.swap`: put a restored database in place of the live one, keeping the old one
* :mod:`.run`: ``maint restore`` / ``restore.run``: verify, forensic dump, load, check, swap
* :mod:`.drill`: ``restore.drill``: restore the newest verified backup into a scratch
  database, run the whole checklist, measure RTO and RPO
"""
