"""The route registry (schemas/routes.json): Route records, and matching concrete URL paths and the route
templates of case steps to routes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schemas import SpecError

ROUTES_FORMAT = "dxconform-routes/1"
SUBJECT_KINDS = ("system", "class", "instance", "service")

# Clients send IDs in the loose alphabet (dxpy's own tests do); a route matches them all.
_INSTANCE = re.compile(r"^/([a-z]+)-([0-9A-Za-z]{24})/([A-Za-z][A-Za-z0-9]*)$")
_PLAIN = re.compile(r"^/([a-z]+)/([A-Za-z][A-Za-z0-9]*)$")
# Apps and global workflows are also addressed by name, optionally with a version or tag:
# /app-<name>/<method> and /app-<name>/<alias>/<method> (dxpy api.py app_* wrappers).
_NAMED = re.compile(r"^/(app|globalworkflow|user|org|team)-([A-Za-z0-9._-]+)(?:/[A-Za-z0-9._-]+)?/([A-Za-z][A-Za-z0-9]*)$")
# A case step's route template with a placeholder subject: /{file}/close, /file-{h}/close, /{record_2}/describe.
_TEMPLATE = re.compile(r"^/(?:([a-z]+)-)?\{([A-Za-z_][A-Za-z0-9_.]*)\}/([A-Za-z][A-Za-z0-9]*)$")


@dataclass(frozen=True)
class Route:
    """One API route as the registry describes it, plus whether schemas/methods has its schemas."""

    route: str
    url_form: str
    subject_kind: str
    cls: str | None
    method: str
    retryable: bool
    accepts_nonce: bool
    profile: str
    source: str | None
    has_input_schema: bool
    has_output_schema: bool

    @property
    def subject(self) -> str:
        """The subject segment of the route key: system, file, file-xxxx, notifications."""
        return self.route.split("/")[1]

    def as_json(self) -> dict[str, Any]:
        return {
            "route": self.route, "url_form": self.url_form, "subject_kind": self.subject_kind,
            "class": self.cls, "method": self.method, "retryable": self.retryable,
            "accepts_nonce": self.accepts_nonce, "profile": self.profile, "source": self.source,
            "has_input_schema": self.has_input_schema, "has_output_schema": self.has_output_schema,
        }


# `for_each` filters of the case format: list-valued and flag filters.
LIST_FILTERS = ("subject_kind", "profile", "class", "method")
FLAG_FILTERS = ("accepts_nonce",)


def _as_set(value: Any) -> set[Any]:
    return set(value) if isinstance(value, list) else {value}


def select_routes(filters: Mapping[str, Any], routes: Iterable[Mapping[str, Any]],
                  schema_routes: Mapping[str, set[str]] | None = None) -> list[Mapping[str, Any]]:
    """The routes (registry entries as JSON) passing every `for_each` filter given. `schema_routes` maps
    "input"/"output" to the route keys whose schema exists (needed only for has_input/output_schema)."""
    chosen = []
    for route in routes:
        key = route["route"]
        if "routes" in filters and key not in filters["routes"]:
            continue
        if key in filters.get("exclude", ()):
            continue
        if any(name in filters and route.get(name) not in _as_set(filters[name]) for name in LIST_FILTERS):
            continue
        if any(name in filters and bool(route.get(name)) != filters[name] for name in FLAG_FILTERS):
            continue
        if any(f"has_{d}_schema" in filters and (key in (schema_routes or {}).get(d, set()))
               != filters[f"has_{d}_schema"] for d in ("input", "output")):
            continue
        chosen.append(route)
    return chosen


def read_registry(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != ROUTES_FORMAT:
        raise SpecError(f"{path}: not a {ROUTES_FORMAT} document")
    return document


def build_routes(entries: list[dict[str, Any]], method_docs: dict[str, dict]) -> list[Route]:
    """Route records in registry order; has_*_schema comes from the method documents by route key."""
    routes, seen = [], set()
    for entry in entries:
        key = entry["route"]
        if key in seen:
            raise SpecError(f"routes.json lists {key} twice")
        seen.add(key)
        defs = (method_docs.get(key) or {}).get("$defs") or {}
        routes.append(Route(
            route=key, url_form=entry["url_form"], subject_kind=entry["subject_kind"], cls=entry["class"],
            method=entry["method"], retryable=bool(entry["retryable"]),
            accepts_nonce=bool(entry["accepts_nonce"]), profile=entry["profile"], source=entry["source"],
            has_input_schema="input" in defs, has_output_schema="output" in defs,
        ))
    return routes


def route_key_of_path(path: str) -> str | None:
    """The route key a concrete URL path addresses, or None if the path has no route form.

    '/system/whoami' -> '/system/whoami'; '/file/new' -> '/file/new';
    '/file-B0000000000000000000000Q/close' -> '/file-xxxx/close'; '/app-bwa/1.0.0/run' -> '/app-xxxx/run'.
    The query string is ignored, as the platform ignores it.
    """
    path = path.split("?", 1)[0]
    if m := _INSTANCE.match(path):
        return f"/{m.group(1)}-xxxx/{m.group(3)}"
    if m := _PLAIN.match(path):
        return path
    if m := _NAMED.match(path):
        return f"/{m.group(1)}-xxxx/{m.group(3)}"
    return None


class TemplateResolver:
    """Maps a route as a case writes it (key, concrete path or template) to a route key of `routes`, or None.

    The class of a template's subject (`/{file}/close`) is only known at run time, so it is inferred: a
    literal class prefix (`/file-{h}/close`), else a placeholder named after a class (`{file}`,
    `{record_2}`), else the one class that has that method. Templates that stay ambiguous give None.
    """

    def __init__(self, routes: Iterable[Route]):
        routes = list(routes)
        self._keys = {r.route for r in routes}
        self._instance_by_method: dict[str, list[str]] = {}
        for r in routes:
            if r.subject_kind == "instance":
                self._instance_by_method.setdefault(r.method, []).append(r.route)

    def __call__(self, written: str) -> str | None:
        written = written.split("?", 1)[0]
        if written in self._keys:
            return written
        key = route_key_of_path(written)
        if key in self._keys:
            return key
        m = _TEMPLATE.match(written)
        if not m:
            return None
        prefix, placeholder, method = m.groups()
        if prefix:
            key = f"/{prefix}-xxxx/{method}"
            return key if key in self._keys else None
        for hint in re.split(r"[_.]", placeholder.lower()):
            key = f"/{hint.rstrip('0123456789')}-xxxx/{method}"
            if key in self._keys:
                return key
        candidates = self._instance_by_method.get(method, [])
        return candidates[0] if len(candidates) == 1 else None
