"""Case files as data: CaseSpec, Fixture, Step, Expect, Save, Eventually (read by the loader, run by the engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Area, Level
from .generate import Generate

NO_BODY: Any = type("NoBody", (), {"__repr__": lambda self: "NO_BODY"})()
DEFAULT_USER = "alice"


@dataclass(frozen=True)
class Location:
    """Where a node was written: for error messages and reports (`file:line`)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Eventually:
    """Repeat a step until its expectations hold; give up after `timeout` seconds."""

    timeout: float
    interval: float = 0.5


@dataclass(frozen=True)
class Save:
    """Capture the value at `path` in the answer body under `name`."""

    name: str
    path: str


@dataclass(frozen=True)
class Expect:
    """What a step's answer must be. Matchers are kept as written; conformance.cases.match reads them."""

    status: tuple[int, ...] = ()
    error: tuple[str, ...] = ()
    schema: str | None = None
    body: Any = NO_BODY
    text: Any = NO_BODY
    values: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One exchange: an API call (`route`) or a token-less request to a URL the server gave (`fetch`)."""

    location: Location
    route: str | None = None
    fetch: str | None = None
    name: str = ""
    user: str | None = DEFAULT_USER
    token: str | None = None
    method: str = "POST"
    body: Any = NO_BODY
    raw: str | None = None
    headers: dict[str, str | None] | str = field(default_factory=dict)
    expect: Expect = field(default_factory=Expect)
    save: tuple[Save, ...] = ()
    eventually: Eventually | None = None
    skip_checks: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """The route or URL template, for messages."""
        return self.route if self.route is not None else (self.fetch or "")


@dataclass(frozen=True)
class Fixture:
    """A named setup declared once and shared: its steps' saved values become the user's saved values."""

    name: str
    location: Location
    steps: tuple[Step, ...]
    finally_steps: tuple[Step, ...] = ()
    uses: tuple[str, ...] = ()
    scope: str = "case"
    description: str = ""

    @property
    def provides(self) -> frozenset[str]:
        return frozenset(save.name for step in self.steps for save in step.save)


@dataclass(frozen=True)
class CaseSpec:
    """One case: what it checks (id, area, level, source ...) and how (steps, fixtures, cleanup)."""

    uid: str                     # "<file>::<id>", unique in the suite
    id: str
    title: str
    area: Area
    topic: str
    level: Level
    profile: str
    source: str
    location: Location
    steps: tuple[Step, ...]
    finally_steps: tuple[Step, ...] = ()
    uses: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    description: str = ""
    # Template values given by `for_each` expansion ({route}, {path}, {class}, {method}, {profile}).
    values: dict[str, Any] = field(default_factory=dict)
    # `generate`: template values drawn anew for each of several runs of the case (cases/generate.py).
    generate: Generate | None = None


@dataclass
class CaseSuite:
    """Every case and fixture read from a set of case files."""

    cases: list[CaseSpec] = field(default_factory=list)
    fixtures: dict[str, Fixture] = field(default_factory=dict)

    def fixture_order(self, case: CaseSpec) -> list[Fixture]:
        """The fixtures a case needs, each after the fixtures it uses."""
        ordered: list[Fixture] = []

        def visit(name: str) -> None:
            fixture = self.fixtures[name]
            for used in fixture.uses:
                visit(used)
            if fixture not in ordered:
                ordered.append(fixture)

        for name in case.uses:
            visit(name)
        return ordered
