"""The maintenance window task (docs/calendar.md, "window.run")."""

from maintenance import catalog
from tasks.base import define

run = define(catalog.get("window.run"))
