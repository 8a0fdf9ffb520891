"""What one fuzzing run is given: server, tokens, budget, seed, modes, routes, limits and its name prefix."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# The profiles whose routes can be fuzzed; core is fuzzed unless another profile is asked for.
FUZZ_PROFILES = ("core", "executables", "workflows", "apps")
CORE = "core"


class Mode(StrEnum):
    """positive: valid input; negative: input that breaks one documented constraint; stateful: sequences."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    STATEFUL = "stateful"


ALL_MODES = (Mode.POSITIVE, Mode.NEGATIVE, Mode.STATEFUL)
# Examples per route and mode. Small enough for CI on the embedded server; `dxconform run` may raise it.
DEFAULT_EXAMPLES = 8
DEFAULT_SEED = 0
DEFAULT_MAX_SECONDS = 600.0
# Requests one shrink may send before it settles for the smallest failing input found so far.
DEFAULT_SHRINK_REQUESTS = 150
# Longest one shrink may take before it settles for the smallest failing input seen.
DEFAULT_SHRINK_SECONDS = 20.0
STATEFUL_MAX_STEPS = 6
RUN_PREFIX_STEM = "dxc-fuzz-"


def new_run_prefix() -> str:
    """`dxc-fuzz-<8 hex>`: the name of the run's projects starts with it, so they never pass for others'."""
    return RUN_PREFIX_STEM + secrets.token_hex(4)


@dataclass(frozen=True)
class FuzzConfig:
    """One fuzzing run. `tokens` maps user names to tokens; the first (or `user`) acts, the others are the
    people the run may invite. `routes` None means every route of the OpenAPI exports of `profiles`;
    `profiles` None means core and each other profile the fuzzer can drive that the server has (found by
    the suite's profile probe, engine/profiles.py). `containers` are container IDs the caller lends for
    container routes (the API cannot make one); they are never destroyed."""

    base_url: str
    tokens: Mapping[str, str]
    examples: int = DEFAULT_EXAMPLES
    seed: int = DEFAULT_SEED
    modes: tuple[Mode, ...] = ALL_MODES
    routes: tuple[str, ...] | None = None
    profiles: tuple[str, ...] | None = None
    user: str | None = None
    containers: tuple[str, ...] = ()
    max_seconds: float = DEFAULT_MAX_SECONDS
    shrink_requests: int = DEFAULT_SHRINK_REQUESTS
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS
    timeout: float = 30.0
    run_prefix: str = field(default_factory=new_run_prefix)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", tuple(Mode(m) for m in self.modes))
        if self.examples < 0:
            raise ValueError("examples must be >= 0")
        if not self.tokens:
            raise ValueError("fuzzing needs at least one user token")
        if self.user is not None and self.user not in self.tokens:
            raise ValueError(f"no token for user {self.user!r}")

    @property
    def acting_user(self) -> str:
        return self.user or next(iter(self.tokens))

    def seed_for(self, *parts: str) -> int:
        """The seed of one (mode, route) exploration (or of the stateful one): derived from the run seed, stable
        across runs."""
        return derived_seed(self.seed, *parts)


def derived_seed(seed: int, *parts: str) -> int:
    """A seed derived from the run seed and `parts` (a mode, a route...): the same in every run and process."""
    text = ":".join((str(seed), *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
