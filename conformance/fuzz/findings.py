"""Findings of a fuzzing run, de-duplicated per (mode, route, rule) with a count, and the report they
belong to: JSON for a findings file (replay reads it back) and conformance.model Results for results.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Area, Exchange, Finding, Level, Outcome, Result
from .config import Mode
from .repro import curl_commands, dxpy_snippet
from .steps import Step

TOPIC = "fuzzing"
PROFILE = "core"        # the profile of a result that names no one route (a mode's summary)
FUZZ_SOURCE = "generated from schemas/ (dxconform OpenAPI export); the rule's own source is in the finding"


def finding_id(mode: str, route: str, rule: str) -> str:
    """Stable across runs: `fuzz/<mode>/<route>::<rule>`."""
    return f"fuzz/{mode}/{route}::{rule}"


@dataclass
class FuzzFinding:
    """One (mode, route, rule) that broke, how often, and its smallest reproduction (shrunk steps)."""

    mode: str
    route: str
    rule: str
    level: str
    area: str
    title: str
    message: str
    source: str
    seed: int
    profile: str = PROFILE                # the profile of `route`
    count: int = 1
    steps: list[Step] = field(default_factory=list)
    curl: str = ""
    dxpy: str = ""
    exchange: Exchange | None = None      # the minimal input's exchange that broke the rule
    findings: list[Finding] = field(default_factory=list)
    shrunk: bool = False
    run_prefix: str = ""                  # of the run that found it: its steps' nonces and names start with it

    @property
    def id(self) -> str:
        return finding_id(self.mode, self.route, self.rule)

    def set_example(self, steps: list[Step], exchanges: list[Exchange | None], index: int,
                    findings: list[Finding]) -> None:
        self.steps = list(steps)
        self.exchange = exchanges[index]
        self.findings = findings
        self.message = findings[0].message if findings else self.message
        self.curl = curl_commands(exchanges[: index + 1])
        self.dxpy = dxpy_snippet(exchanges[: index + 1])

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "mode": self.mode, "route": self.route, "rule": self.rule, "level": self.level,
                "area": self.area, "title": self.title, "message": self.message, "source": self.source,
                "seed": self.seed, "profile": self.profile, "count": self.count, "shrunk": self.shrunk,
                "run_prefix": self.run_prefix,
                "steps": [s.to_json() for s in self.steps], "curl": self.curl, "dxpy": self.dxpy,
                "exchange": self.exchange.to_json() if self.exchange else None,
                "findings": [f.to_json() for f in self.findings]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FuzzFinding:
        keep = ("mode", "route", "rule", "level", "area", "title", "message", "source", "seed", "profile",
                "count", "curl", "dxpy", "shrunk", "run_prefix")
        return cls(**{k: data[k] for k in keep if k in data}, steps=[Step.from_json(s) for s in data["steps"]])

    def to_result(self) -> Result:
        text = (f"{self.message}\n{self.count} generated example(s) broke this rule; seed {self.seed}; "
                f"{'shrunk' if self.shrunk else 'not shrunk'} input below.\n"
                f"steps: {json.dumps([s.to_json() for s in self.steps])[:4000]}\n"
                f"curl:\n{self.curl[:4000]}\ndxpy:\n{self.dxpy[:4000]}\n"
                f"replay: dxconform replay {self.id}")
        return Result(id=self.id, title=f"{self.title} ({self.mode} fuzzing)", area=Area(self.area), topic=TOPIC,
                      level=Level(self.level), profile=self.profile, outcome=Outcome.FAILED, source=self.source,
                      routes=[self.route], message=text,
                      exchanges=[self.exchange] if self.exchange else [], findings=list(self.findings))


@dataclass
class FuzzReport:
    """A whole run: findings, examples per route and mode, the masked request log, what was skipped."""

    seed: int
    examples: int
    modes: list[str]
    run_prefix: str
    profiles: list[str] = field(default_factory=list)    # the profiles of the routes fuzzed
    findings: dict[str, FuzzFinding] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cleanup_problems: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    sent: int = 0

    def count(self, mode: str, route: str, n: int = 1) -> None:
        per_route = self.counts.setdefault(route, {})
        per_route[mode] = per_route.get(mode, 0) + n

    @property
    def example_total(self) -> int:
        return sum(sum(modes.values()) for modes in self.counts.values())

    def finding_list(self) -> list[FuzzFinding]:
        return sorted(self.findings.values(), key=lambda f: f.id)

    def to_results(self, include_summary: bool = True) -> list[Result]:
        """One failed Result per finding; with `include_summary`, one Result per mode that ran, passed when
        that mode found nothing, so a clean run still shows in results.json."""
        results = [f.to_result() for f in self.finding_list()]
        if include_summary:
            for mode in self.modes:
                broken = [f for f in self.findings.values() if f.mode == mode]
                examples = sum(m.get(mode, 0) for m in self.counts.values())
                routes = sorted(r for r, m in self.counts.items() if m.get(mode))
                results.append(Result(
                    id=f"fuzz/{mode}", title=f"{Mode(mode).value} fuzzing of the {', '.join(self.profiles or [PROFILE])} "
                                           f"routes", area=Area.SEMANTICS,
                    topic=TOPIC, level=Level.MUST, profile=PROFILE,
                    outcome=Outcome.FAILED if broken else Outcome.PASSED, source=FUZZ_SOURCE, routes=routes,
                    message=f"{examples} examples over {len(routes)} routes, seed {self.seed}: "
                            f"{len(broken)} finding(s)"))
        return results

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "examples": self.examples, "modes": self.modes, "run_prefix": self.run_prefix,
                "profiles": self.profiles,
                "duration_s": round(self.duration_s, 3), "sent": self.sent, "counts": self.counts,
                "skipped": self.skipped, "notes": self.notes, "cleanup_problems": self.cleanup_problems,
                "findings": [f.to_json() for f in self.finding_list()]}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")


def load_findings(path: str | Path) -> list[FuzzFinding]:
    """The findings of a saved report (FuzzReport.save)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [FuzzFinding.from_json(f) for f in data.get("findings", [])]
