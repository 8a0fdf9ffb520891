"""Comparing two JSON values field by field with the run's volatile values normalised: IDs mapped one to one
between the runs, timestamps judged by type and plausibility, run prefix and server URL as themselves."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ..model import format_path, json_type
from .volatile import ID_PATTERN, tokens

_WHOLE_ID = re.compile(f"^(?:{ID_PATTERN})$")

# Integers in this range (ms since the epoch, 2000-01-01 to 2100-01-01) are taken for timestamps.
TIMESTAMP_RANGE = (946_684_800_000, 4_102_444_800_000)
# A candidate's timestamp more than this far in the future is implausible (clocks differ a little).
FUTURE_SLACK_MS = 24 * 3600 * 1000
# Keys whose integer values are timestamps whatever their size.
TIMESTAMP_KEYS = frozenset({"created", "modified", "expires", "createdAt", "modifiedAt", "lastModified"})


class Absent:
    """A key or step present on one side only."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = Absent()


@dataclass(frozen=True)
class Mismatch:
    """One difference between two values: its kind, where, and both sides."""

    kind: str          # only-in-golden, only-in-candidate, type, value, length, timestamp
    path: str
    golden: Any
    candidate: Any
    detail: str = ""


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else item
    return value if isinstance(value, str) and _WHOLE_ID.match(value) else None


class IdMap:
    """The one-to-one correspondence between the two runs' IDs, learnt where they meet at the same place."""

    def __init__(self) -> None:
        self.to_candidate: dict[str, str] = {}
        self.to_golden: dict[str, str] = {}

    def pair(self, golden: str, candidate: str) -> str:
        """'' if the two may stand for each other (recording the pair), else why not."""
        if golden.split("-", 1)[0] != candidate.split("-", 1)[0]:
            return f"an ID of another class ({candidate.split('-', 1)[0]} for {golden.split('-', 1)[0]})"
        known = self.to_candidate.get(golden)
        if known is not None:
            return "" if known == candidate else f"this ID stood for {known} earlier in the run"
        if candidate in self.to_golden:
            return f"this ID stood for another ID ({self.to_golden[candidate]}) earlier in the run"
        self.to_candidate[golden] = candidate
        self.to_golden[candidate] = golden
        return ""


