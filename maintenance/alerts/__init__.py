"""Alerts: a change of health, or a failed or lost run, announced once (docs/alerts.md).

``rules`` decides (pure), ``store`` reads the facts and records what was announced,
``evaluate`` puts them together after each health check; messages go out through
:mod:`maintenance.notify`.
"""
