"""Input checking, written against the docs by hand (not by loading schemas/, on purpose).

Sizes and depths come from limits.py; a value beyond one is refused with InvalidInput naming the limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import limits
from .errors import InvalidInput
from .ids import id_class

_MISSING = object()
_CONTROL = re.compile(r"[\x00-\x1f]")
TYPE_NAMES = {str: "a string", bool: "a boolean", dict: "a hash", list: "an array", int: "an integer"}


def is_of(value: Any, kind: type) -> bool:
    if kind is int:  # DNAnexus int: no bools, no floats (1.0 is a number, not an int)
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def expect(ok: bool, key: str, what: str) -> None:
    """InvalidInput 'expected key "KEY" of input to be WHAT' unless `ok`."""
    if not ok:
        raise InvalidInput(f'expected key "{key}" of input to be {what}')


def strings(value: Any, key: str) -> None:
    """`value` (at `key`) must be an array of strings."""
    expect(isinstance(value, list) and all(isinstance(v, str) for v in value), key, "an array of strings")


def field(inp: dict, key: str, kind: type, *, required: bool = False, default: Any = None) -> Any:
    """inp[key] checked to be of `kind` (str, bool, dict, list, int); InvalidInput otherwise."""
    value = inp.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise InvalidInput(f'expected input to have property "{key}"')
        return default
    if not is_of(value, kind):
        raise InvalidInput(f'expected key "{key}" of input to be {TYPE_NAMES[kind]}')
    return value


def string_list(inp: dict, key: str, *, required: bool = False, non_empty_items: bool = True) -> list[str] | None:
    value = field(inp, key, list, required=required)
    if value is None:
        return None
    for item in value:
        if not isinstance(item, str) or (non_empty_items and not item):
            raise InvalidInput(f'expected key "{key}" of input to be an array of non-empty strings')
    return value


def name(value: Any, key: str = "name") -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f'expected key "{key}" of input to be a non-empty string')
    if len(value) > limits.MAX_NAME_CHARS:
        raise InvalidInput(f'key "{key}" of input is longer than the limit of {limits.MAX_NAME_CHARS} '
                           "characters")
    if _CONTROL.search(value):
        raise InvalidInput(f'expected key "{key}" of input to contain no control characters')
    return value


def entity_id(value: Any, key: str, classes: set[str] | frozenset[str] | None = None) -> str:
    """A hash-form ID of one of `classes` (loose alphabet accepted)."""
    cls = id_class(value)
    if cls is None or (classes is not None and cls not in classes):
        allowed = "/".join(sorted(classes)) if classes else "an entity"
        raise InvalidInput(f'expected key "{key}" of input to be a {allowed} ID')
    return value


def normalize_folder(value: Any, key: str = "folder") -> str:
    """An absolute folder path: runs of '/' collapse, a trailing '/' is dropped; '.' and '..' refused, and
    so is a path beyond the folder limits (check_folder_limits)."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise InvalidInput(f'expected key "{key}" of input to be a string starting with "/"')
    parts = [p for p in value.split("/") if p]
    for p in parts:
        if p in (".", "..") or _CONTROL.search(p):
            raise InvalidInput(f'key "{key}" of input is not a valid folder path')
    path = "/" + "/".join(parts)
    check_folder_limits(path, key)
    return path


def check_folder_limits(path: str, key: str) -> None:
    """InvalidInput if a path breaks the folder limits (docs "Folders and Deletion")."""
    names = [p for p in path.split("/") if p]
    if len(path) >= limits.MAX_PATH_CHARS or len(names) > limits.MAX_FOLDER_DEPTH or \
            any(len(n) > limits.MAX_FOLDER_NAME_CHARS for n in names):
        raise InvalidInput(f'key "{key}" of input names a folder path beyond the limits (names up to '
                           f"{limits.MAX_FOLDER_NAME_CHARS} characters, paths under {limits.MAX_PATH_CHARS}, "
                           f"{limits.MAX_FOLDER_DEPTH} levels)")


def details_within_limits(value: Any, key: str = "details") -> Any:
    """`value` unchanged if it is within the details limits (compact UTF-8 JSON size, nesting depth).

    The characters of its strings and keys are a lower bound of its size, so details far too large are
    refused without being serialised (which would hold the GIL for as long as it takes)."""
    stack = [(value, 1)]
    characters = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            characters += len(node)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > limits.MAX_DETAILS_DEPTH:
            raise InvalidInput(f'key "{key}" of input nests deeper than the limit of '
                               f"{limits.MAX_DETAILS_DEPTH} levels")
        if isinstance(node, dict):
            characters += sum(map(len, node))
            children = node.values()
        else:
            children = node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list, str)))
    if characters > limits.MAX_DETAILS_BYTES:
        _details_too_large(key, f"at least {characters}")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > limits.MAX_DETAILS_BYTES:
        _details_too_large(key, str(size))
    return value


def _details_too_large(key: str, size: str) -> None:
    raise InvalidInput(f'key "{key}" of input is {size} bytes as JSON, more than the limit of '
                       f"{limits.MAX_DETAILS_BYTES} bytes")


def describe_fields(options: Any) -> tuple[set[str] | None, bool]:
    """(the fields asked for, or None without `fields`; defaultFields) of a describe input: a hash whose
    `fields` maps names to booleans and whose `defaultFields` (a boolean) defaults to true without `fields`.
    InvalidInput names the first malformed key."""
    if not isinstance(options, dict):
        raise InvalidInput("The describe input is not a hash (JSON object)")
    fields = options.get("fields")   # null: as if absent
    if fields is not None:
        expect(isinstance(fields, dict), "fields", "a hash")
        for key, value in fields.items():
            if not isinstance(value, bool):
                raise InvalidInput(f'expected key "fields.{key}" of input to be a boolean')
    default_fields = field(options, "defaultFields", bool, default=fields is None)
    return (None if fields is None else {k for k, v in fields.items() if v}), default_fields
