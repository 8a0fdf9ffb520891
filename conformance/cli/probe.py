"""The start-up probe of `dxconform run --server URL`: whoami with each token, every mistake it reveals one sentence."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..model import Response, TransportError
from ..redaction import redactor
from .main import UsageError

WHOAMI = "/system/whoami"
HINT_CHARS = 60
# A whoami answer is a few hundred bytes: the probe reads no more than this of whatever comes back.
MAX_BODY_BYTES = 1024 * 1024
# The first bytes of a TLS record (alert 0x15, handshake 0x16, version 3.x) as a BadStatusLine shows them.
TLS_RECORD = re.compile(r"^\\x1[56]\\x03")
ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
SSL_TEXT = re.compile(r"\[SSL: [A-Z_]+\] ([^'\"(]+)")
STATUS_LINE = re.compile(r"BadStatusLine\((['\"])(.*?)\1\)")
REFUSED_TYPES = ("InvalidAuthentication",)


def probe(url: str, tokens: Mapping[str, str], sources: Mapping[str, str], *, timeout: float) -> None:
    """Before any case runs: the server at `url` answers whoami for alice's token and, when given, for
    bob's, as two different users. Anything else raises UsageError with one plain sentence (never a token).

    `sources` names where each token came from (`--token`, `$DXCONFORM_TOKEN2` ...), for the messages.
    """
    # Every token is scrubbed, however short, in every encoded form (redaction.py): a garbled sentence is better
    # than a token on the screen. A very short one only where it stands alone, so the sentence stays readable.
    secrets = [token for token in tokens.values() if token]
    try:
        first = _whoami(url, "alice", tokens, sources, timeout, secrets)
        if "bob" in tokens:
            second = _whoami(url, "bob", tokens, sources, timeout, secrets)
            if second == first:
                raise UsageError(f"{sources['alice']} and {sources['bob']} both sign in as {first}: the cases "
                                 f"that need a second user need a different user's token as {sources['bob']} "
                                 f"(or none, and they end as unsupported)")
    except UsageError as problem:
        raise UsageError(redactor(secrets).scrub(str(problem))) from None


def _whoami(url: str, user: str, tokens: Mapping[str, str], sources: Mapping[str, str], timeout: float,
            secrets: list[str]) -> str:
    """The user id whoami answers for `user`'s token; UsageError for every other answer."""
    from ..engine.transport import Transport

    with Transport(url, {user: tokens[user]}, timeout=timeout, max_body_bytes=MAX_BODY_BYTES) as transport:
        exchange = transport.call(WHOAMI, user=user)
    response = exchange.response
    if response is None or exchange.error is not None and exchange.error.kind in ("deadline", "timeout"):
        raise UsageError(connection_problem(url, exchange.error or TransportError("protocol", "no answer"),
                                            timeout=timeout))
    whose = "the token" if user == "alice" else "the second user's token"
    hint = _hint(response, secrets)
    if response.status == 401 or _error_type(response) in REFUSED_TYPES:
        raise UsageError(f"{url} refused {whose} ({sources[user]}): {WHOAMI} answered {response.status} ({hint})")
    document = _json(response)
    if response.status == 200 and isinstance(document, dict) and isinstance(document.get("id"), str):
        return document["id"]
    answer = f"{response.status} without a string \"id\"" if response.status == 200 else str(response.status)
    if user == "alice":
        raise UsageError(f"no DNAnexus API at {url}: {WHOAMI} answered {answer} ({hint}); wrong base path?")
    raise UsageError(f"{url}{WHOAMI} with the second user's token ({sources[user]}) answered {answer} ({hint}), "
                     f"not a user's description")


# --- answers -------------------------------------------------------------------------------------------------

def _json(response: Response):
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _error_type(response: Response) -> str | None:
    document = _json(response)
    error = document.get("error") if isinstance(document, dict) else None
    return error.get("type") if isinstance(error, dict) and isinstance(error.get("type"), str) else None


def _hint(response: Response, secrets: Iterable[str]) -> str:
    """A few words of what came back, for the user to recognise it: never the whole body, never a token."""
    document = _json(response)
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error = document["error"]
        hint = f"{error.get('type')}: {error.get('message', '')}".rstrip(": ")
    elif isinstance(document, dict):
        hint = "a JSON object with " + (", ".join(map(repr, list(document)[:4])) or "no keys")
    elif document is not None:
        hint = f"JSON {type(document).__name__}"
    else:
        text = " ".join(response.body.decode("utf-8", "replace").split())
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        hint = (f"{kind}: " if kind else "") + (repr(_shorten(text)) if text else "empty body")
    location = response.headers.get("location")
    if 300 <= response.status < 400 and location:
        hint += f"; redirect to {_shorten(location)}"
    return redactor(secrets).scrub(_shorten(hint, 2 * HINT_CHARS))


