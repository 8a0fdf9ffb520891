"""`--dx-shard K/N`: the deterministic part of the cases one machine of a split run takes.

A case belongs to shard `1 + sha256(case id) mod N`. Hashing each case id on its own (rather than its file)
means adding, removing or editing a case never moves any *other* case to another shard, and ~1000 cases
spread evenly even where files differ in size a lot. A shard's results.json carries a `shard` section with
its check ledger, so `dxconform merge` can add up the protocol checks exactly as one run would.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

SHARD_KEY = "shard"     # results.json: {"index": K, "count": N, "ledger": {...}} of a sharded run
_SPEC = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)$")


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` -> (K, N) with 1 <= K <= N; ValueError with a one-line reason otherwise."""
    match = _SPEC.match(text.strip())
    if not match:
        raise ValueError(f"a shard is K/N with 1 <= K <= N (e.g. 2/3), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if index > count:
        raise ValueError(f"shard {index}/{count}: K must not exceed N")
    return index, count


def shard_of(case_id: str, count: int) -> int:
    """The shard (1..count) a case id belongs to; stable across Python versions and machines."""
    digest = hashlib.sha256(case_id.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def add_shard_option(parser: pytest.Parser) -> None:
    parser.getgroup("dxconform").addoption(
        "--dx-shard", metavar="K/N", help="run only shard K of N (a stable partition by case id; merge the "
                                          "shards' results.json with `dxconform merge`)")


def shard_option(config: pytest.Config) -> tuple[int, int] | None:
    text = config.getoption("dx_shard", None)
    if not text:
        return None
    try:
        return parse_shard(text)
    except ValueError as problem:
        raise pytest.UsageError(f"--dx-shard: {problem}") from None


def select_shard(config: pytest.Config, items: list[pytest.Item], case_id_of) -> None:
    """Deselect the cases of other shards (`case_id_of(item)` is the case id, or None for other items)."""
    shard = shard_option(config)
    if shard is None:
        return
    index, count = shard
    keep, drop = [], []
    for item in items:
        case_id = case_id_of(item)
        (drop if case_id is not None and shard_of(case_id, count) != index else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def add_shard_section(config: pytest.Config, document: dict[str, Any], ledger_json: dict[str, Any]) -> None:
    shard = shard_option(config)
    if shard is not None:
        document[SHARD_KEY] = {"index": shard[0], "count": shard[1], "ledger": ledger_json}
