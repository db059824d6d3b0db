"""Backup tasks."""

from maintenance import catalog
from tasks.base import define

create = define(catalog.get("backup.create"))
verify = define(catalog.get("backup.verify"))
retention = define(catalog.get("backup.retention"))
archive = define(catalog.get("backup.archive"))
offsite = define(catalog.get("backup.offsite"))
