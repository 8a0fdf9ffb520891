"""Helpers for the runner tests: case files written on the fly, sessions on a (possibly faulty) server."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.cases import CaseSuite, load_suite
from conformance.engine import RunConfig, RunSession
from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.server import RefServer

TOKENS = FIXED_TOKENS   # the tokens of the session's `refserver` and of faulty_server


def write_suite(directory: Path, text: str, name: str = "cases.yaml") -> CaseSuite:
    """Write one case file (YAML text, dedented) and load it as the suite."""
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_suite([path], base=directory)


def case_of(suite: CaseSuite, case_id: str):
    return next(case for case in suite.cases if case.id == case_id)


@contextmanager
def faulty_server(*faults: str, **settings) -> Iterator[RefServer]:
    """A reference server with the named deliberate faults switched on."""
    with RefServer(settings=Settings(faults=frozenset(faults), closing_ms=200, users=dict(TOKENS), **settings)) as server:
        yield server


def session_for(url: str, suite: CaseSuite, **config) -> RunSession:
    tokens = config.pop("tokens", TOKENS)
    return RunSession(RunConfig(server=url, tokens=tokens, **config), suite)
