"""The suite's data model: exchanges (request, response), findings, results and their enums; no package imports."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any


class Level(StrEnum):
    """How strongly the spec requires a rule (RFC 2119 words)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Area(StrEnum):
    """The six areas a case or a check belongs to (contract: results.json `area`)."""

    URL_FORMS = "url-forms"
    JSON_INPUT = "json-input"
    JSON_OUTPUT = "json-output"
    DATA_TYPES = "data-types"
    AUTH = "auth"
    SEMANTICS = "semantics"


class Outcome(StrEnum):
    """The outcome of one result (contract: results.json `outcome` and `summary` keys)."""

    PASSED = "passed"
    FAILED = "failed"
    # The server does not have the route (its answer cannot be told from one to a method no server has),
    # or the run cannot test the case (no token for the second user): nothing was tested.
    UNSUPPORTED = "unsupported"
    # A check that found nothing to apply to on any exchange (retry_after where no 429/503 came back).
    NOT_APPLICABLE = "not-applicable"
    SKIPPED = "skipped"
    FLAKY = "flaky"
    ERROR = "error"
    XFAILED = "xfailed"
    XPASSED = "xpassed"


class UnsupportedReason(StrEnum):
    """Why a result is `unsupported` (results.json `reason`): what kept it from testing anything."""

    ROUTE_ABSENT = "route-absent"          # the server lacks the route (engine/absence.py tells it)
    NO_SECOND_USER = "no-second-user"      # the case runs as a second user and the run has no --token2
    NOT_FUZZED = "not-fuzzed"              # a fuzz item the run could not drive (no container lent)


class NotRunReason(StrEnum):
    """Why a `skipped` result was never run (results.json `reason`): the run stopped before it."""

    DEADLINE = "deadline"                              # the run's --deadline passed first
    SERVER_STOPPED = "server-stopped-answering"        # the breaker stopped calling a server that went silent


class _NotJSON:
    """Sentinel for a body that is not JSON (distinct from a body that is JSON `null`)."""

    _instance: _NotJSON | None = None

    def __new__(cls) -> _NotJSON:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJSON()
# What replaces a token (redaction.py scrubs every form of one), and the secret part of an Authorization value.
REDACTED = "***"
# How much of a body results.json keeps: enough to debug, not enough to bloat a report.
BODY_RECORD_LIMIT = 64 * 1024


