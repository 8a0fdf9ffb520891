"""The checks page, generated from the check registries (server side, and the client side the proxy runs)."""

from __future__ import annotations

from collections import Counter

from ..checks import CHECKS, CLIENT_CHECKS, CheckInfo
from .markdown import code, table


def check_rows(registry: dict[str, CheckInfo]) -> list[tuple[str, ...]]:
    ordered = sorted(registry.values(), key=lambda info: (info.area.value, info.level.value, info.name))
    return [(code(info.name), info.level.value, info.area.value, info.title, info.source) for info in ordered]


def render() -> str:
    server, client = CHECKS, CLIENT_CHECKS
    levels = Counter(info.level.value for info in server.values())
    out = ["# The checks", "",
           "Protocol checks are small rules run on **every exchange** of a run, besides what each case expects. "
           "A check that fails on a route becomes a result of its own, `checks/<check>::<route>`, at the check's "
           "level, in the check's area (one result per check and route, however many exchanges broke it). "
           "Generated from the check registry (`conformance.checks`); a case step can turn a check off for one "
           "exchange with `skip_checks` ([case format](case-format.md#a-step)).", "",
           f"## Server side: {len(server)} checks on every answer "
           f"({', '.join(f'{levels[level]} {level}' for level in ('MUST', 'SHOULD', 'MAY') if levels[level])})",
           "", "`dxconform run`, `dxconform proxy` and `dxconform validate` run these.", "",
           table(("check", "level", "area", "rule", "source"), check_rows(server)),
           f"## Client side: {len(client)} checks on every request", "",
           "Only [the validating proxy](proxy.md) and `dxconform validate` run these: they judge the client "
           "(dxpy, `dx`, a pipeline), never the server. `dxconform run` sends malformed requests on purpose "
           "and so never runs them.", "",
           table(("check", "level", "area", "rule", "source"), check_rows(client)),
           "## Fuzzing rules", "",
           "Generated input adds rules no recorded exchange can test (invalid input must be rejected with a "
           "documented error; every call gets an answer); see [Fuzzing](fuzzing.md).", ""]
    return "\n".join(out)
