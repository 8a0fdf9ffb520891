"""Which profiles a server implements: claimed by the user (--claims), or detected by a probe, with evidence.

The probe (docs/contract.md, "Profiles"): each route of a profile that needs no ID (system, class and service
routes; for a profile with none, its project routes, on a project the probe creates and destroys) is called
once with a JSON array as input. A server that has the method refuses that input (InvalidInput: the input is
not a mapping) before it does anything, so the probe changes nothing; a server that lacks the method answers
as it answers a method no server has (absence.py). A profile is detected when at least one of its probed
routes is there. A claimed profile is held to every probed route: one missing fails the claim.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import Area, Exchange, Level, Outcome, Result
from .absence import AbsenceJudge, describe_answer
from .config import CORE_PROFILE

PROBE_INPUT: list[Any] = []          # not a mapping: refused by every method that exists, harmless
ID_FREE_KINDS = ("system", "class", "service")
PROBE_USER = "alice"
# After this many probes without an answer, the rest are not sent (a hanging server costs seconds, not hours).
GIVE_UP_AFTER_TIMEOUTS = 2
CLAIMED, DETECTED, NOT_IMPLEMENTED = "claimed", "detected", "not-implemented"
PROFILE_KIND = "profile"
PROBE_SOURCE = ("the user's claim (--claims) checked by the profile probe (docs/contract.md, Profiles); "
                "https://documentation.dnanexus.com/developer/api")


@dataclass
class RouteProbe:
    """One probed route: what it answered, and whether that shows the method is there."""

    route: str
    path: str
    present: bool
    answer: dict[str, Any]
    evidence: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"route": self.route, "path": self.path, "present": self.present, "answer": self.answer,
                "evidence": self.evidence}


@dataclass
class ProfileStatus:
    """A profile as the run sees it: claimed, detected, or not implemented, and the probes behind it."""

    name: str
    claimed: bool
    probes: list[RouteProbe] = field(default_factory=list)
    not_probed: list[str] = field(default_factory=list)   # routes without an answer (or not asked after two)
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return any(probe.present for probe in self.probes)

    @property
    def status(self) -> str:
        return CLAIMED if self.claimed else DETECTED if self.detected else NOT_IMPLEMENTED

    @property
    def missing(self) -> list[str]:
        return [probe.route for probe in self.probes if not probe.present]

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "claimed": self.claimed, "detected": self.detected,
                "routes_present": [p.route for p in self.probes if p.present], "routes_missing": self.missing,
                "not_probed": list(self.not_probed), "probes": [p.to_json() for p in self.probes]}

    def claim_result(self) -> Result | None:
        """For a claimed profile, a MUST result: passed when every probed route is there, else failed."""
        if not self.claimed:
            return None
        if self.missing or self.not_probed or not self.probes:
            outcome = Outcome.FAILED
            parts = []
            if self.missing:
                parts.append(f"{len(self.missing)} of {len(self.probes)} probed route(s) missing: "
                             + ", ".join(self.missing[:12]) + (" ..." if len(self.missing) > 12 else ""))
            if self.not_probed:
                parts.append(f"{len(self.not_probed)} route(s) not probed (no answer): "
                             + ", ".join(self.not_probed[:12]))
            if not self.probes:
                parts.append("no route of the profile could be probed")
            message = f"the server claims profile {self.name} but " + "; ".join(parts)
        else:
            outcome = Outcome.PASSED
            message = f"all {len(self.probes)} probed route(s) of the claimed profile {self.name} are there"
        return Result(id=f"profiles/{self.name}", title=f"The server has the routes of the profile it claims: "
                      f"{self.name}", area=Area.URL_FORMS, topic="profiles", level=Level.MUST,
                      profile=self.name, outcome=outcome, source=PROBE_SOURCE,
                      routes=[p.route for p in self.probes], message=message, exchanges=list(self.exchanges))


def probe_plan(spec: Any) -> dict[str, list[Any]]:
    """{profile: routes to probe}: the ID-free routes of each profile, else its project routes."""
    by_profile: dict[str, list[Any]] = {}
    for route in spec.routes:
        by_profile.setdefault(route.profile, []).append(route)
    plan = {}
    for profile, routes in by_profile.items():
        id_free = [r for r in routes if r.subject_kind in ID_FREE_KINDS]
        plan[profile] = id_free or [r for r in routes if r.subject_kind == "instance" and r.cls == "project"]
    return plan


class ProfileProber:
    """Runs the probe over a transport (anything with `call(path, user=, json_body=, route=)`)."""

    def __init__(self, transport: Any, spec: Any, run_prefix: str, project: str | None = None):
        self.transport = transport
        self.spec = spec
        self.run_prefix = run_prefix
        self.project = project
        self.timeouts = 0
        self.judge = AbsenceJudge(self._send_control)

    def _send_control(self, path: str, user: str | None) -> Exchange:
        return self.transport.call(path, user=user, json_body=PROBE_INPUT)

    def _send(self, path: str, route: str) -> Exchange | None:
        if self.timeouts >= GIVE_UP_AFTER_TIMEOUTS:
            return None
        exchange = self.transport.call(path, user=PROBE_USER, json_body=PROBE_INPUT, route=route)
        if exchange.response is None:
            self.timeouts += 1
        return exchange

    def probe(self, claims: Iterable[str]) -> dict[str, ProfileStatus]:
        claimed = set(claims) | {CORE_PROFILE}
        plan = probe_plan(self.spec)
        statuses = {}
        with _ProbeProject(self) as project:
            for profile in sorted(plan, key=lambda p: (p != CORE_PROFILE, p)):
                statuses[profile] = self._probe_profile(profile, plan[profile], profile in claimed, project)
        return statuses

    def _probe_profile(self, profile: str, routes: list[Any], claimed: bool,
                       project: Callable[[], str | None]) -> ProfileStatus:
        status = ProfileStatus(profile, claimed)
        for route in routes:
            if status.detected and not claimed:
                break  # one route that is there detects the profile; a claim is held to all of them
            subject = project() if route.subject_kind == "instance" else route.subject
            exchange = self._send(f"/{subject}/{route.method}", route.route) if subject else None
            if exchange is not None:
                status.exchanges.append(exchange)
            if exchange is None or exchange.response is None:
                status.not_probed.append(route.route)   # not sent, or no answer: nothing to tell from
                continue
            evidence = self.judge.judge(exchange, PROBE_USER)
            status.probes.append(RouteProbe(route.route, exchange.request.path, present=not evidence,
                                            answer=describe_answer(exchange), evidence=evidence or ""))
        return status


class _ProbeProject:
    """The project the instance probes use: the user's --project, or one made for the probe and destroyed."""

    def __init__(self, prober: ProfileProber):
        self.prober = prober
        self.made: str | None = None
        self.tried = False

    def __call__(self) -> str | None:
        if self.prober.project:
            return self.prober.project
        if not self.tried:
            self.tried = True
            exchange = self.prober.transport.call("/project/new", user=PROBE_USER, route="/project/new",
                                                  json_body={"name": f"{self.prober.run_prefix}-profile-probe"})
            body = exchange.response.json if exchange.response is not None else None
            if isinstance(body, dict) and isinstance(body.get("id"), str):
                self.made = body["id"]
        return self.made

    def __enter__(self) -> _ProbeProject:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.made:
            self.prober.transport.call(f"/{self.made}/destroy", user=PROBE_USER, json_body={},
                                       route="/project-xxxx/destroy")


def probe_profiles(transport: Any, spec: Any, claims: Iterable[str], run_prefix: str,
                   project: str | None = None) -> tuple[dict[str, ProfileStatus], float]:
    """({profile: status}, seconds taken)."""
    started = time.monotonic()
    statuses = ProfileProber(transport, spec, run_prefix, project).probe(claims)
    return statuses, time.monotonic() - started
