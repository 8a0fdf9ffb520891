"""Garbage-collector tuning of a suite run: the long-lived heap is frozen, so collections stop rescanning it.

After collection the process holds the loaded suite, the spec and every module: tens of thousands of objects
that live as long as the run. Without a freeze each full collection walks all of them again (about 1 s over
a run of the 1000 cases on the embedded server, half of it in pytest's five gc.collect() calls at exit).
"""

from __future__ import annotations

import gc

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Registered before pytest's own cleanups, so it runs after them (LIFO): the heap is collectable again
    # once pytest has done its final collections, for callers that run pytest in process more than once.
    config.add_cleanup(gc.unfreeze)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    gc.freeze()
