"""Checking the proxy's traffic in a child process, off the proxy's interpreter.

The checks of one exchange hold the GIL for most of a millisecond; on a thread of the proxy's own process,
every answer waiting for its I/O waited for them too (the proxy added 1.5 ms at p50 instead of 0.8 ms). The
child gets the exchanges in the order they were submitted, in batches, checks them with its own Monitor
(the same checks, the same order, so the same tally) and hands back its results when told to finish. It is
a daemon: it ends with the proxy, and on its own when the proxy's end of the pipe closes. It runs at a lower
CPU priority than the proxy (nice 10): when the CPU is short, the checks fall behind, not the answers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..model import Exchange

# How long the proxy waits for the child's results once told to finish (it checks whatever is still queued).
FINISH_TIMEOUT_SECONDS = 600.0
# The child's CPU priority below the proxy's: on a busy machine the checks wait, the answers do not.
CHECKER_NICENESS = 10


class CheckerError(RuntimeError):
    """The checker process stopped before handing back its results."""


class CheckerProcess:
    """`send([(exchange, started_ms), ...])` as often as needed, then `finish()` -> (results, traffic counts)."""

    def __init__(self, spec_root: Path):
        context = multiprocessing.get_context("spawn")   # never fork a process that runs threads
        self._connection, child_end = context.Pipe()
        self._process = context.Process(target=serve, args=(child_end, str(spec_root)),
                                        name="dxconform-proxy-checker", daemon=True)
        self._process.start()
        child_end.close()

    def send(self, batch: Sequence[tuple[Exchange, int]]) -> None:
        try:
            self._connection.send(list(batch))
        except (BrokenPipeError, EOFError, OSError) as exc:
            raise CheckerError(f"the checker process stopped: {exc}") from None

    def finish(self, timeout: float = FINISH_TIMEOUT_SECONDS) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Wait for every exchange sent to be checked: (results.json check results, traffic counts)."""
        try:
            self._connection.send(None)
            if not self._connection.poll(timeout):
                raise CheckerError(f"the checker process did not finish within {timeout:g} s")
            results, traffic = self._connection.recv()
        except (BrokenPipeError, EOFError, OSError) as exc:
            raise CheckerError(f"the checker process stopped: {exc}") from None
        finally:
            self.close()
        return results, traffic

    def close(self) -> None:
        """End the child (at once if it is still checking) and release the pipe."""
        self._connection.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)


def serve(connection, spec_root: str) -> None:
    """The child: check each batch as it comes, in order; on None, send back the results and end."""
    from ..spec import load_spec
    from .monitor import Monitor

    monitor = Monitor(load_spec(Path(spec_root)))
    try:   # ready (at the proxy's priority): from now on behind the traffic it watches
        os.nice(CHECKER_NICENESS)
    except (AttributeError, OSError):   # no nice() here (Windows): the same priority
        pass
    try:
        while (batch := connection.recv()) is not None:
            for exchange, started_ms in batch:
                monitor.inspect(exchange, now_ms=started_ms)
        connection.send((monitor.results(), dict(monitor.traffic)))
    except (EOFError, BrokenPipeError, OSError):   # the proxy is gone: nobody waits for the results
        pass
    finally:
        connection.close()
