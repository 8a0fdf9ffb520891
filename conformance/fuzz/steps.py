"""A fuzzed call as data: route, subject and body with pool placeholders, bound to real IDs only when sent."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

_PLACEHOLDER = re.compile(r"^\{\{pool:([^{}]+)\}\}$")


def placeholder(slot: str) -> str:
    """The string standing for the ID in pool slot `slot` ("{{pool:file_open}}") until the call is sent."""
    return "{{pool:" + slot + "}}"


def slot_of(value: Any) -> str | None:
    match = _PLACEHOLDER.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


class Unbound(LookupError):
    """A step names a slot that holds no ID (the object it stands for was never made)."""


def bind(value: Any, bindings: Mapping[str, str]) -> Any:
    """`value` with every placeholder (as a string value or a mapping key) replaced by its bound ID."""
    if isinstance(value, str):
        slot = slot_of(value)
        if slot is None:
            return value
        if slot not in bindings:
            raise Unbound(slot)
        return bindings[slot]
    if isinstance(value, dict):
        return {bind(k, bindings): bind(v, bindings) for k, v in value.items()}
    if isinstance(value, list):
        return [bind(v, bindings) for v in value]
    return value


@dataclass(frozen=True)
class Step:
    """One call. `body` may hold placeholders; `raw` (text that is not JSON) replaces it when set.
    `creates` names the slot the answer's `id` is bound to; `violation` says which documented constraint a
    negative body breaks, `edge` which edge value a positive body carries."""

    route: str
    subject: str | None = None
    body: Any = field(default_factory=dict)   # None is a JSON null body, not "no body"
    raw: str | None = None
    creates: str | None = None
    violation: str | None = None
    edge: str | None = None

    def path(self, bindings: Mapping[str, str]) -> str:
        if self.subject is None:
            return self.route
        subject = bindings.get(self.subject)
        if subject is None:
            raise Unbound(self.subject)
        return f"/{subject}/{self.route.rsplit('/', 1)[1]}"

    def payload(self, bindings: Mapping[str, str]) -> bytes:
        if self.raw is not None:
            return self.raw.encode("utf-8", errors="surrogatepass")
        return json.dumps(bind(self.body, bindings)).encode()

    def bound_body(self, bindings: Mapping[str, str]) -> Any:
        return bind(self.body, bindings)

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "body"}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**values)


Steps = tuple[Step, ...]


def steps_key(steps: Steps) -> str:
    return "[" + ",".join(step.key() for step in steps) + "]"
