"""No false alarms on real traffic: every exchange of the project's copy of dxpy's traffic with the production
platform (tests/data/real-traffic/stor, HAR) passes its schema and every MUST check.

Real output is the final word: a MUST finding here means the check or the schema is wrong (fix it, or make the
rule SHOULD with the reason in its source), never the platform. SHOULD findings are allowed and printed.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.checks import CHECKS, CLIENT_CHECKS, CheckContext, run_checks
from conformance.model import Exchange, Level, Response
from conformance.proxy.har import Entry, read_har
from conformance.proxy.monitor import CONTENT_CHECKS, Monitor, Verdict, content_route
from conformance.proxy.validate import validate_files
from conformance.spec import load_spec

COPY = Path(__file__).resolve().parent.parent / "data" / "real-traffic" / "stor"
HAR_FILES = sorted(COPY.glob("*.har"))
API_HOST = "api.dnanexus.com"
# What NOTICE.md says the copy holds.
EXCHANGES, API_EXCHANGES, FILES = 2742, 2530, 19
# The /file-xxxx/download answers carry a download URL key and an X-Authorization token that were redacted to
# "REDACTED" (NOTICE.md), so their recorded Content-Length no longer matches their body: the one comparison
# below that reads Content-Length leaves those answers out (and shows that they are the only ones it does).
REDACTED_BODY_ROUTES = frozenset({"/file-xxxx/download"})


@dataclass(frozen=True)
class Judged:
    """One recorded exchange, where it sits in the copy, and what the proxy's checks made of it."""

    where: str
    entry: Entry
    verdict: Verdict

    @property
    def exchange(self) -> Exchange:
        return self.entry.exchange

    @property
    def is_api(self) -> bool:
        return urlsplit(self.exchange.request.url).hostname == API_HOST


@dataclass(frozen=True)
class Corpus:
    monitor: Monitor
    judged: tuple[Judged, ...]

    @property
    def api(self) -> list[Judged]:
        return [j for j in self.judged if j.is_api]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """Every exchange through the checks of both sides, in recorded order, each file a stream of its own (as
    `dxconform validate` does), time-relative rules judged at the answer's recorded Date (startedDateTime)."""
    monitor = Monitor(load_spec())
    judged = []
    for path in HAR_FILES:
        entries, _ = read_har(path)
        monitor.forget_urls()
        for index, entry in enumerate(entries):
            judged.append(Judged(f"{path.name} entry {index}", entry,
                                 monitor.inspect(entry.exchange, now_ms=entry.started_ms)))
    return Corpus(monitor, tuple(judged))


def test_the_copy_holds_the_whole_corpus(corpus):
    assert len(HAR_FILES) == FILES and (COPY / "NOTICE.md").is_file()
    assert len(corpus.judged) == EXCHANGES
    assert len(corpus.api) == API_EXCHANGES
    assert all(j.exchange.response is not None for j in corpus.judged)


def test_every_api_answer_validates_against_its_schema(corpus):
    spec = load_spec()
    errors = spec.type_validator("types/errors.json", "documentedEnvelope")
    broken, counts = [], Counter()
    for judged in corpus.api:
        request, response = judged.exchange.request, judged.exchange.response
        route = spec.match(request.path)
        assert route is not None, f"{judged.where}: {request.path} is not in the route table"
        if 200 <= response.status < 300:
            validator = spec.validator(route.route, "output")
            assert validator is not None, f"{route.route} has no output schema"
            counts["success"] += 1
        else:
            validator = errors
            counts["error"] += 1
        if not validator.is_valid(response.json):
            broken.append((judged.where, route.route, validator.errors(response.json)[:3]))
    assert broken == []
    assert counts == {"success": 2481, "error": 49}, counts


def test_every_exchange_passes_every_must_check(corpus):
    must = [(j.where, j.verdict.route, f.check, f.path, f.message)
            for j in corpus.judged for f in j.verdict.client + j.verdict.server
            if f.level is Level.MUST or f.internal]
    should = Counter(f.check for j in corpus.judged for f in j.verdict.client + j.verdict.server
                     if f.level is not Level.MUST and not f.internal)
    results = corpus.monitor.results()
    applied = sum(r["check_counts"]["applied"] for r in results)
    print(f"\nreal traffic: {len(corpus.judged)} exchanges ({len(corpus.api)} API), "
          f"{len({r['id'].split('::')[0] for r in results})} checks, {applied} check applications; "
          f"MUST findings: {len(must)}; SHOULD findings by check: "
          + (", ".join(f"{name} {n}" for name, n in sorted(should.items())) or "none"))
    assert must == []
    # Every registered check of both sides looked at the API traffic: none was left out by accident.
    ran = {r["id"].removeprefix("checks/").split("::", 1)[0] for r in results if not r["routes"][0].startswith("(")}
    assert ran == set(CHECKS) | set(CLIENT_CHECKS)
    # The tally the report prints agrees: SHOULD findings are counted, nothing is broken at MUST.
    assert sum(len(r["findings"]) for r in results if r["level"] == Level.MUST) == 0


