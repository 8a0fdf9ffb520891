"""Comparing a candidate run with the golden recording step by step: what differs, per case, per step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .golden import RUN_FIXTURE_STEP
from .volatile import Placeholders, map_strings, volatile_pattern
from .walker import ABSENT, IdMap, Mismatch, Walker

ERROR_TYPE_PATH = "$.error.type"
CONTENT_TYPE = "content-type"


@dataclass(frozen=True)
class Difference:
    """One difference of one step: kind (status, error-type, only-in-golden, only-in-candidate, type, value,
    length, timestamp, content-type, no-answer, request, not-run, extra-step), where, and both sides."""

    case: str
    step: str
    route: str
    kind: str
    path: str = ""
    golden: Any = ABSENT
    candidate: Any = ABSENT
    detail: str = ""

    def describe(self) -> str:
        where = f" at {self.path}" if self.path else ""
        route = f" {self.route}" if self.route else ""
        return f"{self.step}{route}: {self.kind}{where}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class StepPair:
    """A step as both runs saw it (its last exchange: polls differ in number), for the side-by-side report."""

    step: str
    golden: dict[str, Any] | None
    candidate: dict[str, Any] | None
    differences: list[Difference] = field(default_factory=list)


class Comparer:
    """Compares whole cases; holds the ID correspondence, which grows over the run (keep one per run)."""

    def __init__(self, golden: Placeholders, candidate: Placeholders, now_ms: int | None = None):
        self.golden = golden
        self.candidate = candidate
        self.ids = IdMap()
        self.walker = Walker(self.ids, volatile_pattern(golden.run_prefix, golden.server),
                             volatile_pattern(candidate.run_prefix, candidate.server), now_ms)

    def pair_ids(self, golden_id: str | None, candidate_id: str | None) -> None:
        """Known pairs before any comparison (the work projects, made outside any case)."""
        if golden_id and candidate_id:
            self.ids.pair(golden_id, candidate_id)

    def compare_case(self, case_id: str, golden_steps: list[dict], candidate_steps: list[dict]
                     ) -> list[StepPair]:
        theirs = {step["step"]: step for step in candidate_steps}
        pairs: list[StepPair] = []
        not_run: list[str] = []
        for step in golden_steps:
            other = theirs.pop(step["step"], None)
            if other is None:
                if not step["step"].startswith(RUN_FIXTURE_STEP):   # set up by whichever case came first
                    not_run.append(step["step"])
                    pairs.append(StepPair(step["step"], step["exchanges"][-1], None))
                continue
            pair = StepPair(step["step"], step["exchanges"][-1], other["exchanges"][-1])
            pair.differences = self.compare_exchange(case_id, step["step"], pair.golden, pair.candidate)
            pairs.append(pair)
        if not_run:
            first = next(p for p in pairs if p.step == not_run[0])
            first.differences.append(Difference(case_id, not_run[0], _route(first.golden), "not-run",
                                                detail=f"{len(not_run)} step(s) of the golden run did not run "
                                                       f"here: {', '.join(not_run)}"))
        for key, step in theirs.items():
            if key.startswith(RUN_FIXTURE_STEP):
                continue
            last = step["exchanges"][-1]
            pairs.append(StepPair(key, None, last, [Difference(case_id, key, _route(last), "extra-step",
                                                               detail="this step did not run in the golden run")]))
        return pairs

    def compare_exchange(self, case_id: str, step: str, golden: Mapping[str, Any], candidate: Mapping[str, Any]
                         ) -> list[Difference]:
        self.walker.loose_ids = _paged(golden)
        try:
            return self._exchange(case_id, step, golden, candidate)
        finally:
            self.walker.loose_ids = False

    def _exchange(self, case_id: str, step: str, golden: Mapping[str, Any], candidate: Mapping[str, Any]
                  ) -> list[Difference]:
        route = _route(golden) or _route(candidate)

        def difference(kind: str, path: str = "", g: Any = ABSENT, c: Any = ABSENT, detail: str = "") -> Difference:
            return Difference(case_id, step, route, kind, path, g, c, detail)

        found = [difference("request", m.path, m.golden, m.candidate, f"the requests differ: {m.detail or m.kind}")
                 for m in self._requests(golden, candidate)]
        g_answer, c_answer = golden.get("response"), candidate.get("response")
        if g_answer is None or c_answer is None:
            if (g_answer is None) != (c_answer is None):
                lost = golden if g_answer is None else candidate
                found.append(difference("no-answer", "", g_answer and g_answer["status"],
                                        c_answer and c_answer["status"],
                                        f"{'the golden run' if g_answer is None else 'this run'} got no answer: "
                                        f"{(lost.get('error') or {}).get('kind', 'no response')}"))
            return found
        if g_answer["status"] != c_answer["status"]:
            found.append(difference("status", "status", g_answer["status"], c_answer["status"]))
        media_g, media_c = _media_type(g_answer), _media_type(c_answer)
        if media_g != media_c:
            found.append(difference("content-type", "header content-type", media_g, media_c))
        for mismatch in self._bodies(g_answer, c_answer):
            kind = "error-type" if mismatch.path == ERROR_TYPE_PATH and mismatch.kind == "value" else mismatch.kind
            found.append(difference(kind, mismatch.path, mismatch.golden, mismatch.candidate, mismatch.detail))
        return found

    def _bodies(self, g: Mapping[str, Any], c: Mapping[str, Any]) -> list[Mismatch]:
        if "json" in g and "json" in c:
            return self.walker.compare(g["json"], c["json"])
        if "text" in g and "text" in c:
            why = self.walker.strings(g["text"], c["text"])
            return [] if why is None else [Mismatch("value", "$", g["text"], c["text"], why)]
        return [Mismatch("type", "$", g.get("json", g.get("text")), c.get("json", c.get("text")),
                         "JSON on one side, other text on the other")]

    def _requests(self, golden: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[Mismatch]:
        """Requests are compared with their placeholders revealed; a URL handed out by the server (upload,
        download) is the server's to choose, so only the paths of API calls are compared."""
        g = map_strings(dict(golden["request"]), self.golden.reveal)
        c = map_strings(dict(candidate["request"]), self.candidate.reveal)
        found = []
        if g["method"] != c["method"]:
            found.append(Mismatch("value", "method", g["method"], c["method"]))
        if _is_api(golden) and _is_api(candidate):
            why = self.walker.strings(g["path"], c["path"])
            if why is not None:
                found.append(Mismatch("value", "path", g["path"], c["path"], why))
        found.extend(self._bodies(g, c))
        return found


def _route(exchange: Mapping[str, Any] | None) -> str:
    return (exchange or {}).get("route", "") if exchange else ""


def _is_api(exchange: Mapping[str, Any]) -> bool:
    """An API call has a route or carries a token; a fetch of a URL the server handed out has neither."""
    return bool(exchange.get("route")) or bool(exchange["request"].get("auth"))


def _paged(exchange: Mapping[str, Any]) -> bool:
    """A request for one page of a listing (it sets `limit` or `starting`)."""
    body = exchange["request"].get("json")
    return isinstance(body, dict) and ("limit" in body or "starting" in body)


def _media_type(answer: Mapping[str, Any]) -> str:
    headers = {name.lower(): value for name, value in (answer.get("headers") or {}).items()}
    return headers.get(CONTENT_TYPE, "").split(";", 1)[0].strip().lower()