class Headers(Mapping[str, str]):
    """Immutable HTTP headers with case-insensitive lookup; keeps the names as received."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()):
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            self._items[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"

    def to_json(self) -> dict[str, str]:
        return dict(self.items())


def redact_authorization(value: str) -> str:
    """`Bearer abc` -> `Bearer ***`; a value without a scheme -> `***`."""
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {REDACTED}" if rest else REDACTED


def redact_headers(headers: Mapping[str, str]) -> Headers:
    """Headers with every Authorization value redacted (the contract's `Bearer ***`)."""
    return Headers((name, redact_authorization(value) if name.lower() == "authorization" else value)
                   for name, value in headers.items())


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; RFC 8259 does not, and neither do other clients.
    raise ValueError(f"{name} is not JSON")


class RawFloat(float):
    """A JSON number written with a fraction or exponent, keeping the text it was written as."""

    raw: str

    def __new__(cls, text: str) -> RawFloat:
        number = super().__new__(cls, text)
        number.raw = text
        return number


def parse_json(body: bytes) -> tuple[Any, bool]:
    """(value, has_fractional_numbers) of a body, or (NOT_JSON, False) if it is not strict JSON."""
    seen_fraction = False

    def parse_float(text: str) -> float:
        nonlocal seen_fraction
        seen_fraction = True
        return float(text)

    try:
        value = json.loads(body.decode("utf-8"), parse_float=parse_float, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        return NOT_JSON, False
    return value, seen_fraction


def body_for_record(body: bytes, full_length: int | None = None) -> str:
    """The body as results.json keeps it: its text, cut at BODY_RECORD_LIMIT with a marker that gives the
    whole body's length (`full_length` when `body` is already a cut copy)."""
    length = len(body) if full_length is None else full_length
    text = body[:BODY_RECORD_LIMIT].decode("utf-8", errors="replace")
    return text if length <= len(body) <= BODY_RECORD_LIMIT else text + f"... [{length} bytes in all]"


BODY_CUT_KEY = "body_cut"


def body_record(body: bytes, full_length: int | None = None, full_sha256: str = "") -> dict[str, Any]:
    """`{"body": text}`, and when the text is not the whole body, `body_cut`: the whole body's `length` and
    `sha256`, and how many of its bytes the record `kept` (results.json, docs/contract.md)."""
    record: dict[str, Any] = {"body": body_for_record(body, full_length)}
    length = len(body) if full_length is None else full_length
    kept = min(len(body), BODY_RECORD_LIMIT)
    if kept < length:
        record[BODY_CUT_KEY] = {"length": length, "sha256": full_sha256 or hashlib.sha256(body).hexdigest(),
                                "kept": kept}
    return record


@dataclass(frozen=True)
class Request:
    """What was sent: headers are stored already redacted, so a token never reaches a report."""

    method: str
    url: str
    path: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", redact_headers(self.headers))

    @cached_property
    def json(self) -> Any:
        return parse_json(self.body)[0]

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "path": self.path,
                "headers": self.headers.to_json(), **body_record(self.body)}


@dataclass(frozen=True)
class Response:
    """What came back. `truncated` means the body was cut (size cap, deadline or a short read)."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    truncated: bool = False
    # Set on a copy kept past the run's body budget (engine/body_budget.py): `body` is then only the first
    # bytes of the answer's body, whose length and sha256 these are.
    full_length: int | None = None
    full_sha256: str = ""

    def cut(self, keep: int) -> Response:
        """A copy that keeps the first `keep` bytes of the body, and the whole body's length and sha256."""
        if self.full_length is not None or len(self.body) <= keep:
            return self
        return replace(self, body=self.body[:keep], full_length=len(self.body),
                       full_sha256=hashlib.sha256(self.body).hexdigest())

    @cached_property
    def _parsed(self) -> tuple[Any, bool]:
        return parse_json(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def json(self) -> Any:
        """The parsed body, or NOT_JSON. Numbers with a fraction are plain floats here."""
        return self._parsed[0]

    @property
    def has_fractional_numbers(self) -> bool:
        """True if any number in the body is written with a fraction or an exponent (`1.0`, `1e3`)."""
        return self._parsed[1]

    def json_with_raw_numbers(self) -> Any:
        """The body parsed with every fraction/exponent number as a RawFloat (for the strict-int check)."""
        return json.loads(self.body.decode("utf-8"), parse_float=RawFloat, parse_constant=_reject_constant)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "headers": self.headers.to_json(),
                **body_record(self.body, self.full_length, self.full_sha256), "truncated": self.truncated}


@dataclass(frozen=True)
class TransportError:
    """Why an exchange has no (complete) response: refused, reset, timeout, deadline, too_large, truncated..."""

    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Exchange:
    """One request and what came of it: a response, a transport error, or both (a cut-off body)."""

    request: Request
    response: Response | None = None
    error: TransportError | None = None
    elapsed_ms: int = 0
    route: str | None = None

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"request": self.request.to_json(),
                                  "response": self.response.to_json() if self.response else None,
                                  "elapsed_ms": self.elapsed_ms}
        if self.route:
            record["route"] = self.route
        if self.error:
            record["error"] = self.error.to_json()
        return record


