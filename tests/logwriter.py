"""A process that never stops writing numbered lines to a log, until SIGTERM.

    python tests/logwriter.py watched PATH          # logging's WatchedFileHandler
    python tests/logwriter.py signal PATH PIDFILE   # a plain file, reopened on SIGHUP

Each line is ``<mode> <n> <padding>``, n from 0 without a gap; some lines say ERROR.
On SIGTERM it finishes the line it is writing, closes the file and prints the number of
lines it wrote on stdout. The test reads every file of the log back and checks each
number appears exactly once, in order.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import time

PAD = "x" * 80


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    stop = reopen = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    def on_hup(*_: object) -> None:
        nonlocal reopen
        reopen = True

    signal.signal(signal.SIGTERM, on_term)
    n = 0
    if mode == "watched":
        handler = logging.handlers.WatchedFileHandler(path)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log = logging.getLogger("writer")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        print("ready", flush=True)
        while not stop:
            log.info("%s %d %s%s", mode, n, "ERROR " if n % 1000 == 0 else "", PAD)
            n += 1
            if n % 200 == 0:
                time.sleep(0.001)
        handler.close()
    else:
        signal.signal(signal.SIGHUP, on_hup)
        pidfile = sys.argv[3]
        out = open(path, "a", buffering=1)  # noqa: SIM115 - reopened on SIGHUP
        with open(pidfile + ".tmp", "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.replace(pidfile + ".tmp", pidfile)
        print("ready", flush=True)
        while not stop:
            if reopen:
                reopen = False
                out.close()
                out = open(path, "a", buffering=1)  # noqa: SIM115
            out.write(f"{mode} {n} {'ERROR ' if n % 1000 == 0 else ''}{PAD}\n")
            n += 1
            if n % 200 == 0:
                time.sleep(0.001)
        out.close()
    print(n, flush=True)


if __name__ == "__main__":
    main()
