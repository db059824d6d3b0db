"""Health checks (docs/health.md): ``health.check`` every 5 minutes, ``health.deep``
weekly, ``maint health`` now.

* :mod:`.parallel`: the probes in daemon threads, each bounded, the whole check too;
* :mod:`.facts`: what each probe reads (thin);
* :mod:`.assess`: the thresholds and rules, facts in, document out (pure);
* :mod:`.document`: the Health Check Response Format (draft-inadarei-api-health-check-06)
  and the overall status's rules (pure);
* :mod:`.samples`: the ``health_samples`` table;
* :mod:`.deadman`: the dead man's switch (healthchecks.io style);
* :mod:`.check`: ``health.check`` and what ``maint health`` runs;
* :mod:`.deep`: ``health.deep``.
"""

from maintenance.health.document import (
    COMPONENTS,
    MEDIA_TYPE,
    Entry,
    Status,
    component_status,
    overall,
    worst,
)

__all__ = ["COMPONENTS", "MEDIA_TYPE", "Entry", "Status", "component_status", "overall", "worst"]
