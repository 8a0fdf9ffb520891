"""Faults that only generated inputs are expected to find (edge values, wrong types, rare output gaps).

Registered into FAULTS on import (the package imports every fault module). Each is a handler
wrapper keyed by route and breaks exactly one rule; the handlers themselves know nothing of them.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from ..iospec import check_spec
from .registry import Fault, fault

# Longest name the crash-on-long-name fault lets through: a name of 1 KiB and more makes it answer 500.
LONG_NAME = 1000
# Deepest details the crash-on-deep-details fault lets through.
DEEP_DETAILS = 32


class FaultCrash(RuntimeError):
    """Raised by a fault to play a server bug: the app turns it into 500 InternalError."""


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value: a scalar is 0, [] or {} is 1. Iterative: deep input must not recurse."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            pending.extend((child, depth) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _crash_if(test):
    """Wrap a handler so that an input passing `test` crashes it (500) instead of being handled."""
    def wrap(handler):
        def crashing(ctx, inp):
            if test(inp):
                raise FaultCrash("deliberate fault: the handler crashed on this input")
            return handler(ctx, inp)
        return crashing
    return wrap


def _long_name(inp: Any) -> bool:
    return isinstance(inp, dict) and isinstance(inp.get("name"), str) and len(inp["name"]) > LONG_NAME


def _crash_if_deep_details(handler):
    """/new takes details under `details`; setDetails takes the details themselves."""
    def crashing(ctx, inp):
        details = inp if ctx.route.endswith("/setDetails") else (inp.get("details") if isinstance(inp, dict) else None)
        if _depth(details) > DEEP_DETAILS:
            raise FaultCrash("deliberate fault: the handler crashed on deep details")
        return handler(ctx, inp)
    return crashing


def _tags_as_list(inp: Any) -> Any:
    if isinstance(inp, dict) and isinstance(inp.get("tags"), str):
        return {**inp, "tags": [inp["tags"]]}
    return inp


def _omit_id_with_details(handler):
    def describe(ctx, inp):
        out = handler(ctx, inp)
        if isinstance(inp, dict) and inp.get("details") is True and isinstance(out, dict):
            out = {k: v for k, v in out.items() if k != "id"}
        return out
    return describe


def _valid_io_spec(value: Any, key: str) -> bool:
    try:
        check_spec(value, key)
    except InvalidInput:
        return False
    return True


def _bad_io_specs_dropped(inp: Any) -> Any:
    """The input without an inputSpec or outputSpec the server would refuse (as if none had been given)."""
    if not isinstance(inp, dict):
        return inp
    return {k: v for k, v in inp.items() if k not in ("inputSpec", "outputSpec") or _valid_io_spec(v, k)}


fault(Fault("crash-on-long-name", "semantics", f"a name of any length is answered without a 5xx (here: 500 over "
            f"{LONG_NAME} characters)", routes=("/record/new", "/file-xxxx/rename", "/record-xxxx/rename"),
            wrap=_crash_if(_long_name)))
fault(Fault("crash-on-deep-details", "semantics", f"details of any depth are answered without a 5xx (here: 500 "
            f"deeper than {DEEP_DETAILS})",
            routes=("/record/new", "/file/new", "/record-xxxx/setDetails", "/file-xxxx/setDetails"),
            wrap=_crash_if_deep_details))
fault(Fault("accepts-wrong-type", "json-input", "addTags refuses tags that are not an array (here: a string is "
            "taken as one tag)", routes=("/file-xxxx/addTags", "/record-xxxx/addTags"),
            wrap=lambda handler: (lambda ctx, inp: handler(ctx, _tags_as_list(inp)))))
fault(Fault("omits-id-on-some-input", "json-output", "describe always answers the object's id (here: not when "
            "details: true is asked)", routes=("/file-xxxx/describe", "/record-xxxx/describe"),
            wrap=_omit_id_with_details))
fault(Fault("applet-ignores-bad-io-spec", "json-input", "/applet/new refuses an invalid inputSpec or outputSpec "
            "(here: one is ignored and the applet made without it)", routes=("/applet/new",),
            wrap=lambda handler: (lambda ctx, inp: handler(ctx, _bad_io_specs_dropped(inp)))))

# The faults of this module: caught by fuzzing (tests/fuzz), not by a hand-written probe.
FUZZ_FAULTS = frozenset({"crash-on-long-name", "crash-on-deep-details", "accepts-wrong-type",
                         "omits-id-on-some-input", "applet-ignores-bad-io-spec"})
