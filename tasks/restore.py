"""Restore tasks."""

from maintenance import catalog
from tasks.base import define

run = define(catalog.get("restore.run"))
drill = define(catalog.get("restore.drill"))
