"""Capacity task (docs/capacity.md): the quarterly audit's forecast."""

from maintenance import catalog
from tasks.base import define

forecast = define(catalog.get("capacity.forecast"))
