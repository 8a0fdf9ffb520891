"""Data object metadata rules: tags, types, properties, details and the links found in details.

Each checker takes the raw input value and the key it came under, and returns the value to store or raises
InvalidInput. Sources: the docs pages "Tags", "Types", "Properties", "Details and Links" (digest 4.3).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidInput
from .ids import id_class

# A type is a word of ASCII 47-57, 65-90, 95, 97-122: digits, letters, '/' and '_' (docs "Types").
TYPE_RE = re.compile(r"^[0-9A-Za-z/_]+$")
PROPERTY_KEY_MAX_BYTES = 100
PROPERTY_VALUE_MAX_BYTES = 700
LINK_KEY = "$dnanexus_link"


def tags(value: Any, key: str = "tags") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise InvalidInput(f'expected key "{key}" of input to be an array of non-empty strings')
    return list(dict.fromkeys(value))


def types(value: Any, key: str = "types") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidInput(f'expected key "{key}" of input to be an array of strings')
    for t in value:
        if not TYPE_RE.match(t):
            raise InvalidInput(f'type {t!r} in key "{key}" of input is not a valid type name '
                               "(letters, digits, '/' and '_' only)")
    return list(dict.fromkeys(value))


def properties(value: Any, key: str = "properties", *, allow_null: bool) -> dict[str, str | None]:
    """A properties mapping; null values (deletions) only where `allow_null` (setProperties)."""
    if not isinstance(value, dict):
        raise InvalidInput(f'expected key "{key}" of input to be a hash')
    for k, v in value.items():
        if len(k.encode("utf-8")) > PROPERTY_KEY_MAX_BYTES:
            raise InvalidInput(f'expected each key of "{key}" of input to be no longer than '
                               f"{PROPERTY_KEY_MAX_BYTES} UTF-8 encoded bytes")
        if v is None and allow_null:
            continue
        if not isinstance(v, str):
            allowed = "a string or null" if allow_null else "a string"
            raise InvalidInput(f'expected key "{key}.{k}" of input to be {allowed}')
        if len(v.encode("utf-8")) > PROPERTY_VALUE_MAX_BYTES:
            # The wording of a real platform answer (recorded 422 on properties.batch-id).
            raise InvalidInput(f'Expected key "{key}.{k}" of input to be no longer than '
                               f"{PROPERTY_VALUE_MAX_BYTES} UTF-8 encoded bytes")
    return value


def merge_properties(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """setProperties: a null value deletes the key, a string sets it, absent keys stay."""
    merged = dict(current)
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def details(value: Any, key: str = "details") -> tuple[Any, list[str]]:
    """Checked details (a JSON object or array) and the de-duplicated IDs it links to, in first-seen order."""
    if not isinstance(value, (dict, list)):
        raise InvalidInput(f'expected key "{key}" of input to be a JSON object or array')
    found: list[str] = []
    _walk(value, found)
    return value, list(dict.fromkeys(found))


def _walk(node: Any, found: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, found)
    elif isinstance(node, dict):
        if LINK_KEY in node:
            _link(node, found)
            return
        for item in node.values():
            _walk(item, found)


def _link(node: dict, found: list[str]) -> None:
    if len(node) != 1:
        raise InvalidInput(f'a hash with key "{LINK_KEY}" in the details must have no other key')
    target = node[LINK_KEY]
    if isinstance(target, str):
        if id_class(target) is not None:
            found.append(target)
        return
    if isinstance(target, dict):
        # {"id", "project"}: a link to an object in a given project.
        if isinstance(target.get("id"), str) and set(target) <= {"id", "project"} and \
                isinstance(target.get("project", ""), str):
            if id_class(target["id"]) is not None:  # as for the string form: only an object ID links
                found.append(target["id"])
            return
        # Job-based object reference: {"job" | "analysis": ID, "field": name (, "index")}; not a data link.
        if (isinstance(target.get("job"), str) or isinstance(target.get("analysis"), str)) and \
                isinstance(target.get("field"), str):
            return
    raise InvalidInput(f'the value of "{LINK_KEY}" in the details must be an object ID string '
                       '(or {"id", "project"} / {"job", "field"})')
