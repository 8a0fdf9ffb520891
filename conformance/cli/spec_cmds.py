"""`dxconform routes` and `dxconform openapi` (placeholder until the spec package lands)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    pass
