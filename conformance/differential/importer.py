"""Importing recordings of other clients (VCR cassettes, HAR files, the real-traffic corpus) as a golden recording.

`read_recordings(paths)` reads every file (a directory: its *.yaml, *.yml, *.har and *.json, recursively,
in sorted order) into Recorded exchanges grouped by recorded test; `build_imported(...)` turns them into a
`dxconform-golden/1` document with an `imported` member (docs/differential.md, "Importing recordings of
other clients"): one case per recorded test, one step `exchange N` per exchange, requests with placeholders
and no token, answers as recorded. Every bearer token found in the input is returned with the recordings:
the caller scrubs them from everything it writes or prints. Bad input raises RecordingError, one line naming
the file (and the line, where the parser gives one).
"""

from __future__ import annotations

import json
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..model import REDACTED, Exchange, Headers, Request, Response, TransportError, parse_json
from ..proxy.har import HarError, entry_from_json
from ..redaction import PUBLIC_TOKENS, redactor, token_of
from ..spec.routes import route_key_of_path
from .golden import FORMAT, exchange_record, problems
from .volatile import Placeholders

SUFFIXES = (".yaml", ".yml", ".har", ".json")
YAML_SUFFIXES = (".yaml", ".yml")
# Every file is read whole: a larger one is refused (split it), as `validate` refuses larger HAR files.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_EXCHANGES = 100_000
MAX_DECODED_BODY = 32 * 1024 * 1024
STEP = "exchange {}"
# Placeholders a recording uses instead of a token, and the platform's public token: none of them a secret.
NOT_SECRET = frozenset({REDACTED, "REDACTED"}) | PUBLIC_TOKENS
TOKEN_HEADERS = ("authorization", "x-authorization")
DROPPED_REQUEST_HEADERS = frozenset({"x-authorization", "cookie"})   # Authorization: exchange_record drops it
DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie"})
PROVENANCE_KEYS = ("license", "copyright", "repo", "commit")
HAR_SOURCE_FIELD = "_source"   # the provenance of a HAR file as data (tools/convert_stor.py writes it)


class RecordingError(ValueError):
    """An input that is not a readable recording: one line naming the file (and line) and why."""


@dataclass
class Recorded:
    """One recorded exchange as read: headers as (name, value) pairs in recorded order (a name may repeat)."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int | None
    response_headers: list[tuple[str, str]]
    response_body: bytes
    started_ms: int | None = None


@dataclass
class RecordedTest:
    """The exchanges of one recorded test (a case of the imported recording), in recorded order."""

    key: str            # the case id without the collection: `TestCopy::test_x`
    title: str
    source: int         # index into Recordings.sources
    exchanges: list[Recorded] = field(default_factory=list)


@dataclass
class Recordings:
    sources: list[dict[str, Any]] = field(default_factory=list)
    tests: list[tuple[str, RecordedTest]] = field(default_factory=list)   # (collection, test)
    paths: list[Path] = field(default_factory=list)                      # the files read

    @property
    def files(self) -> int:
        return len(self.paths)

    def named(self) -> str:
        """The input in an error message: the file read, or the first of them and how many more."""
        if not self.paths:
            return "the input"
        return str(self.paths[0]) + (f" (and {len(self.paths) - 1} more files)" if len(self.paths) > 1 else "")


# -- reading files --------------------------------------------------------------------------------------------

def recording_files(path: Path) -> list[tuple[Path, str, str]]:
    """(file, its name as a source, collection) of one command-line argument; the collection of a directory's
    files is the directory's name, of a file its parent directory's name."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
        if not files:
            raise RecordingError(f"{path}: no recordings in it (*.yaml, *.yml, *.har, *.json)")
        collection = path.resolve().name or "recording"
        return [(file, file.relative_to(path).as_posix(), collection) for file in files]
    if not path.exists():
        raise RecordingError(f"{path}: no such file or directory")
    return [(path, path.name, path.resolve().parent.name or "recording")]