class Walker:
    """Walks a golden value and a candidate value side by side and lists their mismatches."""

    def __init__(self, ids: IdMap, golden_pattern: re.Pattern, candidate_pattern: re.Pattern,
                 now_ms: int | None = None):
        self.ids = ids
        self.golden_pattern = golden_pattern
        self.candidate_pattern = candidate_pattern
        self.latest_ms = (now_ms or int(time.time() * 1000)) + FUTURE_SLACK_MS
        # Set while comparing one page of a paged listing: which objects land on a page follows the order
        # of their IDs, which differ between runs, so IDs there are compared by class only.
        self.loose_ids = False

    def compare(self, golden: Any, candidate: Any, path: tuple = ()) -> list[Mismatch]:
        found: list[Mismatch] = []
        self._value(golden, candidate, path, found)
        return found

    # -- values ---------------------------------------------------------------------------------------------
    def _value(self, g: Any, c: Any, path: tuple, found: list[Mismatch]) -> None:
        where = format_path(path)
        if self._timestamp(g, c, path):
            if g != c and not TIMESTAMP_RANGE[0] <= c <= self.latest_ms:
                found.append(Mismatch("timestamp", where, g, c, "not a plausible timestamp (ms since the epoch)"))
            return
        kind_g, kind_c = json_type(g), json_type(c)
        if kind_g != kind_c:
            found.append(Mismatch("type", where, g, c, f"{kind_g} in the golden answer, {kind_c} here"))
        elif kind_g == "object":
            self._object(g, c, path, found)
        elif kind_g == "array":
            if len(g) != len(c):
                found.append(Mismatch("length", where, len(g), len(c), f"{len(g)} items in the golden answer, "
                                                                        f"{len(c)} here"))
            for index, (gi, ci) in enumerate(self._align(g, c)):
                self._value(gi, ci, path + (index,), found)
        elif kind_g == "string":
            why = self.strings(g, c)
            if why is not None:
                found.append(Mismatch("value", where, g, c, why))
        elif g != c:
            found.append(Mismatch("value", where, g, c))

    def _align(self, g: list, c: list) -> list[tuple[Any, Any]]:
        """Item pairs of two arrays. Arrays of IDs (or of objects with an `id`) are matched through the ID
        correspondence, not by position: their order follows the IDs, which differ between runs (on a page of
        a paged listing too, for the IDs the correspondence already knows)."""
        keys_g, keys_c = [_item_id(item) for item in g], [_item_id(item) for item in c]
        if None in keys_g or None in keys_c:
            return list(zip(g, c, strict=False))
        free = list(range(len(c)))
        partner: dict[int, int] = {}
        for index, key in enumerate(keys_g):
            known = self.ids.to_candidate.get(key, key if key in keys_c else None)
            if known in keys_c and keys_c.index(known) in free:
                partner[index] = keys_c.index(known)
                free.remove(partner[index])
        for index in range(len(g)):
            if index not in partner and free:
                partner[index] = free.pop(0)
        return [(g[index], c[partner[index]]) for index in sorted(partner)]

    def _timestamp(self, g: Any, c: Any, path: tuple) -> bool:
        if json_type(g) != "integer" or json_type(c) != "integer":
            return False
        keyed = bool(path) and path[-1] in TIMESTAMP_KEYS
        in_range = TIMESTAMP_RANGE[0] <= g <= TIMESTAMP_RANGE[1]
        return in_range and (keyed or TIMESTAMP_RANGE[0] <= c <= TIMESTAMP_RANGE[1])

    def _object(self, g: dict, c: dict, path: tuple, found: list[Mismatch]) -> None:
        matched = self._match_keys(list(g), list(c))
        for key in g:
            if key not in matched:
                found.append(Mismatch("only-in-golden", format_path(path + (key,)), g[key], ABSENT,
                                      "the golden answer has this key, this one does not"))
        for key in c:
            if key not in matched.values():
                found.append(Mismatch("only-in-candidate", format_path(path + (key,)), ABSENT, c[key],
                                      "this answer has a key the golden answer does not"))
        for key_g, key_c in matched.items():
            self._value(g[key_g], c[key_c], path + (key_g,), found)

    def _match_keys(self, golden: list[str], candidate: list[str]) -> dict[str, str]:
        """Golden key -> candidate key: equal keys, then keys equal up to volatile values (IDs as keys)."""
        matched = {key: key for key in golden if key in candidate}
        left = [key for key in candidate if key not in matched]
        for key in golden:
            if key in matched:
                continue
            for other in left:
                if self._same_shape(key, other) and self.strings(key, other) is None:
                    matched[key] = other
                    left.remove(other)
                    break
        return matched

    def _same_shape(self, g: str, c: str) -> bool:
        shape_g = [(kind, text if kind == "text" else "") for kind, text in tokens(g, self.golden_pattern)]
        shape_c = [(kind, text if kind == "text" else "") for kind, text in tokens(c, self.candidate_pattern)]
        return shape_g == shape_c and any(kind != "text" for kind, _ in shape_g)

    # -- strings --------------------------------------------------------------------------------------------
    def strings(self, g: str, c: str) -> str | None:
        """None if two strings agree once volatile values are normalised, else why they do not."""
        if g == c and not any(kind == "id" for kind, _ in tokens(g, self.golden_pattern)):
            return None
        pieces_g = list(tokens(g, self.golden_pattern))
        pieces_c = list(tokens(c, self.candidate_pattern))
        if [kind for kind, _ in pieces_g] != [kind for kind, _ in pieces_c]:
            return "different text"
        for (kind, text_g), (_, text_c) in zip(pieces_g, pieces_c, strict=True):
            if kind == "text" and text_g != text_c:
                return "different text"
            if kind == "id" and self.loose_ids:
                why = "" if text_g.split("-", 1)[0] == text_c.split("-", 1)[0] else "an ID of another class"
                if why:
                    return why
            elif kind == "id":
                why = self.ids.pair(text_g, text_c)
                if why:
                    return why
        return None