@dataclass(frozen=True)
class Finding:
    """One violation found by a check (or by a case's expectation), with its evidence."""

    check: str
    level: Level
    area: Area
    source: str
    message: str
    title: str = ""
    path: str = ""
    expected: Any = None
    actual: Any = None
    # True when the check itself crashed: the finding is about the suite, not the server.
    internal: bool = False
    # Which of its result's exchanges drew it (set by the runner for a case's findings; None elsewhere).
    exchange_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        record = {"check": self.check, "level": self.level.value, "area": self.area.value,
                  "source": self.source, "title": self.title, "message": bounded_text(self.message)}
        if self.path:
            record["path"] = self.path
        if self.expected is not None:
            record["expected"] = _recordable(self.expected)
        if self.actual is not None:
            record["actual"] = _recordable(self.actual)
        if self.internal:
            record["internal"] = True
        if self.exchange_index is not None:
            record["exchange_index"] = self.exchange_index
        return record

    def bounded(self) -> Finding:
        """The same finding holding its values as results.json records them (of bounded size): a check may
        name a whole answer as `actual`, which a run must not keep in memory for every result."""
        if self.expected is None and self.actual is None and len(self.message) <= MESSAGE_LIMIT:
            return self
        return replace(self, message=bounded_text(self.message),
                       expected=None if self.expected is None else _recordable(self.expected),
                       actual=None if self.actual is None else _recordable(self.actual))


# The issue calls it a check result; a check that passes produces none, so a result is a finding.
CheckResult = Finding


class FailurePhase(StrEnum):
    """Where in a case its failure happened (results.json `failure.phase`)."""

    FIXTURE = "fixture"            # a step of a case-scoped fixture
    RUN_FIXTURE = "run fixture"    # a step of a `scope: run` fixture (set up once, shared by the run)
    STEP = "step"                  # a step of the case itself
    FINALLY = "finally"            # a cleanup step (the case's, or a fixture's: then `fixture` names it)
    CHECK = "check"                # a MUST protocol-check finding on one of the case's exchanges
    SETUP = "setup"                # the run could not prepare what the case needs (the work project)
    INTERNAL = "internal"          # the suite itself broke while running the case


# How much of an expected or actual value a failure record keeps (the exchanges keep the whole answer).
MISMATCH_VALUE_LIMIT = 4096
# How much of a message (a finding's, a miss's, a result's) is kept: a check may quote a whole answer in it.
MESSAGE_LIMIT = 4096
RESULT_MESSAGE_LIMIT = 4 * MESSAGE_LIMIT    # a result's message joins a few misses' and notes


