"""The monthly report's tasks (docs/reports.md): report.monthly and report.approve."""

from maintenance import catalog
from tasks.base import define

monthly = define(catalog.get("report.monthly"))
approve = define(catalog.get("report.approve"))
