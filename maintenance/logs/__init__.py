"""Log housekeeping of the scheduler's log folder (MAINT_LOG_ROOT), on the host that
writes the logs (not the suite's own logging: that is :mod:`maintenance.logs_setup`).

* :mod:`.naming` what logrotate calls rotated files (numbered or dateext), pure;
* :mod:`.inventory` the folder as facts, sorted into families (live log + rotated), pure;
* :mod:`.files` the root reached without following links (list, read, rename, create);
* :mod:`.writers` which files a process holds open for writing (``/proc``);
* :mod:`.plan`, :mod:`.cleanup_plan` the decisions, pure over (facts, policy, now);
* :mod:`.compress` parallel, atomic gzip; :mod:`.archive` monthly tar archives;
* :mod:`.reopen` the signal or command that makes writers reopen;
* :mod:`.scan` ERROR/CRITICAL lines since the previous report; :mod:`.state` its state
  and the host's log lock; :mod:`.hosts` the per-host queues;
* the tasks: :mod:`.rotate` (logs.rotate), :mod:`.cleanup` (logs.cleanup),
  :mod:`.report` (logs.report).

Deleting goes through :mod:`maintenance.fs.delete`, whole-file writes through
:mod:`maintenance.fs.atomic`. docs/logs.md is the operator's page.
"""
