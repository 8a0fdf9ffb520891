"""The first faults of the catalogue, of every area: rewrites at the protocol boundary, handler wrappers on a
few routes, and a few that need some machinery (unknown keys, the ID alphabet, permission levels).

Registered into FAULTS on import (the package imports every fault module). Each breaks exactly one documented
rule; the handlers know nothing of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .. import errors
from ..handlers import load_all
from ..ids import HASH_CLASSES
from .helpers import (
    data_routes,
    json_body_rewrite,
    level_acts_as,
    parses,
    set_header,
    wrap_input,
    wrap_output,
)
from .registry import Fault, Handler, fault


def _walk_keys(data: Any, keys: set[str], fn: Callable[[Any], Any]) -> Any:
    if isinstance(data, dict):
        return {k: (fn(v) if k in keys and isinstance(v, int) and not isinstance(v, bool)
                    else _walk_keys(v, keys, fn)) for k, v in data.items()}
    if isinstance(data, list):
        return [_walk_keys(v, keys, fn) for v in data]
    return data


def _without(*keys: str) -> Callable[[Any], Any]:
    return lambda inp: {k: v for k, v in inp.items() if k not in keys} if isinstance(inp, dict) else inp


def _validated_then_without(*keys: str) -> Callable[[Handler], Handler]:
    """Check the input as it came (a bad value is still refused), then answer as if `keys` were absent."""
    return lambda handler: (lambda ctx, inp: (handler(ctx, inp), handler(ctx, _without(*keys)(inp)))[1])


_TIME_KEYS = {"created", "modified"}

# -- protocol faults --------------------------------------------------------------------------------------
fault(Fault("text-plain-answers", "json-output", "answers carry Content-Type: application/json",
            response=lambda s, h, b: (s, set_header(h, b"content-type", b"text/plain"), b)))
fault(Fault("no-nosniff", "json-output", "answers carry X-Content-Type-Options: nosniff",
            response=lambda s, h, b: (s, set_header(h, b"x-content-type-options", None), b)))
fault(Fault("html-error-pages", "json-output", "error answers are the JSON error envelope",
            response=lambda s, h, b: (s, h, b) if s < 400 else
            (s, set_header(h, b"content-type", b"text/html"), b"<html><body><h1>Error</h1></body></html>")))
fault(Fault("envelope-without-error", "json-output", 'error answers are {"error": {"type", "message"}}',
            response=json_body_rewrite(lambda s, d: d.get("error", d) if isinstance(d, dict) else d,
                                       statuses=range(400, 600))))
fault(Fault("invalid-input-as-400", "json-output", "InvalidInput is answered with HTTP 422",
            response=lambda s, h, b: (400 if s == 422 and b'"InvalidInput"' in b else s, h, b)))
fault(Fault("timestamps-in-seconds", "data-types", "timestamps are milliseconds since the epoch",
            response=json_body_rewrite(lambda s, d: _walk_keys(d, _TIME_KEYS, lambda v: v // 1000))))
fault(Fault("float-timestamps", "data-types", "int and timestamp values are JSON integers (no fraction)",
            response=json_body_rewrite(lambda s, d: _walk_keys(d, _TIME_KEYS, float))))
fault(Fault("accepts-invalid-json", "json-input", "a body that is not valid JSON is refused with MalformedJSON",
            request=lambda m, p, h, b: (m, p, h, b if parses(b) else b"{}")))
fault(Fault("accepts-get", "url-forms", "every API method is a POST; other methods are refused",
            request=lambda m, p, h, b: ("POST" if m == "GET" else m, p, h, b or b"{}")))
fault(Fault("ignores-token", "auth", "a missing or unknown token is refused with InvalidAuthentication",
            tokens_taken=frozenset({"missing", "unknown"})))
fault(Fault("hangs-on-whoami", "url-forms", "every API method answers (here: /system/whoami never does)",
            stall=(("/system/whoami",), 3600.0)))


# -- semantic faults (handler wrappers) -------------------------------------------------------------------
fault(Fault("close-does-nothing", "semantics", "close moves an open object to closing/closed",
            routes=data_routes("close"), wrap=lambda handler: (lambda ctx, inp: {"id": ctx.subject})))
fault(Fault("tags-do-not-stick", "semantics", "addTags adds the tags to the object's copy",
            routes=data_routes("addTags"), wrap=lambda handler: (lambda ctx, inp: {"id": ctx.subject})))
fault(Fault("null-keeps-property", "semantics", "setProperties with a null value deletes the property",
            routes=data_routes("setProperties"),
            wrap=wrap_input(lambda inp: {**inp, "properties": {k: v for k, v in inp["properties"].items()
                                                               if v is not None}}
                            if isinstance(inp, dict) and isinstance(inp.get("properties"), dict) else inp)))
fault(Fault("describe-ignores-fields", "semantics", "describe with fields answers exactly id + those fields",
            routes=data_routes("describe"), wrap=wrap_input(_without("fields", "defaultFields"))))
fault(Fault("links-not-deduplicated", "semantics", "describe lists each linked ID once in links",
            routes=data_routes("describe"),
            wrap=wrap_output(lambda out: {**out, "links": out["links"] * 2} if isinstance(out.get("links"), list)
                             and out["links"] else out)))
fault(Fault("limit-ignored", "semantics", "findDataObjects answers at most `limit` results",
            routes=("/system/findDataObjects",), wrap=_validated_then_without("limit")))
fault(Fault("glob-as-exact", "semantics", "a {glob} name filter matches * and ? patterns",
            routes=("/system/findDataObjects",),
            wrap=wrap_input(lambda inp: {**inp, "name": inp["name"]["glob"]}
                            if isinstance(inp.get("name"), dict) and "glob" in inp["name"] else inp)))
fault(Fault("paging-skips", "semantics", "paging with starting/next never skips an object",
            routes=("/system/findDataObjects",),
            wrap=wrap_output(lambda out: {**out, "results": out["results"][:-1]}
                             if out.get("next") and out.get("results") else out)))
fault(Fault("folders-unsorted", "semantics", "listFolder answers folders sorted",
            routes=("/project-xxxx/listFolder", "/container-xxxx/listFolder"),
            wrap=wrap_output(lambda out: {**out, "folders": sorted(out["folders"], reverse=True)}
                             if isinstance(out.get("folders"), list) else out)))
fault(Fault("nonce-not-idempotent", "semantics", "a repeated nonce with the same input returns the same ID",
            routes=("/file/new", "/record/new"), drop_nonce=True))
fault(Fault("range-ignored", "semantics", "the download URL honours Range",
            request=lambda m, p, h, b: (m, p, {k: v for k, v in h.items() if k != "range"}
                                        if p.startswith("/_dx/") else h, b)))


# -- faults that need a little machinery ------------------------------------------------------------------
def _every_route(keep: Callable[[str], bool]) -> tuple[str, ...]:
    return tuple(sorted(r for r in load_all() if keep(r)))


class _ReadTracker(dict):
    """An input mapping that remembers which keys the handler looked at (get, [], in, or any iteration)."""

    def __init__(self, data: dict):
        super().__init__(data)
        self.read: set = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def _all(self):
        self.read.update(super().keys())

    def keys(self):
        self._all()
        return super().keys()

    def items(self):
        self._all()
        return super().items()

    def values(self):
        self._all()
        return super().values()

    def __iter__(self):
        self._all()
        return super().__iter__()

    def copy(self):
        self._all()
        return dict(super().items())


def _reject_unread_keys(handler: Handler) -> Handler:
    """Refuse input keys the handler never read: what a server does that rejects unknown fields."""

    def strict(ctx, inp):
        if not isinstance(inp, dict):
            return handler(ctx, inp)
        tracked = _ReadTracker(inp)
        out = handler(ctx, tracked)
        unread = sorted(set(inp) - tracked.read - {"nonce"})
        if unread:  # raised inside the request's transaction, so whatever the handler did is rolled back
            raise errors.InvalidInput(f"unknown key(s) in input: {', '.join(map(str, unread))}")
        return out

    return strict


def _missing_subject_as_invalid_input(handler: Handler) -> Handler:
    """An entity ID in the URL that names nothing is answered InvalidInput instead of ResourceNotFound."""

    def wrapped(ctx, inp):
        table = "containers" if ctx.subject.split("-", 1)[0] in ("project", "container") else "objects"
        if ctx.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (ctx.subject,)).fetchone() is None:
            raise errors.InvalidInput(f"{ctx.subject} is not a valid ID")
        return handler(ctx, inp)

    return wrapped


# server stays consistent and only the alphabet rule breaks.
_STRICT, _VOWELS = b"BFGJKbfgjk", b"AEIOUaeiou"
_TO_VOWELS, _FROM_VOWELS = bytes.maketrans(_STRICT, _VOWELS), bytes.maketrans(_VOWELS, _STRICT)
_ID_TOKEN = re.compile(rb"\b(" + b"|".join(c.encode() for c in sorted(HASH_CLASSES)) + rb")-([0-9A-Za-z]{24})\b")


def _map_ids(data: bytes, table: bytes) -> bytes:
    return _ID_TOKEN.sub(lambda m: m.group(1) + b"-" + m.group(2).translate(table), data)


def _ids_back_to_strict(method, path, headers, body):
    # the path is text (any Unicode a client puts in a URL); only ASCII IDs are mapped
    path = re.sub(_ID_TOKEN.pattern.decode(), lambda m: _map_ids(m.group(0).encode(), _FROM_VOWELS).decode(), path)
    return method, path, headers, _map_ids(body, _FROM_VOWELS)


_WRITE_ROUTES = data_routes("addTags", "removeTags", "addTypes", "removeTypes", "rename", "setDetails",
                            "setProperties", "setVisibility", "close") + (
    "/file/new", "/record/new", "/file-xxxx/upload",
    *(f"/{c}-xxxx/{m}" for c in ("project", "container")
      for m in ("newFolder", "removeFolder", "removeObjects", "move", "renameFolder", "clone")),
    "/project-xxxx/update", "/project-xxxx/setProperties", "/project-xxxx/addTags", "/project-xxxx/removeTags")

fault(Fault("unknown-fields-rejected", "json-input", "unknown input keys are ignored, not rejected",
            routes=_every_route(lambda r: not r.endswith("/setDetails")), wrap=_reject_unread_keys))
fault(Fault("accepts-any-content-type", "json-input",
            "a Content-Type other than application/json is refused with MalformedJSON",
            request=lambda m, p, h, b: (m, p, {k: v for k, v in h.items() if k != "content-type"}
                                        if not p.startswith("/_dx/") else h, b)))
fault(Fault("missing-id-as-invalid-input", "url-forms",
            "a well-formed entity ID in the URL that does not exist gets ResourceNotFound (404)",
            routes=_every_route(lambda r: "-xxxx/" in r), wrap=_missing_subject_as_invalid_input))
fault(Fault("ids-outside-alphabet", "data-types",
            "generated entity IDs use only the strict alphabet 0-9BFGJKPQVXYZbfgjkpqvxyz",
            request=_ids_back_to_strict,
            response=lambda s, h, b: (s, h, _map_ids(b, _TO_VOWELS))))
fault(Fault("permission-denied-as-403", "auth", "PermissionDenied is answered with HTTP 401",
            response=lambda s, h, b: (403 if s == 401 and b'"PermissionDenied"' in b else s, h, b)))
fault(Fault("permission-not-enforced-at-view", "auth",
            "a VIEW member cannot change a project or its objects (PermissionDenied)",
            routes=_WRITE_ROUTES, wrap=level_acts_as("VIEW", "CONTRIBUTE")))
fault(Fault("md5-not-checked", "semantics", "an uploaded part whose bytes do not match its md5 is refused",
            routes=("/file-xxxx/upload",), wrap=wrap_input(_without("md5")),
            request=lambda m, p, h, b: (m, p, {k: v for k, v in h.items() if k != "content-md5"}
                                        if p.startswith("/_dx/") else h, b)))
