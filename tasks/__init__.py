"""The Celery app and thin task wrappers around ``maintenance``.

Start a worker with ``celery -A tasks.app worker``; beat with ``celery -A tasks.app beat``.
"""