def _shorten(text: str, limit: int = HINT_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut + "..."


# --- network failures ----------------------------------------------------------------------------------------

def connection_problem(url: str, error: TransportError, *, timeout: float) -> str:
    """One sentence naming host, port and cause of a whoami that got no (complete) answer."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
    except ValueError:
        port = 443 if https else 80
    where = f"{parts.hostname}:{port}"
    text = error.message
    lowered = text.lower()
    if error.kind in ("timeout", "deadline"):
        return (f"{where} accepted the connection but did not answer {WHOAMI} within {timeout:g} s (--timeout): "
                f"is this the API's port?")
    if error.kind == "connect_timeout":
        return f"cannot connect to {where}: no answer within {min(timeout, 10.0):g} s (wrong host, or a firewall?)"
    if any(sign in lowered for sign in ("nameresolution", "failed to resolve", "getaddrinfo", "name or service",
                                        "nodename nor servname", "temporary failure in name resolution")):
        cause = _errno_text(text)
        return f"cannot connect to {where}: the name {parts.hostname} does not resolve" + (
            f" ({cause})" if cause else "")
    if "sslerror" in lowered or "[ssl" in lowered:
        if "certificate" in lowered:
            reason = SSL_TEXT.search(text)
            return (f"{where} sent a TLS certificate that is not trusted"
                    + (f" ({reason.group(1).strip()})" if reason else ""))
        if https:
            return f"{where} did not answer TLS: is it http://, not https://?"
    if "refused" in lowered:
        return f"cannot connect to {where}: connection refused (is the server running?)"
    status_line = STATUS_LINE.search(text)
    if status_line is not None:
        line = status_line.group(2)
        if TLS_RECORD.match(line):
            return f"{where} answered in TLS, not HTTP: is it https://, not http://?"
        shown = line.replace("\\r", "").replace("\\n", "").strip()
        return (f"{where} did not answer in HTTP (it sent {_shorten(shown)!r}): is this the API's port?"
                if shown else f"{where} did not answer in HTTP (an empty status line): is this the API's port?")
    if not https and error.kind in ("reset", "truncated", "protocol") and _speaks_tls(parts.hostname, port, timeout):
        return f"{where} answered in TLS, not HTTP: is it https://, not http://?"
    if "remotedisconnected" in lowered or "without response" in lowered:
        return f"{where} closed the connection without answering {WHOAMI}: is this the API's port?"
    if error.kind == "reset":
        return f"{where} reset the connection before answering {WHOAMI}: is this the API's port?"
    cause = _errno_text(text) or _exception_name(text)
    return f"cannot talk to {where}: {error.kind.replace('_', ' ')}" + (f" ({cause})" if cause else "")


def _speaks_tls(host: str | None, port: int, timeout: float) -> bool:
    """Whether host:port completes a TLS handshake (certificate unchecked: no request is sent on it). An
    http:// URL whose connection broke may point at a TLS port."""
    import socket
    import ssl

    if not host:
        return False
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 5.0)) as raw, \
                context.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ValueError):
        return False


def _errno_text(text: str) -> str:
    found = ERRNO_TEXT.search(text)
    return found.group(1).strip().lower() if found else ""


def _exception_name(text: str) -> str:
    """The innermost exception class named in a transport message (`... Caused by ProtocolError(...)`)."""
    names = re.findall(r"\b([A-Z][A-Za-z]+(?:Error|Exception|Disconnected|Line|Read))\b", text)
    return names[-1] if names else ""


# --- the second user -----------------------------------------------------------------------------------------

def second_user_cases(cases: Path) -> int:
    """How many cases of the suite under `cases` run a step (their own, a fixture's or a `finally` one) as
    a second user: without --token2 they end as unsupported."""
    from ..cases import load_suite
    from ..checks import CHECKS

    suite = load_suite([cases], base=cases.parent, known_checks=CHECKS)
    count = 0
    for case in suite.cases:
        steps = [*case.steps, *case.finally_steps]
        for fixture in suite.fixture_order(case):
            steps += [*fixture.steps, *fixture.finally_steps]
        count += any(step.user not in (None, "alice") for step in steps)
    return count


def warn_no_second_user(cases: Path, source: str) -> None:
    import sys

    count = second_user_cases(cases)
    if count:
        print(f"dxconform: warning: no {source}: {count} cases that need a second user will be unsupported",
              file=sys.stderr)


__all__ = ["connection_problem", "probe", "second_user_cases", "warn_no_second_user"]
