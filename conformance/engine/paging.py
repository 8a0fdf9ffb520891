"""`page_through`: walk every page of a search (`next` -> `starting`) and judge what the walk collected."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cases.match import MISSING, MatchFailure, get_path, match
from ..cases.model import NO_BODY, PageThrough, Step
from ..cases.template import NOW_MS, render
from .expectations import Miss
from .sending import Sent, StepRun, attempt, judged, now_ms, saves_from

if TYPE_CHECKING:
    from .session import RunSession

RESULTS, NEXT, STARTING, LIMIT = "$.results", "$.next", "starting", "limit"


@dataclass
class Walk:
    """What the walk saw: the values collected (with the page each came from) and the `next` of each page."""

    collected: list[Any] = field(default_factory=list)
    page_of: list[int] = field(default_factory=list)
    nexts: dict[str, int] = field(default_factory=dict)   # a `next` (as JSON) -> the page that gave it
    pages: int = 0


def walk(session: RunSession, step: Step, saved: dict[str, Any]) -> StepRun:
    """Walk the pages of the step's search and judge the walk; on success its saves are added to `saved`."""
    spec = step.page_through
    assert spec is not None
    run = StepRun()
    values = {**saved, NOW_MS: now_ms()}
    base = render(step.body, values) if step.body is not NO_BODY else {}
    if not isinstance(base, dict):
        run.misses = [Miss("page_through needs a JSON object body", "$", "an object", base, matcher="page_through")]
        return run
    seen = Walk()
    if _walk_pages(session, step, saved, spec, base, seen, run):
        _judge_walk(session, step, saved, values, base, seen, run)
    if not run.ok:
        run.note = f"walked {seen.pages} page(s) of limit {spec.limit}, collected {len(seen.collected)} value(s)"
    return run


def _judge_walk(session: RunSession, step: Step, saved: dict[str, Any], values: dict[str, Any], base: dict,
                seen: Walk, run: StepRun) -> None:
    """The walk's expectations, the unpaged query, then the saves (into `saved` when all hold)."""
    spec = step.page_through
    run.misses = _walk_misses(spec, seen, values)
    if spec.same_as_unpaged and not run.misses:
        run.misses = _unpaged_misses(session, step, saved, spec, base, seen, run)
    if run.ok:
        found, run.misses = saves_from(step, seen.collected)
        saved.update(found if not run.misses else {})


def _walk_pages(session: RunSession, step: Step, saved: dict[str, Any], spec: PageThrough, base: dict,
                seen: Walk, run: StepRun) -> bool:
    """Ask page after page until `next` is null; False (with `run.error` or `run.misses`) if the walk broke."""
    starting: Any = None
    while True:
        body = {**base, LIMIT: spec.limit, **({STARTING: starting} if starting is not None else {})}
        sent = attempt(session, step, saved, run, body)
        if sent is None:
            return False
        seen.pages += 1
        run.misses = [_on_page(miss, seen.pages) for miss in judged(session, step.expect, sent)]
        run.misses = run.misses or _page_misses(spec, sent, seen)
        if run.misses:
            return False
        starting = get_path(sent.exchange.response.json, NEXT)
        if starting is None:
            return True
        run.misses = _next_misses(spec, starting, seen)
        if run.misses:
            return False


def _on_page(miss: Miss, page: int) -> Miss:
    return dataclasses.replace(miss, message=f"page {page}: {miss.message}")


def _page_misses(spec: PageThrough, sent: Sent, seen: Walk) -> list[Miss]:
    """Collect the page's values; a miss when it holds more results than `limit`, or nothing to collect."""
    answer = sent.exchange.response.json
    results = get_path(answer, RESULTS)
    if isinstance(results, list) and len(results) > spec.limit:
        return [Miss(f"page {seen.pages}: {len(results)} results, more than limit {spec.limit}", RESULTS,
                     {"$len": {"max": spec.limit}}, len(results), matcher="page_through.limit")]
    found = get_path(answer, spec.collect)
    if found is MISSING:
        return [Miss(f"page {seen.pages}: nothing at {spec.collect}", spec.collect, "a value",
                     matcher="page_through.collect", actual_missing=True)]
    found = found if isinstance(found, list) else [found]
    seen.collected.extend(found)
    seen.page_of.extend([seen.pages] * len(found))
    return []


