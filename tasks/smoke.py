"""The weekly testing slot's tasks (docs/smoke.md): smoke checks and the performance
baseline."""

from maintenance import catalog
from tasks.base import define

smoke = define(catalog.get("test.smoke"))
baseline = define(catalog.get("test.baseline"))
