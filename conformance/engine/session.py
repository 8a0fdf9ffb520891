"""RunSession: one run's transport, spec, check context, tracker of created things, ledger and cleanup."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..cases.model import CaseSuite, Fixture
from ..model import Failure
from ..redaction import Redactor, redactor
from ..spec import load_spec
from .absence import AbsenceJudge
from .awaits import AwaitMemo
from .body_budget import BodyBudget
from .cleanup import CleanupReport, clean_up, keep_all
from .config import CORE_PROFILE, RunConfig
from .ledger import CheckLedger
from .tracker import Tracker
from .transport import Transport

# After this many timeouts in a row on one route, the run stops calling it (each further call is an error
# at once): a server that hangs on one route must not cost the run a full timeout per case.
HUNG_ROUTE_LIMIT = 2
TIMEOUT_KINDS = frozenset({"timeout", "deadline", "connect_timeout"})
# Unrouted paths (unknown classes, malformed IDs) are asked of every server: they belong to core.
UNROUTED_PROFILE = CORE_PROFILE
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SetupError(RuntimeError):
    """The run could not prepare something a case needs (e.g. the work project)."""


@dataclass
class RunFixture:
    """A `scope: run` fixture set up once: its saved values, or why it failed (`problem` in words, `failure` as
    data, its exchange index counted in the fixture's own exchanges), and its pending `finally`."""

    fixture: Fixture
    saved: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    failure: Failure | None = None
    finalized: bool = False


# Work the session runs at cleanup before it removes what the run created, given to it by whoever made that
# work pending (the runner: the `finally` steps of `scope: run` fixtures). It adds what it did to the report.
CleanupHook = Callable[["RunSession", CleanupReport], None]


class RunSession:
    """Everything one run (or one xdist worker of it) shares between cases. Use as a context manager, or
    call `close()` at the end: it cleans up what the run created and closes the connection pool."""

    def __init__(self, config: RunConfig, suite: CaseSuite | None = None, spec: Any = None):
        self.config = config
        self.suite = suite if suite is not None else CaseSuite()
        self.spec = spec if spec is not None else load_spec()
        self.transport = Transport(config.server, dict(config.tokens), timeout=config.timeout,
                                   max_body_bytes=config.max_body_bytes)
        self.tracker = Tracker(config.run_prefix)
        self.ledger = CheckLedger()
        self.run_fixtures: dict[str, RunFixture] = {}
        self.cleanup_hooks: list[CleanupHook] = []
        self.absence = AbsenceJudge(self._send_control)
        self.cleanup_report: Any = None
        self.hung_routes: dict[str, int] = {}   # route key -> timeouts in a row
        self.bodies = BodyBudget(config.body_budget_bytes)   # what the run keeps of answer bodies
        self.awaits = AwaitMemo()                              # awaited states that never came
        self._work_project: str | None = config.project
        self._closed = False

    @property
    def run_prefix(self) -> str:
        return self.config.run_prefix

    @property
    def keep(self) -> bool:
        """--keep: leave everything the run creates (no `finally` steps, no cleanup), to be looked at."""
        return bool(getattr(self.config, "keep", False))

    @property
    def default_user(self) -> str:
        return "alice" if "alice" in self.config.tokens else next(iter(self.config.tokens), "alice")

    def route_profile(self, route: str | None) -> str:
        if route is None:
            return UNROUTED_PROFILE
        try:
            return self.spec.route(route).profile
        except KeyError:
            return UNROUTED_PROFILE

    def note_timeout(self, route: str | None, exchange: Any) -> None:
        """Count timeouts in a row per route (an answer resets the count)."""
        if route is None:
            return
        if exchange.error is not None and exchange.error.kind in TIMEOUT_KINDS:
            self.hung_routes[route] = self.hung_routes.get(route, 0) + 1
        elif exchange.response is not None:
            self.hung_routes.pop(route, None)

    def _send_control(self, path: str, user: str | None) -> Any:
        return self.transport.call(path, user=user, json_body={})

    def absent_route(self, exchange: Any, user: str | None) -> str | None:
        """Evidence that the server lacks the (optional) route of `exchange`, or None (absence.py says how it
        is told; core routes are never asked: a core route the server lacks fails its cases)."""
        if exchange.route is None or self.route_profile(exchange.route) == CORE_PROFILE:
            return None
        return self.absence.judge(exchange, user)

    @property
    def stopped_answering(self) -> str | None:
        """Why the run no longer calls the server (the transport's breaker tripped), else None."""
        return self.transport.breaker.tripped

    def route_hangs(self, route: str) -> bool:
        return self.hung_routes.get(route, 0) >= HUNG_ROUTE_LIMIT

    def builtin_values(self, case_id: str, attempt: int = 0) -> dict[str, Any]:
        """The template values every case has: the run prefix and a name-safe form of the case id, which a
        rerun of a failed case (attempt 1, 2 ...) extends with "-r<attempt>": names the first attempt made and
        could not remove (an app's name and version stay taken after /app-xxxx/delete) never collide."""
        name = _UNSAFE_NAME.sub("-", case_id).strip("-")
        return {"run_prefix": self.run_prefix, "case_id": f"{name}-r{attempt}" if attempt else name}

    def work_project(self) -> str:
        """The user's `--project`, or (without one) a project the run creates once and destroys at the end."""
        if self._work_project is None:
            name = f"{self.run_prefix}-work"
            exchange = self.transport.call("/project/new", user=self.default_user, json_body={"name": name},
                                           route="/project/new")
            self.tracker.observe(exchange, "/project/new", self.default_user)
            answer = exchange.response.json if exchange.response is not None else None
            if not (isinstance(answer, dict) and isinstance(answer.get("id"), str)):
                reason = exchange.error.message if exchange.error else (
                    exchange.response.text[:200] if exchange.response is not None else "no answer")
                raise SetupError(f"could not create the work project {name}: {reason}")
            self._work_project = answer["id"]
        return self._work_project

    @property
    def redactor(self) -> Redactor:
        """The scrubber of the run's tokens (redaction.py: every encoded form of each)."""
        return redactor(self.config.secrets)

    def add_cleanup_hook(self, hook: CleanupHook) -> None:
        """Have `hook` run at cleanup, before anything is removed (once, however often it is added)."""
        if hook not in self.cleanup_hooks:
            self.cleanup_hooks.append(hook)

    def cleanup(self) -> CleanupReport:
        """Run the cleanup hooks, then destroy what the run created (see cleanup.py); idempotent, safe after a
        failure or Ctrl-C. With --keep (config.keep) nothing is removed: the report's `kept` lists it."""
        self.cleanup_report = keep_all(self) if self.keep else clean_up(self)
        return self.cleanup_report

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.cleanup()
        finally:
            self._closed = True
            self.transport.close()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
