"""Deliberate faults of what the real platform was recorded doing (real traffic, issue 20): folder-error wording,
listProjects of an unknown object, the public token, answer headers, upload and download answers, nonces, and
the test-only /system/comeBackLater.

Registered into FAULTS on import (the package imports every fault module). Each breaks exactly one rule of
cases/semantics/real-platform.yaml the way the other fault modules do: it rewrites a request or an answer at the
protocol boundary, or wraps the handler of a few routes. Nothing in the handlers knows faults exist.
"""

from __future__ import annotations

import json
from typing import Any

from .. import errors
from .helpers import parses, set_header, wrap_output
from .registry import Fault, Handler, fault

FOLDER_ROUTES = tuple(f"/{cls}-xxxx/{m}" for cls in ("project", "container")
                      for m in ("listFolder", "removeFolder", "renameFolder", "move"))
LIST_PROJECTS_ROUTES = tuple(f"/{cls}-xxxx/listProjects" for cls in ("file", "record", "workflow", "applet"))
NEW_ROUTES = ("/file/new", "/record/new", "/workflow/new", "/applet/new")
PLATFORM_FOLDER_WORDING = "The specified folder could not be found"


def _folder_worded_otherwise(handler: Handler) -> Handler:
    """A missing folder's error in another wording than the platform's (what the server said before)."""
    def wrapped(ctx, inp):
        try:
            return handler(ctx, inp)
        except errors.ResourceNotFound as exc:
            if exc.message.startswith(PLATFORM_FOLDER_WORDING):
                raise errors.ResourceNotFound(f"The folder {inp.get('folder')!r} does not exist in {ctx.subject}") \
                    from None
            raise
    return wrapped


def _unknown_is_not_found(handler: Handler) -> Handler:
    """listProjects of an object the caller sees nowhere is ResourceNotFound instead of 200 {}."""
    def wrapped(ctx, inp):
        answer = handler(ctx, inp)
        if answer == {}:
            raise errors.ResourceNotFound(f"The entity {ctx.subject} could not be found")
        return answer
    return wrapped


def _public_token_refused(method: str, path: str, headers: dict[str, str], body: bytes):
    """`Bearer PUBLIC` becomes a token no user has: refused with InvalidAuthentication, as any unknown token."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip() == "PUBLIC":
        headers = {**headers, "authorization": "Bearer dxconform-fault-public-refused"}
    return method, path, headers, body


def _success_without_charset(status: int, headers: list, body: bytes):
    if 200 <= status < 300:
        headers = set_header(headers, b"content-type", b"application/json")
    return status, headers, body


def _upload_headers_without_host(answer: Any) -> Any:
    """The /upload answer's headers as the server gave them before: no host, no content-type."""
    if isinstance(answer, dict) and isinstance(answer.get("headers"), dict):
        kept = {k: v for k, v in answer["headers"].items() if k not in ("host", "content-type")}
        return {**answer, "headers": kept}
    return answer


def _download_url_never_reused(handler: Handler) -> Handler:
    """Every /download hands out a new URL: the URLs handed out before are no longer offered again."""
    def wrapped(ctx, inp):
        ctx.conn.execute("UPDATE transfers SET reuse_key = NULL WHERE file_id = ? AND kind = 'download'",
                         (ctx.subject,))
        return handler(ctx, inp)
    return wrapped


def _quoted_nonce_refused(method: str, path: str, headers: dict[str, str], body: bytes):
    """A nonce holding a quote is taken as empty: refused with InvalidInput, as a server that restricts the
    nonce's characters would."""
    if not path.endswith("/new") or not parses(body):
        return method, path, headers, body
    data = json.loads(body)
    nonce = data.get("nonce") if isinstance(data, dict) else None
    if isinstance(nonce, str) and ("'" in nonce or '"' in nonce):
        data["nonce"] = ""
        body = json.dumps(data).encode()
    return method, path, headers, body


def _never_come_back_later(handler: Handler) -> Handler:
    """/system/comeBackLater answers at once, whatever waitUntil says."""
    return lambda ctx, inp: handler(ctx, {k: v for k, v in inp.items() if k != "waitUntil"})


REAL_TRAFFIC_FAULTS = frozenset(f.name for f in (
    fault(Fault("folder-not-found-worded-otherwise", "semantics",
                'a missing folder is ResourceNotFound "The specified folder could not be found[ in project-…]"',
                routes=FOLDER_ROUTES, wrap=_folder_worded_otherwise)),
    fault(Fault("list-projects-of-unknown-refused", "semantics",
                "listProjects of an object that does not exist answers 200 {}",
                routes=LIST_PROJECTS_ROUTES, wrap=_unknown_is_not_found)),
    fault(Fault("public-token-refused", "auth",
                "/system/findProjects with Bearer PUBLIC answers the public projects (200)",
                request=_public_token_refused)),
    fault(Fault("success-without-charset", "json-output",
                "a successful answer has Content-Type application/json; charset=utf-8",
                response=_success_without_charset)),
    fault(Fault("upload-headers-without-host", "semantics",
                "the /upload answer names the PUT's host and content-type headers, as the platform's does",
                routes=("/file-xxxx/upload",), wrap=wrap_output(_upload_headers_without_host))),
    fault(Fault("download-url-never-reused", "semantics",
                "two /download calls for the same file, project and options give the same URL",
                routes=("/file-xxxx/download",), wrap=_download_url_never_reused)),
    fault(Fault("quoted-nonce-refused", "json-input", "a nonce is any string, quotes included",
                request=_quoted_nonce_refused)),
    fault(Fault("come-back-later-at-once", "semantics",
                "/system/comeBackLater answers 503 with Retry-After until waitUntil",
                routes=("/system/comeBackLater",), wrap=_never_come_back_later)),
))
