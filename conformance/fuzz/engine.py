"""run_fuzz: every selected route in positive and negative mode on a fresh pool, then stateful sequences;
findings de-duplicated per (mode, route, rule), each shrunk to its smallest input; cleanup always runs."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from hypothesis.strategies import SearchStrategy

from ..model import Exchange, Finding
from ..spec import Spec, load_spec
from .bridge import CORE, FUZZ_PROFILES, fuzzable_routes, route_profile
from .choices import Example, explore_seeded, shrink_recorded
from .config import STATEFUL_MAX_STEPS, FuzzConfig, Mode
from .drive import NO_EXAMPLE, BudgetMet, explore, shrink
from .execute import Executor, Outcome
from .findings import FuzzFinding, FuzzReport, finding_id
from .pool import PoolBuilder
from .profiles import detect_profiles
from .session import Session
from .steps import Steps, steps_key
from .strategies import Planner, renew_run_prefix, route_class

# Lent containers are the caller's: the fuzzer never destroys them.
NEVER_FUZZED = {"/container-xxxx/destroy": "destroying a lent container is not the fuzzer's call"}
# Stateful runs draw this many sequences per unit of the per-route budget.
SEQUENCES_PER_EXAMPLE = 3
# Draws an exploration may make per example of the budget (the surplus covers repeated and turned-down draws).
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
                self._settle(self._explore(Mode.STATEFUL, strategy, bindings, self.config.seed_for("stateful"),
                                           self.config.examples * SEQUENCES_PER_EXAMPLE))
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
            self._settle(self._explore(mode, maker(route, slots, bindings), bindings,
                                       self.config.seed_for(mode, route), self.config.examples, route))

    # -- one exploration, then its settling (count, shrink each new finding) ---------------------------------
    def _explore(self, mode: Mode, drawn_by: Example | SearchStrategy, bindings: dict[str, str], run_seed: int,
                 budget: int, route: str | None = None) -> _Explored:
        """The examples are drawn in this thread (a route's from seeded choices, stateful sequences by
        hypothesis) while the sender thread sends the ones drawn before, one after the other in the order drawn
        (so the request log and the findings are those of a run that sends each example as it is drawn; nothing
        the server answers feeds back into what is drawn). Returns once drawn: the sends may be under way."""
        explored = _Explored(mode, route, drawn_by, bindings, run_seed, budget)
        pending = explored.pending

        def on_example(steps: Steps, record: list[int] | None = None) -> None:
            if len(pending) >= budget:
                raise BudgetMet()  # every call from here on: drawing stops
            key = steps_key(steps)
            if key in pending or self._out_of_time():
                return
            pending[key] = self.sender.submit(self.executor.run, steps, bindings)
            explored.drawn.append((steps, pending[key]))
            if record is not None:
                explored.records[key] = record

        # Draws repeat examples now and then (hypothesis's simple ones early on); the budget counts distinct ones.
        if isinstance(drawn_by, SearchStrategy):
            explored.note = explore(drawn_by, run_seed, budget * DRAWS_PER_EXAMPLE, on_example)
        elif not explore_seeded(drawn_by, run_seed, budget * DRAWS_PER_EXAMPLE, on_example):
            explored.note = NO_EXAMPLE
        return explored

    def _settle(self, explored: _Explored) -> None:
        """Wait for an explore's sends (every example drawn is sent before anything else goes out), count its
        examples, record and shrink its new findings."""
        mode, route = explored.mode, explored.route
        wait(explored.pending.values())
        cache = {key: future.result() for key, future in explored.pending.items()}
        if explored.note:
            self.report.notes.append(f"{mode.value} {route or ''}: {explored.note}".replace("  ", " "))
        new: list[tuple[FuzzFinding, Steps]] = []
        for steps, future in explored.drawn:
            outcome = future.result()
            fuzzed = [s.route for s in steps[-1:]] if mode is not Mode.STATEFUL else [s.route for s in steps]
            for name in fuzzed:
                self.report.count(mode.value, name)
            for hit_route, rule in sorted(outcome.rules()):
                found = self.report.findings.get(finding_id(mode.value, hit_route, rule))
                if found is not None:
                    found.count += 1
                    continue
                index, findings = outcome.hit(hit_route, rule)
                new.append((self._new_finding(mode, hit_route, rule, steps, outcome.exchanges, index, findings),
                            steps))
        for finding, steps in new:
            self._shrink(finding, steps, explored, cache)

    def _new_finding(self, mode: Mode, route: str, rule: str, steps: Steps, exchanges: list[Exchange | None],
                     index: int, findings: list[Finding]) -> FuzzFinding:
        first = findings[0]
        finding = FuzzFinding(mode=mode.value, route=route, rule=rule, level=first.level.value,
                              area=first.area.value, title=first.title or rule, message=first.message,
                              source=first.source, seed=self.config.seed, profile=route_profile(self.spec, route),
                              run_prefix=self.config.run_prefix)
        finding.set_example(list(steps), exchanges, index, findings)
        self.report.findings[finding.id] = finding
        return finding

    def _shrink(self, finding: FuzzFinding, found_by: Steps, explored: _Explored, cache: dict[str, Outcome]) -> None:
        """Shrink a finding (first found by the example `found_by`) within the shrink budget, one request at a
        time (nothing else is in flight): a route's example by lowering its recorded choices
        (choices.shrink_recorded), a stateful sequence by hypothesis."""
        spent_before, started = self.session.sent, time.monotonic()
        best: list[str] = []

        def fails(steps: Steps) -> bool:
            key = steps_key(steps)
            if key not in cache:
                if self.session.sent - spent_before >= self.config.shrink_requests or self._out_of_time() \
                        or time.monotonic() - started > self.config.shrink_seconds:
                    self.planner.frozen = True  # budget spent: stop generating, keep the best so far
                    return False
                cache[key] = self.executor.run(steps, explored.bindings)
            failed = cache[key].hit(finding.route, finding.rule) is not None
            if failed and (not best or (len(key), key) < (len(best[0]), best[0])):
                best[:] = [key]
            return failed

        try:
            if isinstance(explored.drawn_by, SearchStrategy):
                shrink(explored.drawn_by, explored.run_seed, explored.budget, fails)
            else:
                fails(found_by)   # the smallest so far (sent already: no request)
                shrink_recorded(explored.drawn_by, explored.records[steps_key(found_by)], fails)
        finally:
            self.planner.frozen = False
        outcome = cache.get(best[0]) if best else None
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


@dataclass
class _Explored:
    """One explore's examples, sent or on their way: what settling them needs."""

    mode: Mode
    route: str | None
    drawn_by: Example | SearchStrategy   # a route's example function; hypothesis's strategy of sequences
    bindings: dict[str, str]
    run_seed: int
    budget: int
    pending: dict[str, Future[Outcome]] = field(default_factory=dict)   # by example key: the budget counts
    drawn: list[tuple[Steps, Future[Outcome]]] = field(default_factory=list)   # in the order drawn
    records: dict[str, list[int]] = field(default_factory=dict)   # by example key: its choices (seeded draws)
    note: str | None = None


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
        outcome = Executor(session, spec).run(renew_run_prefix(finding.steps, finding.run_prefix, config.run_prefix),
                                              bindings)
    finally:
        session.cleanup()
        session.close()
    hit = outcome.hit(finding.route, finding.rule)
    return Replay(finding.id, hit is not None, outcome.exchanges, hit[1] if hit else [])
