"""`repeat`: a step or a group of steps written once and expanded when the file loads, {i} filled in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .shorthand import rewrite
from .template import fill

INDEX = "i"
NOT_FILLED = ("raw",)   # sent verbatim, never a template


@dataclass(frozen=True)
class RawStep:
    """One step after expansion: its data, where it was written (a path into the file), and its {i} if any."""

    data: dict[str, Any]
    path: tuple
    index: int | None = None


def expand_steps(raw: list | None, path: tuple) -> Iterator[RawStep]:
    """The steps of a `steps` or `finally` list, repeats unrolled in order."""
    for position, item in enumerate(raw or []):
        where = path + (position,)
        if "steps" in item:
            for index in range(item["repeat"]):
                for inner, step in enumerate(item["steps"]):
                    yield _repeated(rewrite(step), where + ("steps", inner), index)
        elif "repeat" in item:
            for index in range(item["repeat"]):
                yield _repeated(rewrite({k: v for k, v in item.items() if k != "repeat"}), where, index)
        else:
            yield RawStep(rewrite(item), where)


def _repeated(step: dict[str, Any], path: tuple, index: int) -> RawStep:
    known = {INDEX: index}
    data = {key: value if key in NOT_FILLED else fill(value, known) for key, value in step.items()}
    name = step.get("name", "")
    data["name"] = data["name"] if "{i}" in name else (f"{name} (i={index})" if name else f"i={index}")
    return RawStep(data, path, index)


def nested_repeats(raw: list | None, path: tuple) -> Iterator[tuple]:
    """Paths of steps that repeat inside a repeat group ({i} would name two indices): refused by the loader."""
    for position, item in enumerate(raw or []):
        if "steps" in item:
            for inner, step in enumerate(item["steps"]):
                if "repeat" in step:
                    yield path + (position, "steps", inner, "repeat")
