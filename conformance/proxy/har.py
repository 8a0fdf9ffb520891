"""HAR 1.2 files of API traffic: writing the proxy's exchanges and reading recorded traffic back as Exchanges."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..model import REDACTED, Exchange, Headers, Request, Response, TransportError
from ..redaction import redactor, token_of

HAR_VERSION = "1.2"
# Extension fields (HAR allows custom fields whose names start with an underscore).
ROUTE_FIELD, ERROR_FIELD, TRUNCATED_FIELD, ENCODING_FIELD = "_route", "_error", "_truncated", "_encoding"
EXTRA_FIELD = "_dxconform"
# The note (in EXTRA_FIELD) of an exchange past a size limit: the proxy's, or validate's when reading.
LIMIT_NOTE = "limit"
# Reading recorded traffic (docs/proxy.md): a larger file is refused (its JSON is read whole), and a body
# longer than MAX_BODY_BYTES is kept cut (an answer's then counts as cut off; an entry whose request was cut
# is not checked): memory stays bounded (a few hundred MB at the limits), whatever the file holds.
MAX_HAR_BYTES = 64 * 1024 * 1024
MAX_HAR_ENTRIES = 100_000
MAX_BODY_BYTES = 32 * 1024 * 1024
BODY_KEPT_BYTES = 4096


class HarError(ValueError):
    """A file that is not a readable HAR 1.2 log: one line saying where and why."""


@dataclass(frozen=True)
class Entry:
    """One recorded exchange: when it started (ms since the epoch), the sizes of its bodies before any cut
    (file content is kept only in part), and extra notes (e.g. what strict mode answered instead)."""

    exchange: Exchange
    started_ms: int
    request_size: int | None = None
    response_size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The secrets of the Authorization headers of a recorded request, as read (the Request keeps them redacted):
    # `validate` scrubs them from its outputs. Never written.
    tokens: tuple[str, ...] = ()


# -- writing ----------------------------------------------------------------------------------------------

def _headers(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _text(body: bytes) -> tuple[str, bool]:
    """(text, is_base64): UTF-8 bodies as they are, anything else base64."""
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _cut_comment(kept: int, size: int | None) -> str:
    return f"dxconform kept {kept} of {size} bytes" if size is not None and size > kept else ""


def entry_json(entry: Entry) -> dict[str, Any]:
    exchange, request, response = entry.exchange, entry.exchange.request, entry.exchange.response
    query = urlsplit(request.url).query
    har_request: dict[str, Any] = {
        "method": request.method, "url": request.url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _headers(request.headers), "queryString": [{"name": k, "value": v}
                                                              for k, v in parse_qsl(query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": entry.request_size if entry.request_size is not None else len(request.body)}
    if request.body or request.method.upper() == "POST":
        text, is_base64 = _text(request.body)
        post = {"mimeType": request.headers.get("content-type", ""), "text": text}
        if is_base64:
            post[ENCODING_FIELD] = "base64"
        if comment := _cut_comment(len(request.body), entry.request_size):
            post["comment"] = comment
        har_request["postData"] = post
    if response is not None:
        text, is_base64 = _text(response.body)
        size = entry.response_size if entry.response_size is not None else len(response.body)
        content = {"size": size, "mimeType": response.content_type, "text": text}
        if is_base64:
            content["encoding"] = "base64"
        if comment := _cut_comment(len(response.body), entry.response_size):
            content["comment"] = comment
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        har_response = {"status": response.status, "statusText": reason, "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": _headers(response.headers), "content": content,
                         "redirectURL": response.headers.get("location", ""), "headersSize": -1, "bodySize": size}
        if response.truncated:
            har_response[TRUNCATED_FIELD] = True
    else:  # no answer: browsers record status 0 too
        har_response = {"status": 0, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                        "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1,
                        "bodySize": -1}
    record: dict[str, Any] = {
        "startedDateTime": datetime.fromtimestamp(entry.started_ms / 1000, tz=UTC).isoformat(timespec="milliseconds"),
        "time": exchange.elapsed_ms, "request": har_request, "response": har_response, "cache": {},
        "timings": {"send": 0, "wait": exchange.elapsed_ms, "receive": 0}}
    if exchange.route:
        record[ROUTE_FIELD] = exchange.route
    if exchange.error is not None:
        record[ERROR_FIELD] = exchange.error.to_json()
    if entry.extra:
        record[EXTRA_FIELD] = entry.extra
    return record


def entry_line(entry: Entry) -> bytes:
    """One entry as one line of JSON (UTF-8, no newline inside): how a HAR is written, one entry at a time."""
    return json.dumps(entry_json(entry), ensure_ascii=False).encode("utf-8")


def write_har_lines(path: str | Path, lines: Iterable[bytes], secrets: Iterable[str] = (), *, creator_version: str,
                    notes: dict[str, Any] | None = None) -> Path:
    """Write the log from its entries' lines (entry_line), streamed: one entry per line, never the whole log in
    memory. Every secret (a token seen in an Authorization header) is replaced by *** everywhere."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scrub = redactor(secrets).scrub
    creator = json.dumps({"name": "dxconform", "version": creator_version}, ensure_ascii=False)
    with open(path, "wb") as out:
        out.write(scrub(f'{{"log": {{"version": "{HAR_VERSION}", "creator": {creator}, "pages": [], '
                        f'"entries": ['.encode()))
        separator = b"\n"
        for line in lines:
            out.write(separator + scrub(line))
            separator = b",\n"
        tail = f', "{EXTRA_FIELD}": {json.dumps(notes, ensure_ascii=False)}' if notes else ""
        out.write(scrub(f"\n]{tail}}}}}\n".encode()))
    return path


