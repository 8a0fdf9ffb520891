"""run_fuzz: every selected route in positive and negative mode on a fresh pool, then stateful sequences;
findings de-duplicated per (mode, route, rule), each shrunk to its smallest input; cleanup always runs."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from ..model import Exchange, Finding
from ..spec import Spec, load_spec
from .bridge import CORE, FUZZ_PROFILES, fuzzable_routes, route_profile
from .config import STATEFUL_MAX_STEPS, FuzzConfig, Mode
from .drive import BudgetMet, explore, shrink
from .execute import Executor, Outcome
from .findings import FuzzFinding, FuzzReport, finding_id
from .pool import PoolBuilder
from .profiles import detect_profiles
from .session import Session
from .steps import Steps, steps_key
from .strategies import Planner, route_class

# Lent containers are the caller's: the fuzzer never destroys them.
NEVER_FUZZED = {"/container-xxxx/destroy": "destroying a lent container is not the fuzzer's call"}
# Stateful runs draw this many sequences per unit of the per-route budget.
SEQUENCES_PER_EXAMPLE = 3
# Draws hypothesis may make per example of the budget (the surplus covers repeated examples).
DRAWS_PER_EXAMPLE = 5


class _Run:
    def __init__(self, config: FuzzConfig, spec: Spec):
        self.config = config
        self.spec = spec
        self.session = Session(config)
        self.pools = PoolBuilder(self.session, config.containers)
        self.executor = Executor(self.session, spec)
        self.planner = Planner(spec, config.run_prefix, config.seed, config.examples)
        self.report = FuzzReport(seed=config.seed, examples=config.examples,
                                 modes=[m.value for m in config.modes], run_prefix=config.run_prefix)
        self.deadline = time.monotonic() + config.max_seconds
        self.cache: dict[str, Outcome] = {}
        # Sends the examples explore draws while it draws the next ones (one thread: the sends stay in order).
        self.sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dxconform-fuzz-sender")

    # -- the run --------------------------------------------------------------------------------------------
    def run(self) -> FuzzReport:
        started = time.monotonic()
        try:
            # The pool's requests go out on the sender thread while this one draws the routes' plans (the
            # profile probe, when no routes are given, waits for them: it shares the connection).
            # No home project yet: the first pool whose route names a project makes it (PoolBuilder.make).
            starting = self.sender.submit(self.pools.start, home=Mode.STATEFUL in self.config.modes)
            if self.config.routes is None:
                starting.result()
            routes = self._routes()
            starting.result()
            self.report.profiles = sorted({route_profile(self.spec, r) for r in routes})
            per_route = [m for m in self.config.modes if m is not Mode.STATEFUL]
            if per_route and self.config.examples:
                for index, route in enumerate(routes):
                    self._fuzz_route(index, route, per_route)
            if Mode.STATEFUL in self.config.modes and self.config.examples:
                bindings = self.pools.make("s", route_profiles(self.spec, routes))
                strategy = self.planner.sequence(routes, self.pools.slots(bindings), bindings, STATEFUL_MAX_STEPS)
                self._fuzz(Mode.STATEFUL, strategy, bindings, self.config.seed_for("stateful"),
                           self.config.examples * SEQUENCES_PER_EXAMPLE)
        finally:
            # Nothing is in flight on the sender thread when cleanup sends (after an error: what was not yet
            # sent is dropped).
            self.sender.shutdown(cancel_futures=True)
            self.report.cleanup_problems = self.session.cleanup()
            self.report.requests = list(self.session.requests)
            self.report.sent = self.session.sent
            self.report.duration_s = time.monotonic() - started
            self.session.close()
        return self.report

    def _routes(self) -> list[str]:
        if self.config.routes is None:
            profiles = self.config.profiles
            if profiles is None:
                profiles = detect_profiles(self.session.transport, self.spec, self.session.user,
                                           self.config.run_prefix)
            return fuzzable_routes(self.spec, profiles)
        known = fuzzable_routes(self.spec, FUZZ_PROFILES)
        unknown = sorted(set(self.config.routes) - set(known))
        if unknown:
            raise ValueError(f"not fuzzable (no route with input and output schemas): {', '.join(unknown)}")
        return [r for r in known if r in self.config.routes]

    def _fuzz_route(self, index: int, route: str, modes: list[Mode]) -> None:
        reason = NEVER_FUZZED.get(route)
        if reason is None and route_class(route) == "container" and not self.config.containers:
            reason = "no container lent (FuzzConfig.containers): the API has no route that makes one"
        if reason:
            self.report.skipped[route] = reason
            return
        profiles = route_profiles(self.spec, [route])
        # A core route's pool holds only what its calls name (its plan tells); the other profiles' pools
        # hold all their objects (a job waits on the pool's record).
        classes = self.planner.pool_classes(route) if profiles == {CORE} else None
        bindings = self.pools.make(f"r{index}", profiles, classes)
        slots = self.pools.slots(bindings)
        for mode in modes:
            maker = self.planner.positive if mode is Mode.POSITIVE else self.planner.negative
            self._fuzz(mode, maker(route, slots, bindings), bindings, self.config.seed_for(mode, route),
                       self.config.examples, route)

    # -- one hypothesis run: explore, then shrink each new finding ------------------------------------------
    def _fuzz(self, mode: Mode, strategy, bindings: dict[str, str], run_seed: int, budget: int,
              route: str | None = None) -> None:
        """Explore: hypothesis draws the examples in this thread while the sender thread sends the ones drawn
        before (pipelined: one example after the other, in the order drawn, so the request log and the
        findings are those of a run that sends each example as it is drawn; nothing the server answers feeds
        back into what is drawn). Then each new finding is shrunk, one request at a time."""
        pending: dict[str, Future[Outcome]] = {}   # by example key: the budget counts distinct examples
        drawn: list[tuple[Steps, Future[Outcome]]] = []

        def on_example(steps: Steps) -> None:
            if len(pending) >= budget:
                raise BudgetMet()  # every call from here on: hypothesis stops generating
            key = steps_key(steps)
            if key in pending or self._out_of_time():
                return
            pending[key] = self.sender.submit(self.executor.run, steps, bindings)
            drawn.append((steps, pending[key]))

        # Hypothesis repeats simple examples early on; the budget counts distinct examples sent.
        try:
            note = explore(strategy, run_seed, budget * DRAWS_PER_EXAMPLE, on_example)
        finally:
            wait(pending.values())   # every example drawn is sent before anything else goes out
        self.cache = {key: future.result() for key, future in pending.items()}
        outcomes = [(steps, future.result()) for steps, future in drawn]
        if note:
            self.report.notes.append(f"{mode.value} {route or ''}: {note}".replace("  ", " "))
        new: list[FuzzFinding] = []
        for steps, outcome in outcomes:
            fuzzed = [s.route for s in steps[-1:]] if mode is not Mode.STATEFUL else [s.route for s in steps]
            for name in fuzzed:
                self.report.count(mode.value, name)
            for hit_route, rule in sorted(outcome.rules()):
                found = self.report.findings.get(finding_id(mode.value, hit_route, rule))
                if found is not None:
                    found.count += 1
                    continue
                index, findings = outcome.hit(hit_route, rule)
                new.append(self._new_finding(mode, hit_route, rule, steps, outcome.exchanges, index, findings))
        for finding in new:
            self._shrink(finding, strategy, bindings, run_seed, budget)

    def _new_finding(self, mode: Mode, route: str, rule: str, steps: Steps, exchanges: list[Exchange | None],
                     index: int, findings: list[Finding]) -> FuzzFinding:
        first = findings[0]
        finding = FuzzFinding(mode=mode.value, route=route, rule=rule, level=first.level.value,
                              area=first.area.value, title=first.title or rule, message=first.message,
                              source=first.source, seed=self.config.seed, profile=route_profile(self.spec, route))
        finding.set_example(list(steps), exchanges, index, findings)
        self.report.findings[finding.id] = finding
        return finding

    def _shrink(self, finding: FuzzFinding, strategy, bindings: dict[str, str], run_seed: int, budget: int) -> None:
        spent_before, started = self.session.sent, time.monotonic()
        best: list[str] = []

        def fails(steps: Steps) -> bool:
            key = steps_key(steps)
            if key not in self.cache:
                if self.session.sent - spent_before >= self.config.shrink_requests or self._out_of_time() \
                        or time.monotonic() - started > self.config.shrink_seconds:
                    self.planner.frozen = True  # budget spent: stop generating, keep the best so far
                    return False
                self.cache[key] = self.executor.run(steps, bindings)
            failed = self.cache[key].hit(finding.route, finding.rule) is not None
            if failed and (not best or (len(key), key) < (len(best[0]), best[0])):
                best[:] = [key]
            return failed

        try:
            shrink(strategy, run_seed, budget, fails)
        finally:
            self.planner.frozen = False
        outcome = self.cache.get(best[0]) if best else None
        hit = outcome.hit(finding.route, finding.rule) if outcome is not None else None
        if hit is not None:
            finding.set_example(list(outcome.steps), outcome.exchanges, *hit)
            finding.shrunk = True

    def _out_of_time(self) -> bool:
        if time.monotonic() < self.deadline:
            return False
        note = f"time budget of {self.config.max_seconds:g} s reached: later examples were not sent"
        if note not in self.report.notes:
            self.report.notes.append(note)
        return True


def route_profiles(spec: Spec, routes: list[str]) -> frozenset[str]:
    """The profiles of `routes`: what the pool for them must hold (pool.py; core alone: no executables)."""
    return frozenset(route_profile(spec, route) for route in routes)


def run_fuzz(config: FuzzConfig, spec: Spec | None = None) -> FuzzReport:
    """Fuzz the server of `config`; returns the report. Never raises for what the server answers."""
    return _Run(config, spec or load_spec()).run()


@dataclass
class Replay:
    """What replaying a finding gave: whether the rule broke again, and the exchanges and findings."""

    finding_id: str
    reproduced: bool
    exchanges: list[Exchange | None] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def replay(finding: FuzzFinding, config: FuzzConfig, spec: Spec | None = None) -> Replay:
    """Send a finding's steps again, on a fresh pool made under `config`'s run prefix, then clean up."""
    spec = spec or load_spec()
    session = Session(config)
    try:
        pools = PoolBuilder(session, config.containers)
        pools.start()
        bindings = pools.make("replay", route_profiles(spec, [s.route for s in finding.steps]))
        outcome = Executor(session, spec).run(tuple(finding.steps), bindings)
    finally:
        session.cleanup()
        session.close()
    hit = outcome.hit(finding.route, finding.rule)
    return Replay(finding.id, hit is not None, outcome.exchanges, hit[1] if hit else [])
