"""More deliberate faults at the protocol boundary and on route input/output: URL forms, JSON in and out, data types, tokens.

Registered into FAULTS on import (the package imports every fault module). Each rewrites a request
or an answer, or wraps the handler of a few routes; each breaks exactly one documented rule.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import errors
from .helpers import data_routes, json_body_rewrite, parses, set_header, wrap_input, wrap_output
from .registry import Fault, fault

_CONTENT = "/_dx/"


def _api(path: str) -> bool:
    return not path.startswith(_CONTENT)


# -- url-forms -------------------------------------------------------------------------------------------
fault(Fault("cors-origin-not-echoed", "url-forms",
            "a request with an Origin gets Access-Control-Allow-Origin echoing it",
            response=lambda s, h, b: (s, set_header(h, b"access-control-allow-origin", None), b)))
# TRACE is what the app refuses as it refuses every method but POST: the preflight is handled like any other
fault(Fault("preflight-refused", "url-forms", "a CORS preflight (OPTIONS) for POST is accepted, without a token",
            request=lambda m, p, h, b: ("TRACE" if m == "OPTIONS" and _api(p) else m, p, h, b)))


# -- json-input ------------------------------------------------------------------------------------------
def _first_value_only(method, path, headers, body):
    """Parse what a lenient decoder would: the first JSON value of the body, ignoring what follows it."""
    if not _api(path) or parses(body):
        return method, path, headers, body
    try:
        text = body.decode("utf-8").lstrip()
        value, _ = json.JSONDecoder().raw_decode(text)
    except (UnicodeDecodeError, ValueError):
        return method, path, headers, body
    return method, path, headers, json.dumps(value).encode()


def _objects_only(method, path, headers, body):
    """An input that is valid JSON but not an object is taken as {} (setDetails takes any JSON value)."""
    if not _api(path) or path.endswith("/setDetails") or not parses(body):
        return method, path, headers, body
    return method, path, headers, body if isinstance(json.loads(body), dict) else b"{}"


# A nonce may be 128 bytes; the fault leaves the longer ones alone so that the length rule still holds.
_NONCE_ROOM = 128 - 9


def _nonce_per_input(method, path, headers, body):
    """Each input gets a nonce of its own: a replay still matches, a reuse with another input never collides."""
    if not path.endswith("/new") or not parses(body):
        return method, path, headers, body
    data = json.loads(body)
    nonce = data.get("nonce") if isinstance(data, dict) else None
    if not isinstance(nonce, str) or not nonce or len(nonce.encode()) > _NONCE_ROOM:
        return method, path, headers, body
    rest = json.dumps({k: v for k, v in data.items() if k != "nonce"}, sort_keys=True).encode()
    data["nonce"] = f"{nonce}~{hashlib.sha256(rest).hexdigest()[:8]}"
    return method, path, headers, json.dumps(data).encode()


def _name_default(inp: Any) -> Any:
    return {**inp, "name": "untitled"} if isinstance(inp, dict) and "name" not in inp else inp


def _name_as_text(inp: Any) -> Any:
    if isinstance(inp, dict) and isinstance(inp.get("name"), int | float) and not isinstance(inp["name"], bool):
        return {**inp, "name": str(inp["name"])}
    return inp


fault(Fault("accepts-trailing-garbage", "json-input",
            "the body is exactly one JSON value: anything after it is MalformedJSON",
            request=_first_value_only))
fault(Fault("accepts-non-object-input", "json-input",
            "an input that is not a JSON object (array, string, number) is refused with InvalidInput",
            request=_objects_only))
fault(Fault("required-name-defaulted", "json-input",
            "a missing required key (here: name of /project/new) is refused with InvalidInput",
            routes=("/project/new",), wrap=wrap_input(_name_default)))
fault(Fault("numbers-coerced-to-strings", "json-input",
            "a value of the wrong JSON type (here: a number for name) is refused with InvalidInput",
            routes=("/project/new", "/record/new", "/file/new"), wrap=wrap_input(_name_as_text)))
fault(Fault("nonce-reuse-accepted", "semantics",
            "a nonce reused with a different input is refused with InvalidInput",
            request=_nonce_per_input))


# -- json-output -----------------------------------------------------------------------------------------
def _drop_message(status: int, data: Any) -> Any:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return {"error": {k: v for k, v in data["error"].items() if k != "message"}}
    return data


fault(Fault("invalid-state-as-409", "json-output", "InvalidState is answered with HTTP 422",
            response=lambda s, h, b: (409 if s == 422 and b'"InvalidState"' in b else s, h, b)))
fault(Fault("error-without-message", "json-output", "the error envelope carries a string message",
            response=json_body_rewrite(_drop_message, statuses=range(400, 600))))
# dxpy raises DXAPIError only on a non-2xx answer: with this fault every refusal reads as a success to it
fault(Fault("errors-as-200", "json-output", "an error answer carries its error status (4xx/5xx), never 200",
            response=lambda s, h, b: (200 if s >= 400 else s, h, b)))


# -- data-types ------------------------------------------------------------------------------------------
def _booleans_as_text(data: Any, key: str = "hidden") -> Any:
    if isinstance(data, dict):
        return {k: (("true" if v else "false") if k == key and isinstance(v, bool) else _booleans_as_text(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_booleans_as_text(v) for v in data]
    return data


fault(Fault("hidden-as-string", "data-types", "boolean values are JSON true/false (here: hidden is a string)",
            response=json_body_rewrite(lambda s, d: _booleans_as_text(d))))


# -- auth ------------------------------------------------------------------------------------------------
# A token that names no user is taken as alice's; a missing header is still refused.
fault(Fault("unknown-token-accepted", "auth", "a token that names no user is refused with InvalidAuthentication",
            tokens_taken=frozenset({"unknown"})))


# -- semantics -------------------------------------------------------------------------------------------
def _next_repeats_last(out: Any) -> Any:
    """`next` names the last result of this page instead of the first of the next one."""
    results = out.get("results") if isinstance(out, dict) else None
    if not out.get("next") or not results:
        return out
    last = results[-1]
    return {**out, "next": {"project": last["project"], "id": last["id"]}}


def _unavailable(handler):
    def refusing(ctx, inp):
        raise errors.ServiceUnavailable("deliberate fault: the service is unavailable (and says not when to retry)")
    return refusing


fault(Fault("paging-repeats", "semantics", "paging with starting/next never repeats an object",
            routes=("/system/findDataObjects",), wrap=wrap_output(_next_repeats_last)))
fault(Fault("listing-includes-hidden", "semantics", "listFolder leaves hidden objects out unless includeHidden",
            routes=("/project-xxxx/listFolder", "/container-xxxx/listFolder"),
            wrap=wrap_input(lambda inp: {**inp, "includeHidden": True} if isinstance(inp, dict) else inp)))
fault(Fault("rename-does-nothing", "semantics", "rename gives the object's copy its new name",
            routes=data_routes("rename"), wrap=lambda handler: (lambda ctx, inp: {"id": ctx.subject})))
fault(Fault("unavailable-without-retry-after", "semantics",
            "a 503 ServiceUnavailable answer says when to retry (Retry-After, integer seconds)",
            routes=("/system/greet",), wrap=_unavailable))
