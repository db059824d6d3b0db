"""Where ``celery -A tasks`` looks for the app (Celery's convention for a package)."""

from tasks.app import app

__all__ = ["app"]
