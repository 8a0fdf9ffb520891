"""The examples of fuzzed calls: positive (valid, sometimes with an edge value) and negative (one documented
constraint broken) as functions of their choices (choices.py), stateful sequences (from */new to the instance
routes of what they made) as a hypothesis strategy."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from ..spec import Spec
from .bridge import body_strategy
from .choices import Choices, DrawnChoices, Example
from .config import DEFAULT_EXAMPLES, DEFAULT_SEED, derived_seed
from .drive import BudgetMet, explore
from .edges import edge_candidates
from .executables import (
    BEFORE_RUN,
    GLOBAL_MAKING_ROUTES,
    MADE_BY_CALL,
    PLAIN_APP_NEW,
    PLAIN_RUN,
    as_clients_send,
    fixed_path,
)
from .generate_bodies import Unsupported, draw_bodies
from .mutations import DELETE, mutation_candidates
from .pinning import named_classes, pin
from .pool import Slots, slot_class
from .positions import delete_at, input_schema, positions, set_at
from .steps import Step, Steps, bind, placeholder, slot_of

NEW_ROUTES = {"project": "/project/new", "file": "/file/new", "record": "/record/new", "applet": "/applet/new",
              "workflow": "/workflow/new", "app": "/app/new", "globalworkflow": "/globalworkflow/new"}
# Routes whose subject is used up by the call: each example gets a project made just for it.
DISPOSABLE_SUBJECT = frozenset({"/project-xxxx/destroy", "/project-xxxx/leave"})
FAKE_HASH = "0" * 24
# The classes of the pool's data objects: each lives in the pool's project (slot "project").
DATA_OBJECT_CLASSES = frozenset({"file", "record", "applet", "workflow"})
# Draws the plan of a route may make per body it keeps (the surplus covers repeated bodies).
PLAN_DRAWS_PER_BODY = 5
# Plans kept in memory (a run needs one per route; a long process that runs many seeds keeps the latest).
PLANS_KEPT = 256


class ValidationBindings(Mapping):
    """Real IDs where the pool has them; a well-formed stand-in for slots bound only when a step runs."""

    def __init__(self, real: Mapping[str, str]):
        self.real = real

    def __getitem__(self, slot: str) -> str:
        if slot in self.real:
            return self.real[slot]
        cls = slot_class(slot)
        return f"{cls}-fuzz" if cls == "user" else f"{cls}-{FAKE_HASH}"

    def __iter__(self):
        return iter(self.real)

    def __len__(self) -> int:
        return len(self.real)


def in_subject_project(route: str, body: Any) -> Any:
    """`body` with its pinned `project` naming the pool's project when `route` calls a data object of the
    pool (all in that project): `project` says where the object is, and naming another project would only
    ever test the not-found path, whatever else the example holds (a negative example then proves nothing
    about the one constraint it breaks)."""
    if route_class(route) not in DATA_OBJECT_CLASSES or not isinstance(body, dict):
        return body
    slot = slot_of(body.get("project"))
    if slot is None or slot_class(slot) not in ("project", "container"):   # a lent container holds none of them
        return body
    return {**body, "project": placeholder("project")}


def mutated_body(body: Any, mutation: Any) -> Any:
    """`body` with one mutation (mutations.py) applied: its value set at its path, or the key removed."""
    return delete_at(body, mutation.path) if mutation.value is DELETE else set_at(body, mutation.path, mutation.value)


def route_class(route: str) -> str | None:
    """'/file-xxxx/close' -> 'file'; None for /system and /<class>/new routes."""
    subject = route.split("/")[1]
    return subject[: -len("-xxxx")] if subject.endswith("-xxxx") else None


def _shape(path: tuple) -> tuple:
    """A path with list indexes folded: tags[3] and tags[0] are one place to mutate."""
    return tuple(0 if isinstance(part, int) else part for part in path)


def draw_at_one_place(choices: Choices, candidates: list) -> Any:
    """A candidate, drawn member first (each top-level member of the body alike, however much it holds), then
    a place in it (each alike, however many items a list has), then the value: the first value of a place (the
    likeliest client mistake, the smallest edge) half of the time. Drawn place by place, a member holding a
    large mapping (runSpec, access, details) took most of the draws, and a flat member such as inputSpec a
    few per cent."""
    members: dict[Any, dict[tuple, list]] = {}
    for candidate in candidates:
        shape = _shape(candidate.path)
        members.setdefault(shape[:1], {}).setdefault(shape, []).append(candidate)
    # The body as a whole (root, not JSON) goes last: the simplest choice (a shrink's) is a member of the body.
    member = members[choices.one_of(sorted(members, key=lambda top: not top))]
    group = member[choices.one_of(list(member))]
    return group[0] if not choices.flag() else choices.one_of(group)


@lru_cache(maxsize=PLANS_KEPT)
def planned_bodies(spec: Spec, route: str, run_seed: int, size: int) -> tuple[str, ...]:
    """The route's plan: up to `size` distinct schema-valid bodies (JSON text, shortest first), drawn once
    under the run seed, then reused by every positive and negative example of the route (each picks one,
    then pins, edges or mutates it). Drawing a body is most of the cost of an example; the plan draws each
    once for both modes. Drawn by generate_bodies (a seeded random walk of the route's input schema, each
    body checked against it); a route whose schema it cannot read is drawn by hypothesis from schemathesis's
    body strategy. Kept (PLANS_KEPT): the same (route, seed, size) gives the same plan, kept or drawn afresh
    (it depends on nothing else)."""
    plan_seed = derived_seed(run_seed, "bodies", route)
    attempts = max(size, 1) * PLAN_DRAWS_PER_BODY
    found = input_schema(spec, route)
    validator = spec.validator(route, "input")
    try:
        if found is None or validator is None:
            raise Unsupported("no input schema")
        drawn = draw_bodies(*found, validator.is_valid, plan_seed, run_seed, size, attempts)
        if not drawn:
            raise Unsupported("no valid body drawn")
        texts = [json.dumps(body, sort_keys=True) for body in drawn]
    except Unsupported:
        texts = _hypothesis_bodies(spec, route, plan_seed, size, attempts)
    # Shortest first: a shrink lowers a pick from the plan towards the first, the smallest body (choices.py).
    return tuple(sorted(texts, key=lambda text: (len(text), text)))


def _hypothesis_bodies(spec: Spec, route: str, plan_seed: int, size: int, attempts: int) -> list[str]:
    """Up to `size` distinct bodies (JSON text) drawn by hypothesis from schemathesis's body strategy."""
    bodies: dict[str, None] = {}

    def keep(body: Any) -> None:
        if len(bodies) >= size:
            raise BudgetMet()
        bodies[json.dumps(body, sort_keys=True)] = None

    explore(body_strategy(spec, route), plan_seed, attempts, keep)
    return list(bodies)


