"""The residency scheduler's maintenance playbook, as plain Python.

Domain logic only: nothing in this package imports Celery. The Celery app and its thin
task wrappers live in the top-level ``tasks`` package; the operator CLI is
``maintenance.cli``.
"""

__version__ = "0.1.0"
