"""Volatile values of a run: IDs, the run prefix and the server's base URL, found in text and hidden as placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Hash-form entity IDs (the loose alphabet clients send) and name-form IDs of users, orgs and teams.
# No boundary after a hash-form ID: a case may append to one (`{project}0` is another, nonexistent ID).
ID_PATTERN = r"\b[a-z]+-[0-9A-Za-z]{24}|\b(?:user|org|team)-[A-Za-z0-9._]*[A-Za-z0-9]\b"
PLACEHOLDER = re.compile(r"\{\{(run_prefix|server|id:(\d+))\}\}")


class Placeholders:
    """One run's volatile values and their placeholders: `{{run_prefix}}`, `{{server}}`, `{{id:N}}` (N counts
    the run's distinct IDs from 1 in order of first sight). `hide` turns text into placeholders, `reveal` back."""

    def __init__(self, run_prefix: str, server: str, ids: list[str] | None = None):
        self.run_prefix = run_prefix
        self.server = server.rstrip("/")
        self.ids: list[str] = list(ids or [])
        self._numbers = {value: number for number, value in enumerate(self.ids, 1)}
        self._pattern = volatile_pattern(run_prefix, self.server)

    def number(self, identifier: str) -> int:
        if identifier not in self._numbers:
            self.ids.append(identifier)
            self._numbers[identifier] = len(self.ids)
        return self._numbers[identifier]

    def hide(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            # By name: without a run prefix (imported recordings) or a server the pattern lacks that group
            if match.lastgroup == "prefix":
                return "{{run_prefix}}"
            if match.lastgroup == "server":
                return "{{server}}"
            return "{{id:" + str(self.number(match.group(0))) + "}}"
        return self._pattern.sub(replace, text)

    def reveal(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            if match.group(1) == "run_prefix":
                return self.run_prefix
            if match.group(1) == "server":
                return self.server
            number = int(match.group(2))
            return self.ids[number - 1] if 0 < number <= len(self.ids) else match.group(0)
        return PLACEHOLDER.sub(replace, text)

    def to_json(self) -> dict[str, Any]:
        return {"run_prefix": self.run_prefix, "server": self.server, "ids": list(self.ids)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Placeholders:
        return cls(data["run_prefix"], data["server"], data.get("ids") or [])


def volatile_pattern(run_prefix: str, server: str) -> re.Pattern:
    """Server URL first (it may hold an ID-shaped host), then the run prefix, then IDs."""
    parts = []
    if server:
        # The base URL, else its host:port alone (echoed in a Host header, for one)
        netloc = server.split("://", 1)[-1].split("/", 1)[0]
        parts.append(f"(?P<server>{re.escape(server)}|{re.escape(netloc)})")
    if run_prefix:
        parts.append(f"(?P<prefix>{re.escape(run_prefix)})")
    parts.append(f"(?P<id>{ID_PATTERN})")
    return re.compile("|".join(parts))


def map_strings(value: Any, convert) -> Any:
    """`value` with `convert` applied to every string in it, keys included (IDs can be keys)."""
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [map_strings(item, convert) for item in value]
    if isinstance(value, dict):
        return {convert(key): map_strings(item, convert) for key, item in value.items()}
    return value


def tokens(text: str, pattern: re.Pattern) -> Iterator[tuple[str, str]]:
    """(kind, text) pieces of `text`: kind `text`, `server`, `prefix` or `id`."""
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            yield "text", text[position:match.start()]
        yield match.lastgroup or "id", match.group(0)
        position = match.end()
    if position < len(text):
        yield "text", text[position:]