def _next_misses(spec: PageThrough, following: Any, seen: Walk) -> list[Miss]:
    """A `next` that is missing, was given before (the walk would never end), or one page too many."""
    if following is MISSING:
        return [Miss(f"page {seen.pages}: no `next` (null on the last page)", NEXT, "null or an object",
                     matcher="page_through.next", actual_missing=True)]
    key = json.dumps(following, sort_keys=True)
    if key in seen.nexts:
        return [Miss(f"page {seen.pages}: next {key} was already given by page {seen.nexts[key]}: the walk "
                     "would never end", NEXT, "a new next", following, matcher="page_through.next")]
    seen.nexts[key] = seen.pages
    if seen.pages >= spec.max_pages:
        return [Miss(f"gave up after {seen.pages} pages (max_pages): next is still not null", NEXT, None,
                     following, matcher="page_through.max_pages")]
    return []


def _walk_misses(spec: PageThrough, seen: Walk, values: dict[str, Any]) -> list[Miss]:
    """The walk's expectations: count, unique, pages, collected."""
    misses = []
    for name, expected, actual in (("count", spec.count, len(seen.collected)), ("pages", spec.pages, seen.pages),
                                   ("collected", spec.collected, seen.collected)):
        if expected is not NO_BODY:
            misses.extend(_matched(name, render(expected, values), actual))
    if spec.unique:
        misses.extend(_repeats(seen))
    return misses


def _matched(name: str, expected: Any, actual: Any) -> list[Miss]:
    try:
        match(expected, actual)
    except MatchFailure as failure:
        shown = failure.message if name == "collected" else f"{actual}, expected {json.dumps(expected)}"
        return [Miss(f"walk {name}: {shown}", f"walk.{name}{failure.path[1:]}", failure.expected, failure.actual,
                     matcher=failure.matcher)]
    return []


def _repeats(seen: Walk) -> list[Miss]:
    first: dict[str, int] = {}
    for index, value in enumerate(seen.collected):
        key = json.dumps(value, sort_keys=True)
        if key in first:
            earlier = seen.page_of[first[key]]
            return [Miss(f"walk unique: {key} came twice, on page {earlier} and on page {seen.page_of[index]}",
                         "walk.collected", {"$unique": True}, value, matcher="$unique")]
        first[key] = index
    return []


def _unpaged_misses(session: RunSession, step: Step, saved: dict[str, Any], spec: PageThrough, base: dict,
                    seen: Walk, run: StepRun) -> list[Miss]:
    """One call without limit or starting must answer, on one page, the set of values the walk collected."""
    sent = attempt(session, step, saved, run, base)
    if sent is None:
        return []
    misses = [dataclasses.replace(miss, message=f"the unpaged query: {miss.message}")
              for miss in judged(session, step.expect, sent)]
    answer = sent.exchange.response.json
    if misses or get_path(answer, NEXT) not in (None, MISSING):
        return misses or [Miss("the unpaged query has more than one page: same_as_unpaged cannot compare",
                               NEXT, None, get_path(answer, NEXT), matcher="page_through.same_as_unpaged")]
    found = get_path(answer, spec.collect)
    found = [] if found is MISSING else found if isinstance(found, list) else [found]
    return _set_misses(found, seen.collected)


def _set_misses(unpaged: list[Any], walked: list[Any]) -> list[Miss]:
    def keys(items: list[Any]) -> dict[str, Any]:
        return {json.dumps(item, sort_keys=True): item for item in items}

    wanted, got = keys(unpaged), keys(walked)
    missing = [wanted[k] for k in wanted if k not in got]
    extra = [got[k] for k in got if k not in wanted]
    if not (missing or extra):
        return []
    words = "; ".join(filter(None, [f"the walk missed {json.dumps(missing[:5])}" if missing else "",
                                    f"the walk had {json.dumps(extra[:5])} the unpaged query has not" if extra else ""]))
    return [Miss(f"walk same_as_unpaged: {words} ({len(missing)} missed, {len(extra)} extra)", "walk.collected",
                 {"$set_eq": unpaged}, walked, matcher="page_through.same_as_unpaged")]