def write_har(path: str | Path, entries: Iterable[Entry], secrets: Iterable[str] = (), *, creator_version: str,
              notes: dict[str, Any] | None = None) -> Path:
    """Write the log of these entries (in the order given); every secret is replaced by *** everywhere."""
    return write_har_lines(path, map(entry_line, entries), secrets, creator_version=creator_version, notes=notes)


# -- reading ----------------------------------------------------------------------------------------------

def _pairs(headers: Any, where: str) -> Headers:
    if not isinstance(headers, list) or not all(isinstance(h, dict) and "name" in h and "value" in h
                                                 for h in headers):
        raise HarError(f"{where}: headers must be a list of {{name, value}}")
    return Headers((str(h["name"]), str(h["value"])) for h in headers)


def _body(container: Any, base64_flag: str, where: str) -> bytes:
    if not isinstance(container, dict) or "text" not in container:
        return b""
    text = str(container["text"])
    if container.get(base64_flag) == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            raise HarError(f"{where}: a body marked base64 is not base64") from None
    return text.encode("utf-8", errors="surrogatepass")   # a lone surrogate (\ud800) stays: not UTF-8


def _cut(body: bytes) -> tuple[bytes, bool]:
    return (body[:BODY_KEPT_BYTES], True) if len(body) > MAX_BODY_BYTES else (body, False)


def _started_ms(record: dict[str, Any], where: str) -> int:
    try:
        when = datetime.fromisoformat(str(record["startedDateTime"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise HarError(f"{where}: startedDateTime is missing or not ISO 8601") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def entry_from_json(record: Any, where: str) -> Entry:
    if not isinstance(record, dict) or not isinstance(record.get("request"), dict):
        raise HarError(f"{where}: an entry needs a request")
    har_request, har_response = record["request"], record.get("response")
    if not isinstance(har_request.get("method"), str) or not isinstance(har_request.get("url"), str):
        raise HarError(f"{where}: the request needs a method and a url")
    url = har_request["url"]
    try:
        path = urlsplit(url).path or "/"
    except ValueError as exc:
        raise HarError(f"{where}: the request url is not a URL ({exc})") from None
    request_body, request_cut = _cut(_body(har_request.get("postData"), ENCODING_FIELD, where))
    request_headers = _pairs(har_request.get("headers", []), where)
    tokens = tuple(token for name, value in request_headers.items() if name.lower() == "authorization"
                   for token in [token_of(value)] if token and token != REDACTED)
    request = Request(method=har_request["method"], url=url, path=path, headers=request_headers, body=request_body)
    response, response_cut = None, False
    status = har_response.get("status") if isinstance(har_response, dict) else None
    if isinstance(status, int) and not isinstance(status, bool) and 0 < status < 1000:
        response_body, response_cut = _cut(_body(har_response.get("content"), "encoding", where))
        response = Response(status=status, headers=_pairs(har_response.get("headers", []), where),
                            body=response_body, truncated=response_cut or bool(har_response.get(TRUNCATED_FIELD)))
    error = None
    if isinstance(record.get(ERROR_FIELD), dict):
        error = TransportError(str(record[ERROR_FIELD].get("kind", "")), str(record[ERROR_FIELD].get("message", "")))
    elif response is None:
        error = TransportError("no_answer", "the recording has no answer for this request")
    elapsed = record.get("time")
    exchange = Exchange(request=request, response=response, error=error,
                        elapsed_ms=int(elapsed) if isinstance(elapsed, int | float) and 0 <= elapsed < 1e12 else 0,
                        route=record.get(ROUTE_FIELD) if isinstance(record.get(ROUTE_FIELD), str) else None)
    extra = record.get(EXTRA_FIELD) if isinstance(record.get(EXTRA_FIELD), dict) else {}
    if request_cut or response_cut:
        cut = "request" if request_cut else "answer"
        extra = {**extra, LIMIT_NOTE: f"the {cut} body is longer than validate's limit of {MAX_BODY_BYTES} bytes: "
                                      f"kept cut" + ("; the exchange is not checked" if request_cut else "")}
    return Entry(exchange, _started_ms(record, where), extra=extra, tokens=tokens)


def read_har(path: str | Path) -> tuple[list[Entry], dict[str, Any]]:
    """(entries in file order, the dxconform notes of the log if any). HarError if it is not a HAR log."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_HAR_BYTES:
            raise HarError(f"{path}: {size} bytes, over validate's limit of {MAX_HAR_BYTES} bytes (split the "
                           f"recording)")
        document = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise HarError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise HarError(f"{path}: not JSON: {str(exc)[:200]}") from None
    except RecursionError:
        raise HarError(f"{path}: not readable: JSON nested too deeply") from None
    log = document.get("log") if isinstance(document, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise HarError(f"{path}: not a HAR file (no log.entries)")
    if len(log["entries"]) > MAX_HAR_ENTRIES:
        raise HarError(f"{path}: {len(log['entries'])} entries, over validate's limit of {MAX_HAR_ENTRIES} (split "
                       f"the recording)")
    entries = [entry_from_json(record, f"{path}: entry {index}") for index, record in enumerate(log["entries"])]
    notes = log.get(EXTRA_FIELD) if isinstance(log.get(EXTRA_FIELD), dict) else {}
    return entries, notes
