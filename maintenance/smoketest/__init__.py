"""The weekly testing slot (docs/smoke.md): test.smoke (the application's smoke checks as
configured HTTP requests, each timed) and test.baseline (their response times recorded as
the performance baseline, compared with the trailing weeks): send (the HTTP, bounded),
judge (pure: the checklist, the comparison), record (the earlier baselines), tasks."""
