"""Schema-valid case-file data to model objects (CaseSpec, Fixture, Step), with defaults applied."""

from __future__ import annotations

from typing import Any

from ..model import Area, Level
from .blobs import GeneratedBytes
from .generate import build_generate
from .model import (
    DEFAULT_COLLECT,
    DEFAULT_MAX_PAGES,
    NO_BODY,
    CaseSpec,
    Eventually,
    Expect,
    Fixture,
    Location,
    PageThrough,
    Save,
    Step,
)
from .repeat import RawStep, expand_steps
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
                  values=dict(raw.get("values") or {}), headers=dict(raw.get("headers") or {}),
                  bytes=GeneratedBytes(**raw["bytes"]) if "bytes" in raw else None)


def build_page_through(raw: dict[str, Any], expect: dict[str, Any]) -> PageThrough:
    """The walk of a `page_through` step, with the walk keys of its `expect`."""
    return PageThrough(limit=raw["limit"], collect=raw.get("collect", DEFAULT_COLLECT),
                       max_pages=raw.get("max_pages", DEFAULT_MAX_PAGES), count=expect.get("count", NO_BODY),
                       unique=expect.get("unique", False), same_as_unpaged=expect.get("same_as_unpaged", False),
                       pages=expect.get("pages", NO_BODY), collected=expect.get("collected", NO_BODY))


def build_step(step: RawStep, label: str, document: MarkedDocument) -> Step:
    raw = step.data
    eventually = raw.get("eventually")
    generated = raw.get("generate_bytes")
    return Step(
        location=Location(label, document.line_of(step.path)),
        route=raw.get("route"), fetch=raw.get("fetch"), name=raw.get("name", ""),
        user=raw.get("user", "alice"), token=raw.get("token"),
        method=raw.get("method", "POST" if "route" in raw else "GET"),
        body=raw.get("body", NO_BODY), raw=raw.get("raw"),
        headers=raw.get("headers", {}),
        expect=build_expect(raw.get("expect") or {}),
        save=tuple(Save(name, jpath) for name, jpath in (raw.get("save") or {}).items()),
        eventually=Eventually(float(eventually["timeout"]), float(eventually.get("interval", 0.5)))
        if eventually else None,
        skip_checks=tuple(raw.get("skip_checks") or ()),
        generated=GeneratedBytes(**generated) if generated else None, save_md5=raw.get("save_md5"),
        page_through=build_page_through(raw["page_through"], raw.get("expect") or {})
        if "page_through" in raw else None)


def _steps(raw: list | None, label: str, document: MarkedDocument, path: tuple) -> tuple[Step, ...]:
    return tuple(build_step(step, label, document) for step in expand_steps(raw, path))


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