def renew_run_prefix(steps: list[Step], old: str, new: str) -> tuple[Step, ...]:
    """The steps with the nonces and names their run prefixed (Planner._fixed: `old` + "-") under `new`
    instead: a server keeps the nonces it saw, and the same nonce sent again with other input (a replay's
    pool has other IDs) is refused as reused, whatever the rule under test; an app's name is taken once made.
    A nonce or name that does not start with the prefix (one the example broke on purpose) is left as it is;
    with no `old` (a finding saved before it was kept) the steps are as they were."""
    renewed = []
    for step in steps:
        body = step.body
        if old and isinstance(body, dict):
            for key in ("nonce", "name"):
                value = body.get(key)
                if isinstance(value, str) and value.startswith(f"{old}-"):
                    body = {**body, key: f"{new}-{value[len(old) + 1:]}"}
        renewed.append(replace(step, body=body) if body is not step.body else step)
    return tuple(renewed)


class Planner:
    """Builds the strategies of one run: knows the spec, the run prefix and the pool being fuzzed; the run's
    seed and budget set the plan of bodies of each route (planned_bodies)."""

    def __init__(self, spec: Spec, prefix: str, seed: int = DEFAULT_SEED, plan_size: int = DEFAULT_EXAMPLES):
        self.spec = spec
        self.prefix = prefix
        self.seed = seed
        self.plan_size = max(plan_size, 1)
        # Set when a shrink's budget is spent: the stateful strategy then rejects at once, so hypothesis winds
        # down fast.
        self.frozen = False

    # -- building blocks ------------------------------------------------------------------------------------
    def _valid(self, route: str, body: Any, bindings: Mapping[str, str]) -> bool:
        validator = self.spec.validator(route, "input")
        return validator is None or validator.is_valid(bind(body, ValidationBindings(bindings)))

    def _fixed(self, route: str, body: Any) -> Any:
        """What the run fixes whatever was drawn: projects, apps and global workflows it makes carry its prefix,
        so nobody mistakes them for their own (and app names, global on a server, never collide with others'); so do nonces, so that a nonce an earlier run sent with other input (the server keeps
        them) does not change what this one makes; applets carry harmless code, and the executable routes
        what clients send (executables.py)."""
        if not isinstance(body, dict):
            return body
        if isinstance(body.get("nonce"), str):
            body = {**body, "nonce": f"{self.prefix}-{body['nonce']}"}
        if (route == NEW_ROUTES["project"] or route in GLOBAL_MAKING_ROUTES) and isinstance(body.get("name"), str):
            return {**body, "name": f"{self.prefix}-{body['name']}"}
        return as_clients_send(route, body)

    def _pinned_body(self, draw, route: str, slots: Slots) -> Any:
        """A body drawn by hypothesis from schemathesis's strategy, pinned to the pool."""
        return self._fixed(route, pin(DrawnChoices(draw), draw(body_strategy(self.spec, route)), slots))

    def plan(self, route: str) -> tuple[str, ...]:
        """The route's plan of bodies (planned_bodies), drawn when its strategy is made, outside any draw."""
        return planned_bodies(self.spec, route, self.seed, self.plan_size)

    def pool_classes(self, route: str) -> frozenset[str]:
        """The classes a route's calls name: its subject's and those of the IDs in its plan's bodies (as pin()
        reads them), what its pool must hold. Every pool has its own project: "project" is named only by a body
        that names one (the pool's home project is then made too); on a data object's route the body's
        `project` names the pool's own project (in_subject_project)."""
        cls = route_class(route)
        classes = {cls} if cls and cls != "project" else set()
        for text in self.plan(route):
            body = json.loads(text)
            if cls in DATA_OBJECT_CLASSES and isinstance(body, dict):
                body = {key: value for key, value in body.items() if key != "project"}
            classes |= named_classes(body)
        return frozenset(classes)

    def _planned_body(self, choices: Choices, route: str, plan: tuple[str, ...], slots: Slots) -> Any:
        """A body of the route's plan (a fresh copy: examples share the plan) pinned to the pool; on a data
        object's route, its `project` names the pool's project, where the object is."""
        return in_subject_project(route, self._fixed(route, pin(choices, json.loads(choices.one_of(plan)), slots)))

    def _subject_steps(self, choices: Choices, route: str, slots: Slots) -> tuple[list[Step], str | None] | None:
        """Setup steps and the subject slot of a call: a fresh project for disposable subjects; None when the
        pool has no object of the subject's class."""
        cls = route_class(route)
        if cls is None:
            return [], None
        if route in DISPOSABLE_SUBJECT:
            return [Step(NEW_ROUTES["project"], body={"name": f"{self.prefix}-x"}, creates="project#x")], "project#x"
        # Container routes take lent containers only: a project ID in their path would call the project route.
        subjects = ("project",) if cls == "project" else slots.by_class.get(cls, ())
        return ([], choices.one_of(subjects)) if subjects else None

    def _call_start(self, choices: Choices, route: str, plan: tuple[str, ...],
                    slots: Slots) -> tuple[list[Step], str | None, Any] | None:
        """What a positive or negative example starts from: its setup steps, subject and pinned planned body;
        None when there is nothing to call (no object of the subject's class, no plan)."""
        subject_steps = self._subject_steps(choices, route, slots)
        if subject_steps is None or not plan:
            return None
        return (*subject_steps, self._planned_body(choices, route, plan, slots))

    def _walk(self, route: str, body: Any, bindings: Mapping[str, str]):
        found = input_schema(self.spec, route)
        if found is None:
            return [], None
        node, resolver = found
        return list(positions(node, bind(body, ValidationBindings(bindings)), resolver)), resolver

    # -- the three modes ----------------------------------------------------------------------------------
    def _candidates(self, route: str, bindings: Mapping[str, str], of_body, keep) -> Callable[[Any], list]:
        """`of_body(found, resolver)` for a body, those that `keep(body, candidate)`, remembered by the body's
        JSON text: the examples of a route pick from a few planned bodies, and walking the schema along a body
        is the dearest part of a draw. Checking each candidate here, once per body, spares the draws that would
        otherwise be made and then turned down."""
        known: dict[str, list] = {}

        def candidates(body: Any) -> list:
            text = json.dumps(body, sort_keys=True)
            if text not in known:
                known[text] = [c for c in of_body(*self._walk(route, body, bindings)) if keep(body, c)]
            return known[text]
        return candidates

    def positive(self, route: str, slots: Slots, bindings: Mapping[str, str]) -> Example:
        """Valid calls of `route`: a planned body, pinned, half of the time with an edge value at one place."""
        plan = self.plan(route)
        edges_of = self._candidates(
            route, bindings, edge_candidates,
            lambda body, edge: not fixed_path(route, edge.path) and self._valid(
                route, set_at(body, edge.path, edge.value), bindings))

        def example(choices: Choices) -> Steps | None:
            start = self._call_start(choices, route, plan, slots)
            if start is None:
                return None
            setup, subject, body = start
            edge_label = None
            if choices.flag():
                edges = edges_of(body)
                if edges:
                    edge = draw_at_one_place(choices, edges)
                    body, edge_label = set_at(body, edge.path, edge.value), edge.label
            if not self._valid(route, body, bindings):
                return None
            return (*setup, Step(route, subject, body, edge=edge_label))
        return example

    def negative(self, route: str, slots: Slots, bindings: Mapping[str, str]) -> Example:
        """Calls of `route` that break one documented constraint: a planned body, pinned, mutated at one place."""
        plan = self.plan(route)
        mutations_of = self._candidates(
            route, bindings, mutation_candidates,
            lambda body, mutation: mutation.kind == "json" or not self._valid(route, mutated_body(body, mutation), bindings))

        def example(choices: Choices) -> Steps | None:
            start = self._call_start(choices, route, plan, slots)
            if start is None:
                return None
            setup, subject, body = start
            mutations = mutations_of(body)
            if not mutations:
                return None
            mutation = draw_at_one_place(choices, mutations)
            if mutation.kind == "json":
                return (*setup, Step(route, subject, {}, raw=mutation.value, violation=mutation.label))
            mutated = mutated_body(body, mutation)
            if self._valid(route, mutated, bindings):
                return None
            return (*setup, Step(route, subject, mutated, violation=mutation.label))
        return example

    def sequence(self, routes: list[str], slots: Slots, bindings: Mapping[str, str],
                 max_steps: int) -> st.SearchStrategy[Steps]:
        """A sequence of calls: */new steps make objects, later steps call instance routes on them; a call
        that makes an object of another class (/applet-xxxx/run makes a job, /workflow-xxxx/run an analysis)
        binds it for later steps."""
        makers = {route: cls for cls, made_by in MADE_BY_CALL.items() for route in made_by}
        calls = [r for r in routes if route_class(r) in NEW_ROUTES or route_class(r) in MADE_BY_CALL]
        # A job (an analysis) is reached only through a run that makes it: with its routes, the runs among the
        # routes join the sequence, or else the first that makes one (/applet-xxxx/run, /workflow-xxxx/run).
        for made in sorted({route_class(r) for r in calls} & set(MADE_BY_CALL)):
            runs = [r for r in MADE_BY_CALL[made] if r in routes] or [MADE_BY_CALL[made][0]]
            calls += [r for r in runs if r not in calls]
        classes = sorted({route_class(r) for r in calls if route_class(r) in NEW_ROUTES} | {"project"})

        @st.composite
        def example(draw) -> Steps:
            assume(not self.frozen)
            created: dict[str, list[str]] = {}
            steps: list[Step] = []
            for _ in range(draw(st.integers(1, max_steps))):
                ready = [r for r in calls if created.get(route_class(r))]
                # Hypothesis leans on early choices: calls on an object a call made (a job) come first, then
                # the calls clients make before a run (a workflow's addStage: a workflow without stages does
                # not run; an app's publish) and the calls that make one (run), the runs ahead once something
                # was prepared, so that chains such as applet/new -> run -> describe and workflow/new ->
                # addStage -> run -> describe grow.
                prepared = {s.subject for s in steps if s.route in BEFORE_RUN}
                runs, before = [r for r in ready if r in makers], [r for r in ready if r in BEFORE_RUN]
                first = [r for r in ready if route_class(r) in MADE_BY_CALL] + \
                    (runs + before if prepared else before + runs)
                options = [("call", r) for r in first] + [("new", cls) for cls in classes] + \
                    [("call", r) for r in ready if r not in first]
                kind, what = draw(st.sampled_from(options))
                known = slots.with_created(created)
                made = sum(map(len, created.values())) + 1
                if kind == "new":
                    slot = f"{what}#{made}"
                    route = NEW_ROUTES[what]
                    if what == "app" and draw(st.booleans()):   # plainly, half the time (executables.py)
                        body = self._fixed(route, {**PLAIN_APP_NEW, "version": f"1.0.{draw(st.integers(0, 10**6))}"})
                    else:
                        body = self._pinned_body(draw, route, known)
                    if what == "project":
                        body = {**body, "name": f"{self.prefix}-s"} if isinstance(body, dict) else body
                    steps.append(Step(route, None, body, creates=slot))
                    created.setdefault(what, []).append(slot)
                else:
                    made_class = makers.get(what)
                    subjects = created[route_class(what)]
                    if made_class:   # a run goes to a prepared object first
                        subjects = sorted(subjects, key=lambda slot: slot not in prepared)
                    subject = draw(st.sampled_from(subjects))
                    slot = f"{made_class}#{made}" if made_class else None
                    # A run is sent half the time as plainly as clients send it (executables.py).
                    plain = made_class is not None and draw(st.booleans())
                    body = self._fixed(what, PLAIN_RUN) if plain else self._pinned_body(draw, what, known)
                    steps.append(Step(what, subject, body, creates=slot))
                    if made_class:
                        created.setdefault(made_class, []).append(slot)
            assume(all(self._valid(s.route, s.body, bindings) for s in steps))
            return tuple(steps)
        return example()
