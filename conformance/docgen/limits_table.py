"""The reference server's limits (conformance/refserver/limits.py) as the table of docs/emulator.md."""

from __future__ import annotations

from ..refserver.limits import LIMITS
from .markdown import table


def render() -> str:
    return table(("what", "limit", "beyond it"), LIMITS)
