"""Diagnostic tasks."""

from maintenance import catalog
from tasks.base import define

hold = define(catalog.get("diag.hold"))
