"""Helpers for the proxy tests: reading what a run found, by side."""

from __future__ import annotations

from typing import Any

BROKEN = ("failed", "error")


def broken(document: dict[str, Any], side: str | None = None) -> dict[str, dict[str, Any]]:
    """{result id: result} of the results that did not hold (on one side, if given)."""
    return {r["id"]: r for r in document["results"]
            if r["outcome"] in BROKEN and (side is None or r["side"] == side)}


def broken_checks(document: dict[str, Any], side: str) -> set[str]:
    return {rid.removeprefix("checks/").split("::", 1)[0] for rid in broken(document, side)}


def tally(document: dict[str, Any]) -> dict[str, str]:
    """{result id: outcome and message}: what two runs over the same traffic must agree on."""
    return {r["id"]: f"{r['outcome']}: {r['message']}" for r in document["results"]}