def _text_of(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RecordingError(f"{path}: {size} bytes, over the limit of {MAX_FILE_BYTES} bytes (split it)")
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise RecordingError(f"{path}: not JSON: {str(exc)[:200] or 'nested too deeply'}") from None


def _load_yaml(path: Path, text: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise RecordingError(f"{path}: {where}not YAML: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, RecursionError) as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else "nested too deeply"
        raise RecordingError(f"{path}: not YAML: {why}") from None


def _document(path: Path) -> Any:
    text = _text_of(path)
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return _load_yaml(path, text)
    if suffix in (".har", ".json"):
        return _load_json(path, text)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _load_yaml(path, text)


def _str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _bytes(value: Any, where: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", errors="surrogatepass")
    raise RecordingError(f"{where}: a body must be text, not {type(value).__name__}")


def _header_pairs(headers: Any, where: str) -> list[tuple[str, str]]:
    """A dict of a value or a list of values (VCR, corpus), names and values text or bytes, as pairs."""
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise RecordingError(f"{where}: headers must be a mapping of names to values")
    pairs = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str | bytes | int | float) or isinstance(value, bool):
                raise RecordingError(f"{where}: header {_str(name)!r} has a value that is not text")
            pairs.append((_str(name), _str(value)))
    return pairs


def _header(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in pairs if key.lower() == name), None)


def _date_ms(pairs: list[tuple[str, str]]) -> int | None:
    date = _header(pairs, "date")
    try:
        return int(parsedate_to_datetime(date).timestamp() * 1000) if date else None
    except (TypeError, ValueError, IndexError):
        return None


def _status(value: Any, where: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 999:
        raise RecordingError(f"{where}: the response status must be a number from 100 to 999")
    return value


def _decoded(body: bytes, pairs: list[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    """A gzip- or deflate-encoded recorded body decoded (the encoding header dropped); others as they are."""
    encoding = (_header(pairs, "content-encoding") or "").strip().lower()
    if encoding not in ("gzip", "deflate") or not body:
        return body, pairs
    try:
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32 if encoding == "gzip" else zlib.MAX_WBITS)
        decoded = decoder.decompress(body, MAX_DECODED_BODY)
    except zlib.error:
        return body, pairs            # recorded already decoded (vcrpy's decode_compressed_response)
    return decoded, [(name, value) for name, value in pairs if name.lower() != "content-encoding"]


def _exchange(method: Any, url: Any, request_headers: list[tuple[str, str]], request_body: bytes, status: int | None,
              response_headers: list[tuple[str, str]], response_body: bytes, where: str,
              started_ms: int | None = None) -> Recorded:
    if not isinstance(method, str | bytes) or not _str(method).strip():
        raise RecordingError(f"{where}: the request has no method")
    if not isinstance(url, str | bytes) or not _str(url).startswith(("http://", "https://")):
        raise RecordingError(f"{where}: the request has no http(s) URL")
    response_body, response_headers = _decoded(response_body, response_headers)
    return Recorded(method=_str(method).upper(), url=_str(url), request_headers=request_headers,
                    request_body=request_body, status=status, response_headers=response_headers,
                    response_body=response_body,
                    started_ms=started_ms if started_ms is not None else _date_ms(response_headers))


def _check_count(items: Any, path: Path, what: str) -> list:
    if len(items) > MAX_EXCHANGES:
        raise RecordingError(f"{path}: {len(items)} {what}, over the limit of {MAX_EXCHANGES} (split it)")
    return items


def _pairs(document: dict[str, Any], path: Path, key: str, item: str) -> Iterator[tuple[str, dict, dict]]:
    """(where, request, response) of each item of `document[key]`; RecordingError at the first that is not a
    mapping with a request and a response."""
    for number, pair in enumerate(_check_count(document[key], path, key), 1):
        where = f"{path}: {item} {number}"
        if not isinstance(pair, dict) or not isinstance(pair.get("request"), dict) \
                or not isinstance(pair.get("response"), dict):
            raise RecordingError(f"{where}: needs a request and a response")
        yield where, pair["request"], pair["response"]


def read_vcr(path: Path, document: dict[str, Any], name: str) -> list[RecordedTest]:
    """A vcrpy cassette: `interactions: [{request: {method, uri, body, headers}, response: {status: {code,
    message}, headers, body: {string}}}]`. One test per cassette."""
    test = RecordedTest(key=_test_key(name), title=name, source=0)
    for where, request, response in _pairs(document, path, "interactions", "interaction"):
        status = response.get("status")
        code = status.get("code") if isinstance(status, dict) else status
        body = response.get("body")
        text = body.get("string") if isinstance(body, dict) else body
        test.exchanges.append(_exchange(
            request.get("method"), request.get("uri"), _header_pairs(request.get("headers"), where),
            _bytes(request.get("body"), where), _status(code, where), _header_pairs(response.get("headers"), where),
            _bytes(text, where), where))
    return [test]


def read_corpus(path: Path, document: dict[str, Any], name: str) -> tuple[list[RecordedTest], dict[str, Any]]:
    """The real-traffic corpus format (one test per file): `{source: {...}, exchanges: [{request: {method, url,
    headers (name: [values]), body, auth}, response: {status, reason, headers, body}}]}`. Its requests carry
    no Authorization header, only `auth`: a request that had one gets `Bearer REDACTED` back."""
    source = document.get("source") if isinstance(document.get("source"), dict) else {}
    key = (f"{source['test_class']}::{source['test_name']}"
           if isinstance(source.get("test_class"), str) and isinstance(source.get("test_name"), str)
           else _test_key(name))
    test = RecordedTest(key=key, title=key, source=0)
    for where, request, response in _pairs(document, path, "exchanges", "exchange"):
        headers = _header_pairs(request.get("headers"), where)
        if request.get("auth") is True and _header(headers, "authorization") is None:
            headers.append(("Authorization", "Bearer REDACTED"))
        test.exchanges.append(_exchange(
            request.get("method"), request.get("url"), headers, _bytes(request.get("body"), where),
            _status(response.get("status"), where), _header_pairs(response.get("headers"), where),
            _bytes(response.get("body"), where), where))
    provenance = {key: source[key] for key in PROVENANCE_KEYS if isinstance(source.get(key), str)}
    return [test], provenance


def _har_pairs(container: Any) -> list[tuple[str, str]]:
    headers = container.get("headers", []) if isinstance(container, dict) else []
    return [(str(h["name"]), str(h["value"])) for h in headers]


def read_har(path: Path, document: dict[str, Any], name: str) -> tuple[list[RecordedTest], dict[str, Any]]:
    """A HAR 1.2 log: one test per page (entries by `pageref`), or one for the file when it has no pages."""
    log = document["log"]
    pages = log.get("pages") if isinstance(log.get("pages"), list) else []
    tests: dict[str, RecordedTest] = {}
    for page in pages:
        if isinstance(page, dict) and isinstance(page.get("id"), str) and page["id"] not in tests:
            title = page.get("title") if isinstance(page.get("title"), str) else page["id"]
            tests[page["id"]] = RecordedTest(key=page["id"], title=title, source=0)
    whole_file = RecordedTest(key=_test_key(name), title=name, source=0)
    for number, record in enumerate(_check_count(log["entries"], path, "entries"), 1):
        where = f"{path}: entry {number}"
        try:
            entry = entry_from_json(record, where)   # checks the entry; its Request has Authorization redacted
        except HarError as exc:
            raise RecordingError(str(exc)) from None
        exchange = entry.exchange
        response = exchange.response
        response_headers = _har_pairs(record.get("response"))
        recorded = _exchange(exchange.request.method, exchange.request.url, _har_pairs(record["request"]),
                             exchange.request.body, response.status if response else None,
                             response_headers if response else [], response.body if response else b"", where,
                             started_ms=entry.started_ms)
        test = tests.get(record.get("pageref")) if isinstance(record.get("pageref"), str) else None
        (test or whole_file).exchanges.append(recorded)
    found = [test for test in tests.values() if test.exchanges]
    if whole_file.exchanges:
        found.append(whole_file)
    given = log.get(HAR_SOURCE_FIELD) if isinstance(log.get(HAR_SOURCE_FIELD), dict) else {}
    provenance = {key: given[key] for key in PROVENANCE_KEYS if isinstance(given.get(key), str)}
    return found, provenance


def _test_key(name: str) -> str:
    """`TestCopy/test_x.yaml` -> `TestCopy::test_x`."""
    stem = name.rsplit(".", 1)[0] if "." in name.rsplit("/", 1)[-1] else name
    return stem.replace("/", "::")


def read_file(path: Path, name: str) -> tuple[str, list[RecordedTest], dict[str, Any]]:
    """(format, tests, provenance) of one file, told apart by content: `interactions` (VCR), `log.entries`
    (HAR), `exchanges` (the corpus)."""
    document = _document(path)
    if isinstance(document, dict) and isinstance(document.get("interactions"), list):
        return "vcr", read_vcr(path, document, name), {}
    if isinstance(document, dict) and isinstance(document.get("log"), dict):
        if not isinstance(document["log"].get("entries"), list):
            raise RecordingError(f"{path}: not a HAR file (no log.entries)")
        return "har", *read_har(path, document, name)
    if isinstance(document, dict) and isinstance(document.get("exchanges"), list):
        return "corpus", *read_corpus(path, document, name)
    if path.suffix.lower() == ".har":
        raise RecordingError(f"{path}: not a HAR file (no log.entries)")
    if path.suffix.lower() in YAML_SUFFIXES:
        raise RecordingError(f"{path}: not a VCR cassette (no interactions list)")
    raise RecordingError(f"{path}: not a recording (a VCR cassette, a HAR log or a real-traffic corpus file)")


def read_recordings(paths: Iterable[str | Path]) -> Recordings:
    recordings = Recordings()
    for argument in paths:
        for path, name, collection in recording_files(Path(argument)):
            kind, tests, provenance = read_file(path, name)
            recordings.paths.append(path)
            index = len(recordings.sources)
            recordings.sources.append({"file": name, "format": kind, **provenance})
            for test in tests:
                test.source = index
                recordings.tests.append((collection, test))
    return recordings


# -- tokens ---------------------------------------------------------------------------------------------------

def _cookie_tokens(value: str) -> Iterator[str]:
    for part in value.split(";"):
        name, _, token = part.strip().partition("=")
        if name.strip().lower() == "authorization" and token.strip():
            yield token.strip().strip('"')


def secrets_of(recordings: Recordings) -> set[str]:
    """Every bearer token of the input: Authorization and X-Authorization headers, `authorization=` cookies
    (request Cookie, answer Set-Cookie). Placeholders (REDACTED, ***) and the public token are none."""
    found: set[str] = set()
    for _, test in recordings.tests:
        for exchange in test.exchanges:
            for name, value in exchange.request_headers:
                if name.lower() in TOKEN_HEADERS:
                    found.add(token_of(value) or "")
                elif name.lower() == "cookie":
                    found.update(_cookie_tokens(value))
            for name, value in exchange.response_headers:
                if name.lower() == "set-cookie":
                    found.update(_cookie_tokens(value))
    return {token for token in found if token and token not in NOT_SECRET}


# -- building the recording -----------------------------------------------------------------------------------

def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def api_server_of(recordings: Recordings) -> str | None:
    """The origin most `POST /<subject>/<method>` requests went to."""
    counts = Counter(_origin(exchange.url) for _, test in recordings.tests for exchange in test.exchanges
                     if exchange.method == "POST" and route_key_of_path(_path(exchange.url)) is not None)
    return counts.most_common(1)[0][0] if counts else None


def _joined(pairs: Iterable[tuple[str, str]], dropped: frozenset[str]) -> Headers:
    """Headers with a repeated name as one value joined with ", " (the first spelling of the name kept)."""
    joined: dict[str, tuple[str, list[str]]] = {}
    for name, value in pairs:
        if name.lower() not in dropped:
            joined.setdefault(name.lower(), (name, []))[1].append(value)
    return Headers((name, ", ".join(values)) for name, values in joined.values())


def _user_agent(pairs: list[tuple[str, str]]) -> str | None:
    agent = _header(pairs, "user-agent")
    return agent.split()[0] if agent and agent.strip() else None


def _caller(recorded: list[tuple[Recorded, str | None]]) -> str | None:
    """The recorded caller: the id `/system/whoami` answered, else the user most answers name in
    `createdBy.user` (what the caller created)."""
    creators: Counter[str] = Counter()
    for exchange, route in recorded:
        value = parse_json(exchange.response_body)[0] if route else None
        if not isinstance(value, dict) or exchange.status != 200:
            continue
        if route == "/system/whoami" and isinstance(value.get("id"), str):
            return value["id"]
        created_by = value.get("createdBy")
        if isinstance(created_by, dict) and isinstance(created_by.get("user"), str):
            creators[created_by["user"]] += 1
    return creators.most_common(1)[0][0] if creators else None


def storage_kind(method: str) -> str:
    """An exchange with a host other than the API server: PUT or POST uploads, anything else downloads."""
    return "upload" if method in ("PUT", "POST") else "download"


@dataclass(frozen=True)
class Imported:
    """The recording built, and what the summary line says."""

    document: dict[str, Any]
    secrets: frozenset[str]
    exchanges: int
    api_exchanges: int
    routes: int
    files: int


def build_imported(recordings: Recordings, *, suite_version: str, schemas_sha256: str,
                   api_server: str | None = None, recorded_now_ms: int = 0) -> Imported:
    """The `dxconform-golden/1` document of the recordings, every token of the input scrubbed from it."""
    server = (api_server or api_server_of(recordings) or "").rstrip("/")
    if not server:
        raise RecordingError(f"{recordings.named()}: no API call found (POST /<subject>/<method>): give "
                             f"--api-server URL")
    placeholders = Placeholders("", server)
    cases, seen_ids, routed, clients = [], set(), [], Counter()
    times = [exchange.started_ms for _, test in recordings.tests for exchange in test.exchanges
             if exchange.started_ms is not None]
    for collection, test in recordings.tests:
        steps = []
        for number, recorded in enumerate(test.exchanges, 1):
            on_api = _origin(recorded.url) == server
            path = _path(recorded.url)
            route = (route_key_of_path(path) or path) if on_api else None
            response = None
            if recorded.status is not None:
                response = Response(status=recorded.status, body=recorded.response_body,
                                    headers=_joined(recorded.response_headers, DROPPED_RESPONSE_HEADERS))
            exchange = Exchange(request=Request(method=recorded.method, url=recorded.url, path=path,
                                                headers=_joined(recorded.request_headers, DROPPED_REQUEST_HEADERS),
                                                body=recorded.request_body),
                                response=response, route=route,
                                error=None if response else TransportError("no_answer", "recorded without an answer"))
            record = exchange_record(exchange, placeholders)
            if not on_api:
                record = {"storage": storage_kind(recorded.method), **record}
            authorization = _header(recorded.request_headers, "authorization")
            if authorization is not None and token_of(authorization) in PUBLIC_TOKENS:
                record["request"]["public_token"] = True
            steps.append({"step": STEP.format(number), "exchanges": [record]})
            routed.append((recorded, route))
            if agent := _user_agent(recorded.request_headers):
                clients[agent] += 1
        case_id = f"{collection}::{test.key}"
        while case_id in seen_ids:
            case_id += "+"
        seen_ids.add(case_id)
        cases.append({"id": case_id, "title": test.title, "profile": "core", "outcome": "passed", "steps": steps})
    api = [route for _, route in routed if route is not None]
    recorded_last = max(times) if times else None
    imported = {"sources": recordings.sources, "recorded_first": min(times) if times else None,
                "recorded_last": recorded_last, "clients": [name for name, _ in clients.most_common()],
                "api_server": server, "user": _caller(routed), "exchanges": len(routed), "api_exchanges": len(api)}
    document = {"format": FORMAT, "suite": {"version": suite_version, "schemas_sha256": schemas_sha256},
                "recorded": recorded_last if recorded_last is not None else recorded_now_ms,
                "server": {"embedded": False}, "users": ["token"], "work_project": None,
                "placeholders": placeholders.to_json(), "imported": imported, "cases": cases}
    secrets = frozenset(secrets_of(recordings))
    document = redactor(secrets).scrub_json(document)
    if found := problems(document):
        raise RecordingError(f"{recordings.named()}: the recording built is not valid: {found[0]}")
    return Imported(document=document, secrets=secrets, exchanges=len(routed), api_exchanges=len(api),
                    routes=len(set(api)), files=recordings.files)


def import_files(paths: Iterable[str | Path], api_server: str | None = None) -> Imported:
    """`dxconform import` in process: the recordings read from `paths` and built into one document, stamped with
    this suite's version and schemas. RecordingError when a file cannot be read."""
    from .. import __version__
    from ..resources import schemas_dir
    from ..spec.schemas import tree_sha256

    return build_imported(read_recordings(paths), suite_version=__version__,
                          schemas_sha256=tree_sha256(schemas_dir()), api_server=api_server,
                          recorded_now_ms=int(time.time() * 1000))
