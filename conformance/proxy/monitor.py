"""Checking traffic: every exchange against the client-side and server-side rules, tallied per (check, route)."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..checks import CLIENT_SIDE, SERVER_SIDE, CheckContext, apply_checks, check_info
from ..engine.ledger import NO_ROUTE, CheckLedger, check_result_id
from ..model import Exchange, Finding, Level
from ..spec import Spec

# Server rules that hold for upload and download URLs too (dxpy retries their 5xx and honours Retry-After);
# the others are about API answers (JSON, envelope, schemas) and do not apply to file content.
CONTENT_CHECKS = ("no_server_error", "retry_after")
# The longest body the checks read (docs/proxy.md): parsing and schema-checking JSON takes many times a body's
# size in memory (30 MB of `[{},{},...]` took 1.3 GB). A longer answer is checked as cut off (its headers and
# status only); an exchange whose request is longer is not checked (`traffic.over_limit` counts both).
MAX_CHECKED_BODY_BYTES = 8 * 1024 * 1024
CUT_BODY_KEPT_BYTES = 4096
# A JSON string holding an absolute URL: an answer handing out an upload or a download URL.
_URL_IN_JSON = re.compile(rb'"(https?://[^"\s\\]+)"')


def content_route(method: str) -> str:
    """The pseudo-route under which upload/download URL exchanges are tallied."""
    return f"(content {method.upper()})"


@dataclass
class Verdict:
    """What the checks found on one exchange, by side."""

    kind: str                                   # "api" or "content"
    route: str | None
    client: list[Finding] = field(default_factory=list)
    server: list[Finding] = field(default_factory=list)

    def violations(self, side: str, level: Level = Level.MUST) -> list[Finding]:
        found = self.client if side == CLIENT_SIDE else self.server
        return [f for f in found if f.level is level and not f.internal]


class Monitor:
    """Checks exchanges in the order they happened and keeps the tally, the first evidence and the counts.

    Thread-safe: the proxy checks from a background thread and, in strict mode, from request threads.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.ledger = CheckLedger()
        self.traffic: Counter[str] = Counter()
        self._handed_out: set[str] = set()
        self._evidence: dict[str, Exchange] = {}
        self._lock = threading.Lock()

    # -- upload/download URLs ---------------------------------------------------------------------------
    def learn_urls(self, body: bytes) -> None:
        """Remember the paths of the absolute URLs an answer hands out: requests to them are file content,
        not API calls."""
        if b"://" not in body:
            return
        paths = {urlsplit(m.group(1).decode("utf-8", errors="replace")).path for m in _URL_IN_JSON.finditer(body)}
        with self._lock:
            self._handed_out.update(p for p in paths if p)

    def forget_urls(self) -> None:
        """Start another stream of traffic (another HAR file): URLs handed out before do not carry over."""
        with self._lock:
            self._handed_out.clear()

    def is_content(self, path: str) -> bool:
        with self._lock:
            return path.split("?", 1)[0] in self._handed_out

    def count(self, kind: str) -> None:
        """Count one exchange of a kind the checks do not see as such (`over_limit`: past a proxy limit)."""
        with self._lock:
            self.traffic[kind] += 1

    # -- checking ---------------------------------------------------------------------------------------
    def inspect(self, exchange: Exchange, now_ms: int | None = None) -> Verdict:
        """Run both sides' checks on one exchange, tally them, and learn the URLs its answer hands out."""
        content = self.is_content(exchange.request.path)   # file content: its checks read no body
        if not content and len(exchange.request.body) > MAX_CHECKED_BODY_BYTES:
            self.count("over_limit")
            return Verdict("api", None)
        response = exchange.response
        if not content and response is not None and len(response.body) > MAX_CHECKED_BODY_BYTES:
            self.count("over_limit")
            response = dataclasses.replace(response, body=response.body[:CUT_BODY_KEPT_BYTES], truncated=True)
            exchange = dataclasses.replace(exchange, response=response)
        if content:
            verdict = self._inspect_content(exchange, now_ms)
        else:
            verdict = self._inspect_api(exchange, now_ms)
            if response is not None and 200 <= response.status < 300:
                self.learn_urls(response.body)
        with self._lock:
            self.traffic[verdict.kind] += 1
            if response is None:
                self.traffic["no_answer"] += 1
        return verdict

    def _inspect_api(self, exchange: Exchange, now_ms: int | None) -> Verdict:
        matched = self.spec.match(exchange.request.path)
        route = matched.route if matched is not None else None
        context = CheckContext(spec=self.spec, route=route, now_ms=now_ms)
        client_run = apply_checks(context, exchange, side=CLIENT_SIDE)
        client = list(client_run.findings)
        # A 5xx answer to a request that broke a MUST rule is a lesser fault (no_server_error reads this).
        context.valid_input = not any(f.level is Level.MUST for f in client)
        ran, applied = list(client_run.looked), list(client_run.applied)
        server: list[Finding] = []
        if exchange.response is not None:
            server_run = apply_checks(context, exchange, side=SERVER_SIDE)
            server = list(server_run.findings)
            ran += server_run.looked
            applied += server_run.applied
        self._tally(route, ran, client + server, exchange, matched.profile if matched is not None else "core",
                    applied)
        return Verdict("api", route, client, server)

    def _inspect_content(self, exchange: Exchange, now_ms: int | None) -> Verdict:
        route = content_route(exchange.request.method)
        if exchange.response is None:
            return Verdict("content", route)
        context = CheckContext(spec=self.spec, route=route, now_ms=now_ms)
        server_run = apply_checks(context, exchange, names=CONTENT_CHECKS, side=SERVER_SIDE)
        server = list(server_run.findings)
        self._tally(route, server_run.looked, server, exchange, "core", server_run.applied)
        return Verdict("content", route, [], server)

    def _tally(self, route: str | None, ran, findings: list[Finding], exchange: Exchange, profile: str,
               applied=None) -> None:
        self.ledger.record(route, ran, findings, profile=profile, applied=applied)
        with self._lock:
            for finding in findings:
                self._evidence.setdefault(check_result_id(finding.check, route or NO_ROUTE), exchange)

    # -- results ----------------------------------------------------------------------------------------
    def results(self) -> list[dict[str, Any]]:
        """One result per (check, route) that ran, as results.json entries with the side whose rule it is and,
        when it failed, the first exchange that broke it."""
        entries = []
        for result in self.ledger.results():
            name = result.id.removeprefix("checks/").split("::", 1)[0]
            info = check_info(name)
            with self._lock:
                evidence = self._evidence.get(result.id)
            if evidence is not None and result.findings:
                result.exchanges = [evidence]
            entries.append(dict(result.to_json(), side=info.side if info else SERVER_SIDE))
        return entries
