"""Cache tasks (the application's Redis cache, never the broker's database)."""

from maintenance import catalog
from tasks.base import define

stats = define(catalog.get("cache.stats"))
clear_pattern = define(catalog.get("cache.clear_pattern"))
clear = define(catalog.get("cache.clear"))
flush = define(catalog.get("cache.flush"))
analyze = define(catalog.get("cache.analyze"))
