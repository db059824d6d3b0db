# The maintenance suite's image: worker, beat, Flower and the maint CLI.
# pg_dump/pg_restore come from postgresql-client-15: they must match the server's
# major version (a newer pg_dump writes archives an older pg_restore cannot read);
# zstd is for restoring a backup by hand (docs/restore.md).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 zstd \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 maint \
 && useradd --system --uid 10001 --gid maint --home-dir /var/lib/maint --create-home maint \
 && install -d -o maint -g maint -m 0700 /backups /var/log/scheduler /var/lib/maint

WORKDIR /app
# Exactly the locked versions, each file checked against its SHA-256 (requirements.lock,
# made by scripts/lock); then the suite itself, built with the locked setuptools.
COPY requirements.lock ./
# pip itself first, at the lock's version: an older pip mishandles an extra in
# hash-checking mode (pip-audit's CacheControl[filecache]) and stops (scripts/bootstrap).
RUN awk '/^pip==/{p=1} p{print} p&&!/\\$/{exit}' requirements.lock > /tmp/pip.lock \
 && pip install --require-hashes -r /tmp/pip.lock && rm /tmp/pip.lock
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md beat_schedule.py ./
COPY maintenance ./maintenance
COPY tasks ./tasks
RUN pip install --no-deps --no-build-isolation . && pip check && maint --help >/dev/null

USER maint
# Backups are written 0600 in 0700 folders whatever the umask; this is for the rest.
ENV HOME=/var/lib/maint
CMD ["celery", "-A", "tasks.app", "worker", "--loglevel=INFO"]