def test_dxconform_validate_finds_nothing_broken_in_the_copy():
    monitor, facts, secrets = validate_files(HAR_FILES)
    # The copy's Authorization headers hold only the placeholders of the redaction and the public token.
    assert facts["servers"] == ["https://api.dnanexus.com"] and set(secrets) <= {"REDACTED", "PUBLIC"}
    failed = [r["id"] for r in monitor.results() if r["findings"] and r["level"] == Level.MUST]
    assert failed == []
    assert monitor.traffic["api"] == API_EXCHANGES and monitor.traffic["content"] == EXCHANGES - API_EXCHANGES


def test_storage_exchanges_are_judged_as_file_content_not_as_api_calls(corpus):
    """S3 upload PUTs and dl.dnanex.us GETs are not API calls: only the rules that hold for file content apply
    (no JSON, envelope or schema rule), recognised because an API answer handed their URL out."""
    storage = [j for j in corpus.judged if not j.is_api]
    assert len(storage) == EXCHANGES - API_EXCHANGES
    assert {j.verdict.kind for j in storage} == {"content"}
    assert {j.verdict.kind for j in corpus.api} == {"api"}
    assert {j.verdict.route for j in storage} == {content_route("PUT"), content_route("GET")}
    content_results = [r for r in corpus.monitor.results() if r["routes"][0].startswith("(content")]
    assert {r["id"].removeprefix("checks/").split("::", 1)[0] for r in content_results} == set(CONTENT_CHECKS)


def test_time_relative_rules_are_judged_at_the_recorded_date(corpus):
    for judged in corpus.judged:
        date = judged.exchange.response.headers.get("date")
        assert date is not None, judged.where
        assert judged.entry.started_ms == int(parsedate_to_datetime(date).timestamp() * 1000), judged.where


def test_content_length_matches_the_body_except_where_redaction_shortened_it(corpus):
    spec = load_spec()
    mismatched = Counter()
    for judged in corpus.judged:
        response = judged.exchange.response
        declared = response.headers.get("content-length")
        if declared is None or int(declared) == len(response.body):
            continue
        matched = spec.match(judged.exchange.request.path) if judged.is_api else None
        mismatched[matched.route if matched is not None else judged.where] += 1
    assert set(mismatched) == REDACTED_BODY_ROUTES, mismatched


def _wrong_types(body: dict) -> dict:
    """Every top-level value of an answer replaced by a value of a type no schema gives it."""
    return {key: {"broken": [True]} if not isinstance(value, dict) else "broken" for key, value in body.items()}


def test_the_checks_still_flag_a_broken_answer_on_every_recorded_route(corpus):
    """The corpus passing is not because the schemas are empty: on every route of the corpus a recorded answer
    with its values of the wrong type is a MUST finding, and so is a recorded error of an unknown type."""
    spec = load_spec()
    first_answers = {}
    for judged in corpus.api:
        response = judged.exchange.response
        if response.status == 200 and response.json and judged.verdict.route not in first_answers:
            first_answers[judged.verdict.route] = judged
    assert set(first_answers) == {j.verdict.route for j in corpus.api} and len(first_answers) == 21
    for route, judged in first_answers.items():
        broken = _exchange_with_body(judged.exchange, _wrong_types(judged.exchange.response.json))
        findings = run_checks(CheckContext(spec=spec, route=route, now_ms=judged.entry.started_ms), broken)
        assert any(f.check == "output_schema" and f.level is Level.MUST for f in findings), route
    error = next(j for j in corpus.api if j.exchange.response.status == 404)
    body = copy.deepcopy(error.exchange.response.json)
    body["error"]["type"] = "NoSuchErrorType"
    findings = run_checks(CheckContext(spec=spec, now_ms=error.entry.started_ms),
                          _exchange_with_body(error.exchange, body))
    assert {f.check for f in findings if f.level is Level.MUST} == {"documented_error_type"}


def test_a_storage_answer_that_breaks_the_content_rules_is_still_flagged(corpus):
    """Judged as file content, a storage exchange still answers to the rules that hold for content: a 500 from the
    upload URL is a MUST finding."""
    put = next(j for j in corpus.judged if not j.is_api)
    handed_out = next(j for j in reversed(corpus.judged[:corpus.judged.index(put)]) if j.is_api
                      and j.verdict.route == "/file-xxxx/upload")
    monitor = Monitor(load_spec())
    monitor.inspect(handed_out.exchange, now_ms=handed_out.entry.started_ms)
    response = put.exchange.response
    failed = Exchange(put.exchange.request, Response(500, response.headers, b"<Error>InternalError</Error>"))
    verdict = monitor.inspect(failed, now_ms=put.entry.started_ms)
    assert verdict.kind == "content"
    assert [f.check for f in verdict.violations("server")] == ["no_server_error"]


def _exchange_with_body(exchange: Exchange, body) -> Exchange:
    response = exchange.response
    return Exchange(exchange.request, Response(response.status, response.headers, json.dumps(body).encode()))
