"""The reference server's coverage of the API, by subject: what it implements and what it leaves out."""

from __future__ import annotations

from .markdown import code, table
from .routes_page import RouteFacts, route_facts


def subject_rows(facts: list[RouteFacts], implemented: bool) -> list[tuple[str, str, str]]:
    """One row per subject (system, project, file-xxxx ...): its routes' methods on this side."""
    by_subject: dict[str, list[RouteFacts]] = {}
    for fact in facts:
        if fact.implemented == implemented:
            by_subject.setdefault(fact.route.subject, []).append(fact)
    return [(code("/" + subject), ", ".join(sorted({f.route.profile for f in group})),
             " ".join(code(f.route.method) for f in group)) for subject, group in by_subject.items()]


def render() -> str:
    facts = route_facts()
    done = [f for f in facts if f.implemented]
    left = [f for f in facts if not f.implemented]
    core_left = [f.route.route for f in left if f.route.profile == "core"]
    return "\n".join([
        f"**{len(done)} of {len(facts)} routes implemented**; every route of profile `core` "
        + ("is implemented." if not core_left else f"but {', '.join(code(r) for r in core_left)}."), "",
        "### Implemented", "",
        table(("subject", "profile", "methods"), subject_rows(facts, True)),
        "### Left out", "",
        "A call to one of these answers `404` with the error envelope "
        "`{\"error\": {\"type\": \"ResourceNotFound\", \"message\": \"No API method ... on this server\"}}`.", "",
        table(("subject", "profile", "methods"), subject_rows(facts, False)),
    ])
