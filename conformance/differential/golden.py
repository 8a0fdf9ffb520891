"""The golden recording, format `dxconform-golden/1`: building it from a run's results, writing, reading, checking."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from ..model import NOT_JSON, Exchange, Result, parse_json
from ..redaction import redactor
from ..resources import schemas_dir
from .volatile import Placeholders, map_strings

FORMAT = "dxconform-golden/1"
META_SCHEMA = "meta/golden.schema.json"
RUN_FIXTURE_STEP = "run fixture "


class GoldenError(Exception):
    """The file is not a readable golden recording; the message says why in one line."""


def _body(data: bytes, convert=None) -> dict[str, Any]:
    """{"json": value} for a JSON body, else {"text": ...}; `convert` hides volatile values (requests only)."""
    value = parse_json(data)[0]
    if value is NOT_JSON:
        text = data.decode("utf-8", errors="replace")
        return {"text": convert(text) if convert else text}
    return {"json": map_strings(value, convert) if convert else value}


def exchange_record(exchange: Exchange, placeholders: Placeholders) -> dict[str, Any]:
    """One exchange: the request with volatile values as placeholders and no Authorization header (only
    whether one was sent), the response as received."""
    request = exchange.request
    headers = {name: value for name, value in request.headers.items() if name.lower() != "authorization"}
    record: dict[str, Any] = {
        "request": {"method": request.method, "url": placeholders.hide(request.url),
                    "path": placeholders.hide(request.path), "auth": "authorization" in request.headers,
                    "headers": map_strings(headers, placeholders.hide), **_body(request.body, placeholders.hide)},
        "response": None}
    if exchange.route:
        record["route"] = exchange.route
    response = exchange.response
    if response is not None:
        record["response"] = {"status": response.status, "headers": response.headers.to_json(),
                              "truncated": response.truncated, **_body(response.body)}
    if exchange.error is not None:
        record["error"] = exchange.error.to_json()
    return record


def steps_of(result: Result, placeholders: Placeholders) -> list[dict[str, Any]]:
    """The result's exchanges grouped by the step they came from, in the order they ran."""
    steps: list[dict[str, Any]] = []
    keys = result.exchange_steps or [""] * len(result.exchanges)
    for key, exchange in zip(keys, result.exchanges, strict=True):
        if not steps or steps[-1]["step"] != key:
            steps.append({"step": key, "exchanges": []})
        steps[-1]["exchanges"].append(exchange_record(exchange, placeholders))
    return steps


def case_record(result: Result, placeholders: Placeholders) -> dict[str, Any]:
    return {"id": result.id, "title": result.title, "profile": result.profile, "outcome": result.outcome.value,
            "steps": steps_of(result, placeholders)}


def build_golden(*, suite_version: str, schemas_sha256: str, embedded: bool, recorded_ms: int,
                 users: Iterable[str], work_project: str | None, placeholders: Placeholders,
                 cases: list[dict[str, Any]]) -> dict[str, Any]:
    if work_project:
        placeholders.number(work_project)
    return {"format": FORMAT, "suite": {"version": suite_version, "schemas_sha256": schemas_sha256},
            "recorded": recorded_ms, "server": {"embedded": embedded}, "users": sorted(users),
            "work_project": placeholders.hide(work_project) if work_project else None,
            "placeholders": placeholders.to_json(), "cases": cases}


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / META_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def problems(document: Any) -> list[str]:
    """What makes `document` not a valid golden recording (empty when it is one)."""
    return [f"{'/'.join(map(str, error.absolute_path)) or 'the document'}: {error.message[:200]}"
            for error in _validator().iter_errors(document)]


def write_golden(path: str | Path, document: Mapping[str, Any], secrets: Iterable[str] = ()) -> Path:
    """Write the recording; every secret is scrubbed on the way out (the last guard: no token in a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(redactor(secrets).scrub_json(document), indent=1, ensure_ascii=False, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_golden(path: str | Path) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldenError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise GoldenError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise GoldenError(f"{path} is not a {FORMAT} recording")
    found = problems(document)
    if found:
        raise GoldenError(f"{path} is not a valid {FORMAT} recording: {found[0]}")
    return document


def reveal_request(request: Mapping[str, Any], placeholders: Placeholders) -> dict[str, Any]:
    """A recorded request with its placeholders replaced by the recorded run's own values again."""
    return map_strings(dict(request), placeholders.reveal)
