"""Probes run at once in daemon threads; a hung or crashing probe never holds up or
breaks the check. The bound is the one timed assertion the issue names (generous margins)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

from maintenance.health.parallel import Probe, run
from tests.conftest import ROOT


def test_probes_run_at_once_and_a_hung_one_is_reported_at_its_limit() -> None:
    stuck = threading.Event()
    probes = [
        Probe("hangs", "api", lambda: stuck.wait(60), 0.5),
        Probe("slowish", "database", lambda: time.sleep(0.3) or "done", 2.0),
        Probe("quick", "cache", lambda: 42, 2.0),
        Probe("slowish2", "host", lambda: time.sleep(0.3) or "also", 2.0),
    ]
    t0 = time.monotonic()
    out = run(probes, bound_s=5.0)
    elapsed = time.monotonic() - t0
    stuck.set()
    # the hung probe costs its own limit; the others ran beside it, not after it
    assert 0.45 <= elapsed < 1.5, elapsed
    assert out["hangs"].timed_out_s == 0.5 and out["hangs"].problem == "timed out after 0.5 s"
    assert (out["slowish"].value, out["quick"].value, out["slowish2"].value) == ("done", 42, "also")
    assert all(out[n].ok for n in ("slowish", "quick", "slowish2"))


def test_the_whole_check_is_bounded_whatever_the_probes_limits() -> None:
    stuck = threading.Event()
    t0 = time.monotonic()
    out = run([Probe(f"p{i}", "api", lambda: stuck.wait(60), 30.0) for i in range(3)], bound_s=0.4)
    assert time.monotonic() - t0 < 1.5
    stuck.set()
    assert {o.timed_out_s for o in out.values()} == {0.4}


def test_a_probe_that_raises_is_an_outcome_not_an_exception() -> None:
    def boom() -> None:
        raise ConnectionError("refused by postgresql://app:Probe-Pw-9@db/x")

    def exits() -> None:
        raise SystemExit(3)

    out = run([Probe("boom", "database", boom, 1.0), Probe("exit", "host", exits, 1.0)], 2.0)
    assert out["boom"].error is not None and out["boom"].error.startswith("ConnectionError: ")
    assert "Probe-Pw-9" not in out["boom"].error
    assert out["exit"].error == "SystemExit: 3"
    assert not out["boom"].ok and out["boom"].problem == out["boom"].error


def test_a_hung_probe_does_not_keep_the_interpreter_alive() -> None:
    """The reason for daemon threads instead of a ThreadPoolExecutor: its workers are
    joined at exit, so one hung probe would hang ``maint health`` after it answered."""
    code = textwrap.dedent(
        """
        import threading
        from maintenance.health.parallel import Probe, run
        out = run([Probe("hang", "api", threading.Event().wait, 0.2)], 1.0)
        print(out["hang"].problem)
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "timed out after 0.2 s"
