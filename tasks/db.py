"""Database tasks."""

from maintenance import catalog
from tasks.base import define

stats = define(catalog.get("db.stats"))
