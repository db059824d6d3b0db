"""Notification tasks: alerts.test and the window notices (docs/notices.md). The calendar
fires the notices; people send them with `maint notice send` or Flower."""

from maintenance import catalog
from tasks.base import define

alerts_test = define(catalog.get("alerts.test"))
notice_weekly = define(catalog.get("notice.weekly"))
notice_monthly = define(catalog.get("notice.monthly"))
notice_quarterly = define(catalog.get("notice.quarterly"))
notice_emergency = define(catalog.get("notice.emergency"))
notice_status = define(catalog.get("notice.status"))
notice_all_clear = define(catalog.get("notice.all_clear"))
notice_problem = define(catalog.get("notice.problem"))
