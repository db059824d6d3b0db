"""Log tasks: each runs on the host whose logs it manages (queue ``logs.<host>``)."""

from maintenance import catalog
from tasks.base import define

rotate = define(catalog.get("logs.rotate"))
cleanup = define(catalog.get("logs.cleanup"))
report = define(catalog.get("logs.report"))