def bounded_text(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text`, or its first `limit` characters and a marker with its length when it is longer."""
    return text if len(text) <= limit else text[:limit] + f"... [{len(text)} chars in all]"


def _recordable(value: Any) -> Any:
    """`value` as JSON data of bounded size: too long, it becomes its JSON text cut short (a string)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)[:MISMATCH_VALUE_LIMIT]
    if len(text) <= MISMATCH_VALUE_LIMIT:
        return json.loads(text)
    return text[:MISMATCH_VALUE_LIMIT] + f"... [{len(text)} chars in all]"


@dataclass(frozen=True)
class Mismatch:
    """One expectation a failing step's answer did not meet: where (a JSON path, `status`, `header NAME`, `text`),
    which matcher judged it, both sides, and one line of text. `actual_missing`: nothing was there (not null)."""

    path: str
    matcher: str
    text: str
    expected: Any = None
    actual: Any = None
    actual_missing: bool = False

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"path": self.path, "matcher": self.matcher,
                                  "expected": _recordable(self.expected)}
        if not self.actual_missing:
            record["actual"] = _recordable(self.actual)
        record["text"] = bounded_text(self.text)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Mismatch:
        return cls(path=str(record.get("path", "")), matcher=str(record.get("matcher", "")),
                   text=str(record.get("text", "")), expected=record.get("expected"),
                   actual=record.get("actual"), actual_missing="actual" not in record)


@dataclass(frozen=True)
class Failure:
    """Why a case failed or errored, as data: the phase and the step (index from 1, name, fixture, file:line,
    method and path as sent), the index of the failing exchange in its Result's `exchanges` (None when none
    was recorded: not sent, a setup error), and what was missed (none for an error: then `error` says why)."""

    phase: FailurePhase
    step: int | None = None
    step_name: str = ""
    fixture: str = ""
    location: str = ""
    method: str = ""
    path: str = ""
    exchange_index: int | None = None
    misses: tuple[Mismatch, ...] = ()
    error: str = ""

    @property
    def place(self) -> str:
        """Which step, in the engine's words: `step 2 [name]`, `fixture f step 1`, `fixture f finally 1`..."""
        phase = FailurePhase(self.phase)
        if self.step is None:
            return phase.value + (f" of fixture {self.fixture}" if self.fixture else "")
        words = {FailurePhase.FIXTURE: f"fixture {self.fixture} step",
                 FailurePhase.RUN_FIXTURE: f"run fixture {self.fixture} step",
                 FailurePhase.FINALLY: f"fixture {self.fixture} finally" if self.fixture else "finally",
                 }.get(phase, f"fixture {self.fixture} step" if self.fixture else "step")
        return f"{words} {self.step}" + (f" [{self.step_name}]" if self.step_name else "")

    def shifted(self, offset: int) -> Failure:
        """The same failure with its exchange index moved by `offset` (its exchanges joined a longer list)."""
        if self.exchange_index is None:
            return self
        return replace(self, exchange_index=self.exchange_index + offset)

    def to_json(self) -> dict[str, Any]:
        return {"phase": FailurePhase(self.phase).value, "step": self.step, "step_name": self.step_name,
                "fixture": self.fixture, "location": self.location, "method": self.method, "path": self.path,
                "exchange_index": self.exchange_index, "misses": [miss.to_json() for miss in self.misses],
                "error": self.error}

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Failure:
        step, index = record.get("step"), record.get("exchange_index")
        return cls(phase=FailurePhase(record["phase"]), step=step if isinstance(step, int) else None,
                   step_name=str(record.get("step_name") or ""), fixture=str(record.get("fixture") or ""),
                   location=str(record.get("location") or ""), method=str(record.get("method") or ""),
                   path=str(record.get("path") or ""), exchange_index=index if isinstance(index, int) else None,
                   misses=tuple(Mismatch.from_json(m) for m in record.get("misses") or ()),
                   error=str(record.get("error") or ""))


@dataclass
class Result:
    """The result of one case (or one check run): an entry of results.json's `results`."""

    id: str
    title: str
    area: Area
    topic: str
    level: Level
    profile: str
    outcome: Outcome
    source: str
    routes: list[str] = field(default_factory=list)
    message: str = ""
    duration_ms: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # The step key of each exchange (parallel to `exchanges`; not in results.json): differential mode
    # matches two runs' exchanges step by step.
    exchange_steps: list[str] = field(default_factory=list)
    # A check result's counts: exchanges its route had, and those its rule applied to (results.json
    # `check_counts`; None for a case).
    check_counts: dict[str, int] | None = None
    # Why an `unsupported` result tested nothing (UnsupportedReason's value); "" for every other outcome.
    reason: str = ""
    # Why the result failed or errored, as data (results.json `failure`; None when it did not, or for results
    # the engine does not run step by step: checks, profile claims).
    failure: Failure | None = None

    def to_json(self) -> dict[str, Any]:
        record = self._json()
        if self.check_counts is not None:
            record["check_counts"] = dict(self.check_counts)
        if self.reason:
            record["reason"] = self.reason
        if self.failure is not None:
            record["failure"] = self.failure.to_json()
        return record

    def _json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "area": Area(self.area).value, "topic": self.topic,
                "level": Level(self.level).value, "profile": self.profile, "routes": list(self.routes),
                "outcome": Outcome(self.outcome).value, "message": bounded_text(self.message, RESULT_MESSAGE_LIMIT),
                "source": self.source,
                "duration_ms": self.duration_ms,
                "exchanges": [exchange.to_json() for exchange in self.exchanges],
                "findings": [finding.to_json() for finding in self.findings]}


def json_type(value: Any) -> str:
    """The JSON type of a parsed value: null, boolean, integer, number (with a fraction), string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(parts: Iterable[str | int]) -> str:
    """A JSON path for evidence: ("a", 0, "b c") -> `$.a[0]["b c"]`."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += "[" + json.dumps(part) + "]"
    return text
