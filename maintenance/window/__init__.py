"""``window.run``: a maintenance window's steps in slot order (docs/calendar.md)."""
