"""The plugin's command-line options (--dx-*) and the RunConfig they make; tokens come from the environment."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..engine import RunConfig
from ..engine.body_budget import DEFAULT_BODY_BUDGET_BYTES

TOKEN_ENV, TOKEN2_ENV = "DXCONFORM_TOKEN", "DXCONFORM_TOKEN2"
# Who the case files call alice and bob: the first and the second user of the server under test.
USERS_BY_ENV = (("alice", TOKEN_ENV), ("bob", TOKEN2_ENV))
DEFAULT_TIMEOUT_S = 30.0


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("dxconform", "dxconform conformance run")
    group.addoption("--dx-server", metavar="URL", help="base URL of the server under test (http or https)")
    group.addoption("--dx-project", metavar="ID", help="an existing project the run may work in")
    group.addoption("--dx-profile", action="append", default=[], metavar="NAME",
                    help="run this optional profile besides core (repeatable; default: every profile)")
    group.addoption("--dx-claims", action="append", default=[], metavar="NAME[,NAME...]",
                    help="profiles the server claims to implement (repeatable, comma-separated; core always): a "
                         "claimed profile whose routes are missing fails. Unclaimed profiles are detected by a "
                         "probe, or reported as not implemented")
    group.addoption("--dx-quiet", action="store_true", default=False,
                    help="for CI logs: no per-case output, only dxconform's short account at the end (pair with "
                         "-p no:terminal)")
    group.addoption("--dx-timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                    help=f"per-request deadline in seconds (default {DEFAULT_TIMEOUT_S:g})")
    group.addoption("--dx-out", metavar="DIR", help="write results.json into DIR")
    group.addoption("--dx-cases", action="append", default=[], metavar="DIR",
                    help="a directory of case files (repeatable); default: YAML files under a `cases` directory")
    group.addoption("--dx-expectations", metavar="FILE",
                    help="an expectations file (YAML): listed failures end as xfailed, listed passes as xpassed")
    group.addoption("--dx-reruns", type=int, default=0, metavar="N",
                    help="run a failed case up to N more times; a pass on a rerun is `flaky` (default 0)")
    group.addoption("--dx-fuzz-examples", type=int, default=0, metavar="N",
                    help="fuzz every core route with N generated examples per route and mode (default 0: off)")
    group.addoption("--dx-seed", type=int, metavar="N",
                    help="the fuzzing seed (default: 0 when $CI is set, else random; shown in the header)")
    group.addoption("--dx-fuzz-mode", action="append", default=[], choices=("positive", "negative", "stateful"),
                    help="only this fuzzing mode (repeatable; default: all three)")
    group.addoption("--dx-fuzz-container", action="append", default=[], metavar="ID",
                    help="a container the fuzzer may use for container routes (never destroyed; repeatable)")
    group.addoption("--dx-fuzz-only", action="store_true", default=False,
                    help="run the fuzz items only (the cases are deselected)")
    group.addoption("--dx-keep", action="store_true", default=False,
                    help="leave what the run creates on the server (no `finally` steps, no cleanup) and print "
                         "its IDs and one command per project to delete it")
    group.addoption("--dx-deadline", type=float, metavar="S",
                    help="the whole run's deadline, in seconds from its start: cases not started by then are "
                         "reported skipped (reason `deadline`) and results.json says the run stopped (default: none)")
    group.addoption("--dx-body-budget", type=int, default=DEFAULT_BODY_BUDGET_BYTES, metavar="BYTES",
                    help="answer bytes the run keeps (in memory and results.json) after their cases; past it each "
                         f"body keeps its head, length and sha256 (default {DEFAULT_BODY_BUDGET_BYTES})")
    # Set by `dxconform run` when it started the embedded reference server (recorded in results.json).
    group.addoption("--dx-embedded", action="store_true", default=False, help=argparse.SUPPRESS)


@dataclass(frozen=True)
class DxOptions:
    server: str | None
    project: str | None
    profiles: frozenset[str] | None
    timeout: float
    out: Path | None
    case_roots: tuple[Path, ...]
    embedded: bool
    expectations: Path | None = None
    reruns: int = 0
    fuzz_examples: int = 0
    seed: int | None = None
    fuzz_modes: tuple[str, ...] = ()
    fuzz_containers: tuple[str, ...] = ()
    fuzz_only: bool = False
    claims: frozenset[str] = frozenset()
    quiet: bool = False
    keep: bool = False
    deadline: float | None = None
    body_budget: int = DEFAULT_BODY_BUDGET_BYTES

    @classmethod
    def from_config(cls, config: pytest.Config) -> DxOptions:
        option = config.option
        if option.dx_timeout <= 0:
            raise pytest.UsageError(f"--dx-timeout must be > 0, got {option.dx_timeout}")
        if option.dx_server and not option.dx_server.startswith(("http://", "https://")):
            raise pytest.UsageError(f"--dx-server must be an http:// or https:// URL, got {option.dx_server!r}")
        if option.dx_reruns < 0:
            raise pytest.UsageError(f"--dx-reruns must be >= 0, got {option.dx_reruns}")
        if option.dx_fuzz_examples < 0:
            raise pytest.UsageError(f"--dx-fuzz-examples must be >= 0, got {option.dx_fuzz_examples}")
        if option.dx_deadline is not None and option.dx_deadline <= 0:
            raise pytest.UsageError(f"--dx-deadline must be > 0, got {option.dx_deadline:g}")
        if option.dx_body_budget < 0:
            raise pytest.UsageError(f"--dx-body-budget must be >= 0, got {option.dx_body_budget}")
        if option.dx_fuzz_only and option.dx_fuzz_examples == 0:
            raise pytest.UsageError("--dx-fuzz-only needs --dx-fuzz-examples N (N > 0): nothing would run")
        return cls(server=option.dx_server.rstrip("/") if option.dx_server else None,
                   project=option.dx_project,
                   profiles=frozenset(option.dx_profile) if option.dx_profile else None,
                   timeout=option.dx_timeout,
                   out=Path(option.dx_out) if option.dx_out else None,
                   case_roots=tuple(Path(p).resolve() for p in option.dx_cases),
                   embedded=option.dx_embedded,
                   expectations=Path(option.dx_expectations) if option.dx_expectations else None,
                   reruns=option.dx_reruns, fuzz_examples=option.dx_fuzz_examples, seed=option.dx_seed,
                   fuzz_modes=tuple(dict.fromkeys(option.dx_fuzz_mode)),
                   fuzz_containers=tuple(option.dx_fuzz_container), fuzz_only=option.dx_fuzz_only,
                   claims=parse_claims(option.dx_claims), quiet=option.dx_quiet,
                   keep=option.dx_keep, deadline=option.dx_deadline, body_budget=option.dx_body_budget)

    def selects(self, profile: str) -> bool:
        return self.profiles is None or profile == "core" or profile in self.profiles


def parse_claims(values: list[str]) -> frozenset[str]:
    """--dx-claims values (each may hold several names, comma-separated) as a set of known profile names."""
    from ..spec import load_spec

    names = {name.strip() for value in values for name in value.split(",") if name.strip()}
    if not names:
        return frozenset()
    known = {route.profile for route in load_spec().routes}
    unknown = sorted(names - known)
    if unknown:
        raise pytest.UsageError(f"dxconform: --claims: unknown profile {unknown[0]!r} (profiles: "
                                f"{', '.join(sorted(known))})")
    return frozenset(names)


def tokens_from_environment() -> dict[str, str]:
    """{"alice": ..., "bob": ...} for the users whose token variable is set and not empty."""
    return {user: os.environ[name] for user, name in USERS_BY_ENV if os.environ.get(name)}


def run_config(options: DxOptions, run_prefix: str, seed: int = 0, processes: int = 1) -> RunConfig:
    """The engine's settings for one process of the run (of `processes`: each gets its share of the body
    budget, so the run as a whole keeps no more than --dx-body-budget)."""
    if not options.server:
        raise pytest.UsageError("dxconform: --dx-server is not set (the URL of the server under test)")
    tokens = tokens_from_environment()
    if "alice" not in tokens:
        raise pytest.UsageError(f"dxconform: set {TOKEN_ENV} to the token of the first user")
    return RunConfig(server=options.server, tokens=tokens, project=options.project, profiles=options.profiles,
                     timeout=options.timeout, run_prefix=run_prefix, seed=seed,
                     claims=frozenset({"core"}) | options.claims, keep=options.keep,
                     body_budget_bytes=options.body_budget // max(1, processes))
