"""The maintenance calendar (docs/calendar.md): when each job and window runs, in the
configured zone, exactly once per local day across DST (:mod:`.cron`)."""
