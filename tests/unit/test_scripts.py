"""scripts/prefix-lines, the filter scripts/run-local puts behind the worker, beat and
Flower: real start-up lines in, prefixed lines out, the noise gone."""

from __future__ import annotations

import select
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILTER = ROOT / "scripts" / "prefix-lines"

# Captured from scripts/run-local (console log format) before the filter existed.
CONSOLE = """\
2026-12-01T19:42:15.058849Z [info     ] Visit me at http://127.0.0.1:5599 [flower.command]
2026-12-01T19:42:15.084529Z [info     ] Registered tasks:
['backup.archive',
 'backup.create',
 'celery.accumulate',
 'restore.run'] [flower.command]
2026-12-01T19:42:15.218024Z [info     ] Connected to redis://:***@127.0.0.1:6379/13 [kombu.mixins]
2026-12-01T19:42:17.722482Z [info     ] setup plugin alembic.autogenerate.schemas [alembic.runtime.plugins]
2026-12-01T19:42:17.723050Z [info     ] setup plugin alembic.ext.checkconstraint_byname [alembic.runtime.plugins]
2026-12-01T19:42:17.835949Z [info     ] Context impl PostgresqlImpl.   [alembic.runtime.migration]
2026-12-01T19:42:17.836090Z [info     ] Will assume transactional DDL. [alembic.runtime.migration]
2026-12-01T19:42:17.949472Z [info     ] celery@vm ready.               [celery.apps.worker]
"""

JSON = """\
{"event": "Registered tasks: \\n['backup.archive',\\n 'restore.run']", "logger": "flower.command", "level": "info"}
{"event": "setup plugin alembic.autogenerate.tables", "logger": "alembic.runtime.plugins", "level": "info"}
{"event": "Broker: redis://:***@127.0.0.1:6379/0", "logger": "flower.command", "level": "info"}
{"event": "celery@vm ready.", "logger": "celery.apps.worker", "level": "info"}
"""


def run_filter(text: str, *args: str) -> list[str]:
    proc = subprocess.run(
        [str(FILTER), *args], input=text, capture_output=True, text=True, timeout=30, check=True
    )
    return proc.stdout.splitlines()


def test_every_line_is_prefixed_and_the_noise_is_gone() -> None:
    out = run_filter(CONSOLE, "flower")
    assert out == [
        "flower | 2026-12-01T19:42:15.058849Z [info     ] Visit me at http://127.0.0.1:5599 [flower.command]",
        "flower | 2026-12-01T19:42:15.218024Z [info     ] Connected to redis://:***@127.0.0.1:6379/13 [kombu.mixins]",
        "flower | 2026-12-01T19:42:17.949472Z [info     ] celery@vm ready.               [celery.apps.worker]",
    ]


def test_json_lines_lose_the_same_noise_and_nothing_after_it() -> None:
    out = run_filter(JSON, "beat")
    assert [line.split(" | ", 1)[0] for line in out] == ["beat  ", "beat  "]
    assert "Broker:" in out[0] and "celery@vm ready." in out[1]


def test_ordinary_output_passes_untouched_and_aligned() -> None:
    text = "worker: Warm shutdown (MainProcess)\n\n[tasks]\n  . db.stats\n"
    assert run_filter(text, "worker") == [
        "worker | worker: Warm shutdown (MainProcess)",
        "worker | ",
        "worker | [tasks]",
        "worker |   . db.stats",
    ]


def test_the_ready_file_appears_when_the_worker_is_ready(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    run_filter(CONSOLE.split("celery@vm")[0], "worker", str(ready))
    assert not ready.exists()
    run_filter(CONSOLE, "worker", str(ready))
    assert ready.exists()


def test_it_outlives_ctrl_c_and_term_until_its_input_ends() -> None:
    """Ctrl-C reaches the filter too; it must keep copying the worker's shutdown lines."""
    proc = subprocess.Popen(
        [str(FILTER), "worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("before\n")
    proc.stdin.flush()
    # each line comes out while the input is still open (mawk would hold it back)
    assert select.select([proc.stdout], [], [], 10)[0], "the line was held back"
    assert proc.stdout.readline() == "worker | before\n"  # running, traps are set
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    proc.stdin.write("worker: Warm shutdown (MainProcess)\n")
    proc.stdin.close()
    assert proc.stdout.read() == "worker | worker: Warm shutdown (MainProcess)\n"
    assert proc.wait(timeout=10) == 0


def test_run_local_puts_every_process_behind_the_filter() -> None:
    text = (ROOT / "scripts" / "run-local").read_text()
    for name in ("worker", "beat", "flower"):
        line = next(x for x in text.splitlines() if f"celery -A tasks.app {name}" in x)
        rest = text[text.index(line) :].split("&\n", 1)[0]
        assert f"> >(scripts/prefix-lines {name}" in rest, name
        assert rest.rstrip().endswith("2>&1"), name
