"""The run's fuzz plan, decided once from the options and the profile probe: budget, modes, lent containers,
the profiles fuzzed, and the run's seed.

The seed is the run's, not only the fuzzer's: generated cases (`generate:`) draw from it too, so the state
(which makes the RunSession) and the fuzz items both read it from here.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from ..engine.profiles import NOT_IMPLEMENTED
from ..fuzz import CORE, FUZZ_PROFILES, Mode
from .options import DxOptions

SEED_INPUT = "dx_fuzz_seed"          # workerinput key: the controller's seed, the same in every worker
PROFILES_INPUT = "dx_fuzz_profiles"  # workerinput key: the profiles the controller's probe found or was told
SEED_LIMIT = 2**31


@dataclass(frozen=True)
class FuzzPlan:
    """What fuzzing the run does: budget per (mode, route), seed, modes, lent containers, and the profiles
    whose routes are fuzzed (core, and each fuzzable profile the server claims or the probe detected)."""

    examples: int
    seed: int
    modes: tuple[Mode, ...]
    containers: tuple[str, ...]
    fuzz_only: bool
    profiles: tuple[str, ...] = (CORE,)

    @property
    def enabled(self) -> bool:
        return self.examples > 0


PLAN_KEY = pytest.StashKey[FuzzPlan]()


def default_seed() -> int:
    """A fixed seed in CI (same requests on every CI run), a fresh random one elsewhere."""
    return 0 if os.environ.get("CI") else secrets.randbelow(SEED_LIMIT)


def fuzzed_profiles(statuses: Mapping[str, Any]) -> tuple[str, ...]:
    """Core, and the fuzzable profiles the probe's statuses (engine/profiles.py) show claimed or detected."""
    return tuple(p for p in FUZZ_PROFILES
                 if p == CORE or (p in statuses and statuses[p].status != NOT_IMPLEMENTED))


def configure(config: pytest.Config, options: DxOptions, statuses: Mapping[str, Any] | None = None) -> FuzzPlan:
    """Decide the run's fuzz plan once (the controller picks the seed and reads the profile probe's
    `statuses`; workers take both from workerinput). The seed is the run's: generated cases (`generate:`)
    use it too."""
    worker_input = getattr(config, "workerinput", None)
    if options.seed is not None:
        seed = options.seed
    elif worker_input is not None and SEED_INPUT in worker_input:
        seed = int(worker_input[SEED_INPUT])
    else:
        # Without fuzzing, the seed only drives generated cases: fixed, so a plain run stays reproducible.
        seed = default_seed() if options.fuzz_examples else 0
    if worker_input is not None and PROFILES_INPUT in worker_input:
        profiles = tuple(worker_input[PROFILES_INPUT])
    else:
        profiles = fuzzed_profiles(statuses or {})
    plan = FuzzPlan(examples=options.fuzz_examples, seed=seed,
                    modes=tuple(Mode(m) for m in options.fuzz_modes) or tuple(Mode),
                    containers=options.fuzz_containers, fuzz_only=options.fuzz_only, profiles=profiles)
    config.stash[PLAN_KEY] = plan
    return plan


def plan_of(config: pytest.Config) -> FuzzPlan:
    return config.stash[PLAN_KEY]


def plan_json(plan: FuzzPlan) -> dict[str, Any]:
    """results.json's top-level `fuzz` record: enough to send the same requests again."""
    return {"examples": plan.examples, "seed": plan.seed, "modes": [m.value for m in plan.modes],
            "profiles": list(plan.profiles), "replay": "dxconform replay <result id> --results results.json"}


def header_line(plan: FuzzPlan) -> str:
    return (f"dxconform fuzzing: seed {plan.seed}, {plan.examples} examples per route and mode "
            f"({', '.join(m.value for m in plan.modes)}); --seed {plan.seed} sends the same requests again")
