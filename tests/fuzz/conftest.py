"""Helpers for fuzzing tests: a reference server with chosen faults, and one fuzzing run against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from conformance.fuzz import FuzzConfig, FuzzReport
from conformance.fuzz.engine import run_fuzz
from conformance.refserver.context import Settings
from conformance.refserver.server import RefServer


@contextmanager
def faulty_server(*faults: str) -> Iterator[RefServer]:
    """A fresh reference server on loopback with these faults on (none: the conforming server)."""
    with RefServer(settings=Settings(closing_ms=100, faults=frozenset(faults))) as server:
        yield server


def fuzz(server: RefServer, **options) -> FuzzReport:
    return run_fuzz(FuzzConfig(server.url, server.settings.users, **options))
