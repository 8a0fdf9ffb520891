"""Schema-valid case-file data to model objects (CaseSpec, Fixture, Step), with defaults applied."""

from __future__ import annotations

from typing import Any

from ..model import Area, Level
from .generate import build_generate
from .model import NO_BODY, CaseSpec, Eventually, Expect, Fixture, Location, Save, Step
from .yamlmarks import MarkedDocument

CASE_FIELDS_FROM_DEFAULTS = ("area", "topic", "level", "profile", "source")
DEFAULT_PROFILE = "core"


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def build_expect(raw: dict[str, Any]) -> Expect:
    return Expect(status=_as_tuple(raw.get("status")), error=_as_tuple(raw.get("error")),
                  schema=raw.get("schema"), body=raw.get("body", NO_BODY), text=raw.get("text", NO_BODY),
                  values=dict(raw.get("values") or {}), headers=dict(raw.get("headers") or {}))


def build_step(raw: dict[str, Any], label: str, document: MarkedDocument, path: tuple) -> Step:
    eventually = raw.get("eventually")
    return Step(
        location=Location(label, document.line_of(path)),
        route=raw.get("route"), fetch=raw.get("fetch"), name=raw.get("name", ""),
        user=raw.get("user", "alice"), token=raw.get("token"),
        method=raw.get("method", "POST" if "route" in raw else "GET"),
        body=raw.get("body", NO_BODY), raw=raw.get("raw"),
        headers=raw.get("headers", {}),
        expect=build_expect(raw.get("expect") or {}),
        save=tuple(Save(name, jpath) for name, jpath in (raw.get("save") or {}).items()),
        eventually=Eventually(float(eventually["timeout"]), float(eventually.get("interval", 0.5)))
        if eventually else None,
        skip_checks=tuple(raw.get("skip_checks") or ()))


def _steps(raw: list | None, label: str, document: MarkedDocument, path: tuple) -> tuple[Step, ...]:
    return tuple(build_step(item, label, document, path + (index,)) for index, item in enumerate(raw or []))


def build_fixture(name: str, raw: dict[str, Any], label: str, document: MarkedDocument, path: tuple) -> Fixture:
    return Fixture(name=name, location=Location(label, document.line_of(path)),
                   steps=_steps(raw["steps"], label, document, path + ("steps",)),
                   finally_steps=_steps(raw.get("finally"), label, document, path + ("finally",)),
                   uses=tuple(raw.get("uses") or ()), scope=raw.get("scope", "case"),
                   description=raw.get("description", ""))


def build_case(raw: dict[str, Any], defaults: dict[str, Any], label: str, document: MarkedDocument,
               path: tuple) -> tuple[CaseSpec | None, list[str]]:
    """The CaseSpec, or None and the problems (a field neither the case nor the file's defaults set)."""
    merged = {"profile": DEFAULT_PROFILE, **defaults, **raw}
    missing = [name for name in CASE_FIELDS_FROM_DEFAULTS if name not in merged]
    if missing:
        return None, [f"case {raw['id']!r} has no {', '.join(missing)} (set it in the case or in `defaults`)"]
    steps = _steps(raw["steps"], label, document, path + ("steps",))
    routes = tuple(raw.get("routes") or dict.fromkeys(s.route for s in steps if s.route is not None))
    generate, problems = build_generate(raw["generate"]) if "generate" in raw else (None, [])
    if problems:
        return None, [f"case {raw['id']!r}: {problem}" for problem in problems]
    return CaseSpec(uid=f"{label}::{raw['id']}", id=raw["id"], title=raw["title"], area=Area(merged["area"]),
                    topic=merged["topic"], level=Level(merged["level"]), profile=merged["profile"],
                    source=merged["source"], location=Location(label, document.line_of(path)),
                    steps=steps, finally_steps=_steps(raw.get("finally"), label, document, path + ("finally",)),
                    uses=tuple(raw.get("uses") or ()), routes=routes,
                    description=raw.get("description", ""), generate=generate), []
