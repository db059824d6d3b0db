"""Health tasks (docs/health.md): the 5-minute check and the weekly deep check."""

from maintenance import catalog
from tasks.base import define

check = define(catalog.get("health.check"))
deep = define(catalog.get("health.deep"))
