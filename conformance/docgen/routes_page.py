"""The routes page: every route of the registry with its schemas, its case coverage and the reference server."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..case_coverage import count_cases
from ..resources import cases_dir
from ..spec import Route, load_spec
from ..spec.routes import TemplateResolver
from .markdown import code, table, yes_no


@dataclass(frozen=True)
class RouteFacts:
    """What the registry, the cases and the reference server's route table say about one route."""

    route: Route
    cases: int
    implemented: bool


def route_facts() -> list[RouteFacts]:
    from ..refserver.handlers import load_all

    spec = load_spec()
    counts = count_cases(cases_dir(), TemplateResolver(spec.routes)).per_route
    implemented = set(load_all())
    return [RouteFacts(r, counts.get(r.route, 0), r.route in implemented) for r in spec.routes]


def profile_descriptions() -> dict[str, str]:
    return dict(load_spec().registry_header.get("profiles", {}))


def profile_order(facts: list[RouteFacts]) -> list[str]:
    sizes = Counter(f.route.profile for f in facts)
    return sorted(sizes, key=lambda p: (p != "core", -sizes[p], p))


def summary_table(facts: list[RouteFacts]) -> str:
    rows = []
    for profile in profile_order(facts):
        group = [f for f in facts if f.route.profile == profile]
        rows.append((code(profile), len(group),
                     sum(f.route.has_input_schema and f.route.has_output_schema for f in group),
                     sum(f.cases > 0 for f in group), sum(f.cases for f in group),
                     sum(f.implemented for f in group)))
    rows.append(("total", len(facts), sum(f.route.has_input_schema and f.route.has_output_schema for f in facts),
                 sum(f.cases > 0 for f in facts), sum(f.cases for f in facts), sum(f.implemented for f in facts)))
    return table(("profile", "routes", "with both schemas", "covered by cases", "case items",
                  "in the reference server"), rows)


def render() -> str:
    facts = route_facts()
    descriptions = profile_descriptions()
    out = ["# Routes and coverage", "",
           "Every route of the DNAnexus API that the official client bindings wrap (`schemas/routes.json`, "
           "derived from dx-toolkit's `wrapper_table.json`), with whether `schemas/methods/` has its input and "
           "output schemas, how many case items cover it (counted statically from `cases/`, as `dxconform "
           "routes` does; a `for_each` case counts once per route it expands to) and whether the embedded "
           "reference server implements it. `dxconform routes` prints the same table.", "",
           summary_table(facts)]
    for profile in profile_order(facts):
        group = [f for f in facts if f.route.profile == profile]
        out += [f"## Profile `{profile}` ({len(group)} routes)", "", descriptions.get(profile, ""), "",
                table(("route", "URL form", "kind", "input schema", "output schema", "cases", "reference server"),
                      [(code(f.route.route), code(f.route.url_form), f.route.subject_kind,
                        yes_no(f.route.has_input_schema), yes_no(f.route.has_output_schema), f.cases,
                        yes_no(f.implemented)) for f in group])]
    return "\n".join(out)
