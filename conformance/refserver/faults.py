"""Deliberate faults: each breaks exactly one documented rule, switched on by name (serve --fault NAME).

The suite proves its worth by catching them. They live here, outside the normal code paths: a fault either
rewrites a request or a response at the protocol boundary, wraps the handler of some routes (rewriting their
input or output), or delays a route. Nothing in the handlers knows faults exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .handlers import load_all
from .ids import HASH_CLASSES

Handler = Callable[[Any, Any], Any]

DATA_CLASSES = ("file", "record")


def _routes(*methods: str, classes: tuple[str, ...] = DATA_CLASSES) -> tuple[str, ...]:
    return tuple(f"/{cls}-xxxx/{m}" for m in methods for cls in classes)


@dataclass(frozen=True)
class Fault:
    name: str
    area: str                      # the area of the rule it breaks (url-forms, json-input, ... semantics)
    rule: str                      # the rule it breaks, one line
    # protocol boundary: (method, path, headers, body) -> same, before anything else runs
    request: Callable[[str, str, dict[str, str], bytes], tuple[str, str, dict[str, str], bytes]] | None = None
    # protocol boundary: (status, headers list, body bytes) -> same, on every API answer
    response: Callable[[int, list[tuple[bytes, bytes]], bytes], tuple[int, list, bytes]] | None = None
    # handler level: the routes whose handler is wrapped, and the wrapper
    routes: tuple[str, ...] = ()
    wrap: Callable[[Handler], Handler] | None = None
    # seconds to stall before answering a path ending in one of these suffixes
    stall: tuple[tuple[str, ...], float] | None = None
    # routes that stop being treated as nonce-accepting
    drop_nonce: bool = False


FAULTS: dict[str, Fault] = {}


def fault(f: Fault) -> Fault:
    FAULTS[f.name] = f
    return f


# -- helpers ---------------------------------------------------------------------------------------------
def _json_body_rewrite(fn: Callable[[int, Any], Any], statuses=range(200, 300)):
    """A response rewrite that edits the parsed JSON of answers whose status is in `statuses`."""

    def rewrite(status, headers, body):
        if status not in statuses:
            return status, headers, body
        try:
            data = json.loads(body)
        except ValueError:
            return status, headers, body
        return status, headers, json.dumps(fn(status, data)).encode()

    return rewrite


def _walk_keys(data: Any, keys: set[str], fn: Callable[[Any], Any]) -> Any:
    if isinstance(data, dict):
        return {k: (fn(v) if k in keys and isinstance(v, int) and not isinstance(v, bool)
                    else _walk_keys(v, keys, fn)) for k, v in data.items()}
    if isinstance(data, list):
        return [_walk_keys(v, keys, fn) for v in data]
    return data


def _set_header(headers: list, name: bytes, value: bytes | None) -> list:
    out = [(k, v) for k, v in headers if k != name]
    if value is not None:
        out.append((name, value))
    return out


def _input(fn: Callable[[Any], Any]) -> Callable[[Handler], Handler]:
    """Wrap a handler so that it sees `fn(input)` instead of its input."""
    return lambda handler: (lambda ctx, inp: handler(ctx, fn(inp)))


def _output(fn: Callable[[Any], Any]) -> Callable[[Handler], Handler]:
    """Wrap a handler so that the client sees `fn(output)`."""
    return lambda handler: (lambda ctx, inp: fn(handler(ctx, inp)))


def _without(*keys: str) -> Callable[[Any], Any]:
    return lambda inp: {k: v for k, v in inp.items() if k not in keys} if isinstance(inp, dict) else inp


def _validated_then_without(*keys: str) -> Callable[[Handler], Handler]:
    """Check the input as it came (a bad value is still refused), then answer as if `keys` were absent."""
    return lambda handler: (lambda ctx, inp: (handler(ctx, inp), handler(ctx, _without(*keys)(inp)))[1])


_TIME_KEYS = {"created", "modified"}

# -- protocol faults --------------------------------------------------------------------------------------
fault(Fault("text-plain-answers", "json-output", "answers carry Content-Type: application/json",
            response=lambda s, h, b: (s, _set_header(h, b"content-type", b"text/plain"), b)))
fault(Fault("no-nosniff", "json-output", "answers carry X-Content-Type-Options: nosniff",
            response=lambda s, h, b: (s, _set_header(h, b"x-content-type-options", None), b)))
fault(Fault("html-error-pages", "json-output", "error answers are the JSON error envelope",
            response=lambda s, h, b: (s, h, b) if s < 400 else
            (s, _set_header(h, b"content-type", b"text/html"), b"<html><body><h1>Error</h1></body></html>")))
fault(Fault("envelope-without-error", "json-output", 'error answers are {"error": {"type", "message"}}',
            response=_json_body_rewrite(lambda s, d: d.get("error", d) if isinstance(d, dict) else d,
                                        statuses=range(400, 600))))
fault(Fault("invalid-input-as-400", "json-output", "InvalidInput is answered with HTTP 422",
            response=lambda s, h, b: (400 if s == 422 and b'"InvalidInput"' in b else s, h, b)))
fault(Fault("timestamps-in-seconds", "data-types", "timestamps are milliseconds since the epoch",
            response=_json_body_rewrite(lambda s, d: _walk_keys(d, _TIME_KEYS, lambda v: v // 1000))))
fault(Fault("float-timestamps", "data-types", "int and timestamp values are JSON integers (no fraction)",
            response=_json_body_rewrite(lambda s, d: _walk_keys(d, _TIME_KEYS, float))))
fault(Fault("accepts-invalid-json", "json-input", "a body that is not valid JSON is refused with MalformedJSON",
            request=lambda m, p, h, b: (m, p, h, b if _parses(b) else b"{}")))
fault(Fault("accepts-get", "url-forms", "every API method is a POST; other methods are refused",
            request=lambda m, p, h, b: ("POST" if m == "GET" else m, p, h, b or b"{}")))
fault(Fault("ignores-token", "auth", "a missing or unknown token is refused with InvalidAuthentication",
            request=lambda m, p, h, b: (m, p, {**h, "authorization": "Bearer alice-token"}
                                        if not p.startswith("/_dx/") else h, b)))
fault(Fault("hangs-on-whoami", "url-forms", "every API method answers (here: /system/whoami never does)",
            stall=(("/system/whoami",), 3600.0)))


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


# -- semantic faults (handler wrappers) -------------------------------------------------------------------
fault(Fault("close-does-nothing", "semantics", "close moves an open object to closing/closed",
            routes=_routes("close"), wrap=lambda handler: (lambda ctx, inp: {"id": ctx.subject})))
fault(Fault("tags-do-not-stick", "semantics", "addTags adds the tags to the object's copy",
            routes=_routes("addTags"), wrap=lambda handler: (lambda ctx, inp: {"id": ctx.subject})))
fault(Fault("null-keeps-property", "semantics", "setProperties with a null value deletes the property",
            routes=_routes("setProperties"),
            wrap=_input(lambda inp: {**inp, "properties": {k: v for k, v in inp["properties"].items()
                                                           if v is not None}}
                        if isinstance(inp, dict) and isinstance(inp.get("properties"), dict) else inp)))
fault(Fault("describe-ignores-fields", "semantics", "describe with fields answers exactly id + those fields",
            routes=_routes("describe"), wrap=_input(_without("fields", "defaultFields"))))
fault(Fault("links-not-deduplicated", "semantics", "describe lists each linked ID once in links",
            routes=_routes("describe"),
            wrap=_output(lambda out: {**out, "links": out["links"] * 2} if isinstance(out.get("links"), list)
                         and out["links"] else out)))
fault(Fault("limit-ignored", "semantics", "findDataObjects answers at most `limit` results",
            routes=("/system/findDataObjects",), wrap=_validated_then_without("limit")))
fault(Fault("glob-as-exact", "semantics", "a {glob} name filter matches * and ? patterns",
            routes=("/system/findDataObjects",),
            wrap=_input(lambda inp: {**inp, "name": inp["name"]["glob"]}
                        if isinstance(inp.get("name"), dict) and "glob" in inp["name"] else inp)))
fault(Fault("paging-skips", "semantics", "paging with starting/next never skips an object",
            routes=("/system/findDataObjects",),
            wrap=_output(lambda out: {**out, "results": out["results"][:-1]}
                         if out.get("next") and out.get("results") else out)))
fault(Fault("folders-unsorted", "semantics", "listFolder answers folders sorted",
            routes=("/project-xxxx/listFolder", "/container-xxxx/listFolder"),
            wrap=_output(lambda out: {**out, "folders": sorted(out["folders"], reverse=True)}
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


def level_acts_as(held: str, acting: str) -> Callable[[Handler], Handler]:
    """For the length of one call, the caller's `held` memberships count as `acting` (a level not enforced)."""

    def wrap(handler: Handler) -> Handler:
        def wrapped(ctx, inp):
            rows = ctx.conn.execute("SELECT container_id FROM members WHERE member_id = ? AND level = ?",
                                    (ctx.user, held)).fetchall()
            raised = [r["container_id"] for r in rows]
            for cid in raised:
                ctx.conn.execute("UPDATE members SET level = ? WHERE container_id = ? AND member_id = ?",
                                 (acting, cid, ctx.user))
            try:
                return handler(ctx, inp)
            finally:
                for cid in raised:
                    ctx.conn.execute("UPDATE members SET level = ? WHERE container_id = ? AND member_id = ?",
                                     (held, cid, ctx.user))

        return wrapped

    return wrap


# IDs with vowels: a bijection between the strict alphabet's B F G J K (b f g j k) and the vowels A E I O U
# (a e i o u), which no strict ID contains. Answers carry the vowel form; requests are mapped back, so the
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


_WRITE_ROUTES = _routes("addTags", "removeTags", "addTypes", "removeTypes", "rename", "setDetails",
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
            routes=("/file-xxxx/upload",), wrap=_input(_without("md5")),
            request=lambda m, p, h, b: (m, p, {k: v for k, v in h.items() if k != "content-md5"}
                                        if p.startswith("/_dx/") else h, b)))


def select(names: frozenset[str] | set[str] | tuple[str, ...]) -> list[Fault]:
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise KeyError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return [FAULTS[n] for n in sorted(names)]


# Faults kept in their own modules, registered on import (after FAULTS and fault() exist).
from . import diff_faults, fuzz_faults, protocol_faults, store_faults  # noqa: E402, F401
