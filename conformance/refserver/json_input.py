"""Request bodies as JSON values within the limits: syntax, nesting depth, number range, lone surrogates.

`parse` turns the bytes of a body into a value or raises MalformedJSON (not JSON at all) or InvalidInput
(JSON beyond a limit of limits.py, the limit named). Everything it returns can be stored and answered again
as valid JSON: no NaN or infinity, no integer beyond 2**53 - 1, no string that UTF-8 cannot encode.

Two parsers: msgspec first, several times faster than the standard library's json (a parse holds the GIL, so
a 50 MB body would otherwise hold up every other thread for a fifth of a second); Python's json, with hooks
that check each number, for bodies that may hold a surrogate escape (msgspec's messages about them are
obscure) and to say exactly what is wrong with a body msgspec refuses. Integers msgspec returns are checked
by the walk that checks the depth.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from .errors import DXError, InvalidInput, MalformedJSON
from .limits import MAX_JSON_DEPTH, MAX_SAFE_INTEGER

# A \u escape of a UTF-16 surrogate. Only these can make a lone surrogate (strict UTF-8 decoding refuses
# encoded ones), so a body without any skips the walk over its strings.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# A body that may hold a lone surrogate goes to Python's json, which says so clearly.
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_FAST = msgspec.json.Decoder()
_BOM = b"\xef\xbb\xbf"


class _Refused(ValueError):
    """A number beyond the limits, raised from inside json.loads."""


def _constant(name: str):
    # Python's json accepts NaN and Infinity; RFC 8259 JSON does not.
    raise ValueError(f"{name} is not a JSON value")


def _integer_message(text: str) -> str:
    return (f"the integer {text[:24]}{'...' if len(text) > 24 else ''} is beyond the limit of magnitude "
            f"2**53 - 1 ({MAX_SAFE_INTEGER}) for numbers in a request")


def _integer(text: str) -> int:
    if len(text) >= 16 and abs(int(text)) > MAX_SAFE_INTEGER:  # 15 digits are always within
        raise _Refused(_integer_message(text))
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:24]} is beyond the range of finite JSON numbers (IEEE 754 double)")
    return value


def _depth_error() -> InvalidInput:
    return InvalidInput(f"the input nests arrays and objects deeper than the limit of {MAX_JSON_DEPTH} levels")


def parse(body: bytes) -> Any:
    if body.startswith(_BOM):  # RFC 8259 section 8.1: a parser may ignore it, as Python's json did
        body = body[len(_BOM):]
    if not _SURROGATE_ESCAPE_BYTES.search(body):
        try:
            value = _FAST.decode(body)
        except msgspec.ValidationError:  # its only check here: a number beyond the range of a double
            raise InvalidInput("a number in the input is beyond the range of finite JSON numbers "
                               "(IEEE 754 double)") from None
        except RecursionError:
            raise _depth_error() from None
        except msgspec.DecodeError:
            return _parse_with_hooks(body)  # refused either way: Python's json says why
        check_value(value, with_strings=False, with_integers=True)
        return value
    return _parse_with_hooks(body)


def _parse_with_hooks(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON(f"The request body is not valid UTF-8: {exc}") from None
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise InvalidInput(str(exc)) from None
    except RecursionError:
        raise _depth_error() from None
    except ValueError as exc:
        raise MalformedJSON(f"The request body is not valid JSON: {exc}") from None
    check_value(value, with_strings=_SURROGATE_ESCAPE.search(text) is not None)
    return value


def check_value(value: Any, *, with_strings: bool = True, with_integers: bool = False) -> None:
    """InvalidInput if `value` nests deeper than MAX_JSON_DEPTH, or holds a string or key with a lone
    surrogate (with_strings), or an integer beyond MAX_SAFE_INTEGER (with_integers). Iterative: no recursion
    limit to hit."""
    stack = [(value, 1)]
    if with_integers and type(value) is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise InvalidInput(_integer_message(str(value)))
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            items = node.values()
            if with_strings:
                for key in node:
                    _check_string(key)
        elif isinstance(node, list):
            items = node
        else:
            if with_strings and isinstance(node, str):
                _check_string(node)
            continue
        if depth > MAX_JSON_DEPTH:
            raise _depth_error()
        for item in items:
            kind = type(item)
            if kind is dict or kind is list or with_strings:
                stack.append((item, depth + 1))
            elif with_integers and kind is int and not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise InvalidInput(_integer_message(str(item)))


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("a string in the input holds a lone UTF-16 surrogate (such as \\ud800), which is "
                           "not a Unicode character; strings must be valid Unicode") from None


@dataclass(frozen=True)
class Parsed:
    """A body parsed ahead of its handling: the value, or the error its parse raised."""

    result: Any = None
    error: DXError | None = None

    @classmethod
    def of(cls, body: bytes) -> Parsed:
        try:
            return cls(parse(body))
        except DXError as exc:
            return cls(error=exc)

    def value(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result
