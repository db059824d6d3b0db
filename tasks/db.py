"""Database tasks."""

from maintenance import catalog
from tasks.base import define

stats = define(catalog.get("db.stats"))
vacuum_analyze = define(catalog.get("db.vacuum_analyze"))
reindex = define(catalog.get("db.reindex"))
optimize = define(catalog.get("db.optimize"))
report = define(catalog.get("db.report"))
