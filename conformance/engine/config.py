"""What a run is given: the server, the users' tokens, the project to work in, profiles, limits, run prefix."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from .body_budget import DEFAULT_BODY_BUDGET_BYTES
from .transport import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_S

RUN_PREFIX_STEM = "dxc-"
CORE_PROFILE = "core"


def new_run_prefix() -> str:
    """`dxc-<8 hex>`: every name the run gives starts with it, so its objects never collide with others'."""
    return RUN_PREFIX_STEM + secrets.token_hex(4)


@dataclass(frozen=True)
class RunConfig:
    """One run's settings. `tokens` maps user names as cases write them (alice, bob) to tokens;
    `profiles` None selects every profile; `project` is an existing project the run may work in."""

    server: str
    tokens: Mapping[str, str]
    project: str | None = None
    profiles: frozenset[str] | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    run_prefix: str = field(default_factory=new_run_prefix)
    seed: int = 0   # drives the examples of generated cases (`generate:`): the same seed, the same values
    # The profiles the user says the server implements (--claims): a route of one of them that the server
    # lacks fails its cases instead of making them unsupported. core is always claimed.
    claims: frozenset[str] = frozenset({CORE_PROFILE})
    # --keep: leave what the run creates on the server (no `finally` steps, no cleanup) and report it.
    keep: bool = False
    # Answer bytes this process keeps after their cases (body_budget.py); past it, bodies keep their head.
    body_budget_bytes: int = DEFAULT_BODY_BUDGET_BYTES

    def claimed(self, profile: str) -> bool:
        return profile == CORE_PROFILE or profile in self.claims

    def selects(self, profile: str) -> bool:
        return self.profiles is None or profile in self.profiles or profile == CORE_PROFILE

    @property
    def secrets(self) -> list[str]:
        return [token for token in self.tokens.values() if token]
