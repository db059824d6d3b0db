"""Security tasks: read-only reports (docs/security.md)."""

from maintenance import catalog
from tasks.base import define

audit = define(catalog.get("security.audit"))
access_review = define(catalog.get("security.access_review"))
