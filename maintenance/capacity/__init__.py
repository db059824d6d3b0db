"""capacity.forecast (docs/capacity.md): database size, backup storage per tier, log
volume, free disk and Redis memory over time, a least-squares growth rate and the date
each crosses its limit: fit (pure), facts (the readers), forecast (the task)."""
