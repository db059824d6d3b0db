"""``backup.retention``: what to keep and what to delete in BACKUP_ROOT, with a reason.

Four steps, one module each, as barman has it:

1. :mod:`.facts` reads the root: every backup with its inventory status, the lstat of
   every file (links never followed), temp files of crashed runs, strays, links, the
   forensics folder, the total size. Reading is all it does.
2. :mod:`.plan` decides, purely (facts, rules, now -> plan; no I/O, no clock): the
   backup policy (:func:`..policy.decide`) per tier, the forensic rule
   (:mod:`.forensic`), garbage older than a day, what is refused and never deleted, and
   the floors a plan must keep, which :mod:`.apply` insists on as a safety net.
3. :mod:`.apply` carries the plan out through the one deleter
   (:mod:`maintenance.fs.delete`), ``dry_run`` threaded through: root-confined, never
   through a link, under each folder's lock, so a backup being verified is skipped.
4. :mod:`.report` turns plan and outcome into the checklist.

:mod:`.task` strings them together (``run``). The ``backup.retention`` task the catalog
offers also reports the ``*_pre_restore_*`` databases restore set aside: that report is
restore's (:mod:`maintenance.restore.report`), which adds it to this one's checklist, so
that backup/ never imports restore/.
"""
