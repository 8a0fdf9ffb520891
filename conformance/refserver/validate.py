"""Input checking, written against the docs by hand (not by loading schemas/, on purpose)."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidInput
from .ids import id_class

_MISSING = object()
_CONTROL = re.compile(r"[\x00-\x1f]")
_TYPE_NAMES = {str: "a string", bool: "a boolean", dict: "a hash", list: "an array", int: "an integer"}


def _is(value: Any, kind: type) -> bool:
    if kind is int:  # DNAnexus int: no bools, no floats (1.0 is a number, not an int)
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def field(inp: dict, key: str, kind: type, *, required: bool = False, default: Any = None) -> Any:
    """inp[key] checked to be of `kind` (str, bool, dict, list, int); InvalidInput otherwise."""
    value = inp.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise InvalidInput(f'expected input to have property "{key}"')
        return default
    if not _is(value, kind):
        raise InvalidInput(f'expected key "{key}" of input to be {_TYPE_NAMES[kind]}')
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
    """An absolute folder path: runs of '/' collapse, a trailing '/' is dropped; '.' and '..' refused."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise InvalidInput(f'expected key "{key}" of input to be a string starting with "/"')
    parts = [p for p in value.split("/") if p]
    for p in parts:
        if p in (".", "..") or _CONTROL.search(p):
            raise InvalidInput(f'key "{key}" of input is not a valid folder path')
    return "/" + "/".join(parts)
