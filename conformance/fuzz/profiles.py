"""Which profiles to fuzz when the caller does not say: core, and each other profile the fuzzer can drive
that the server has, found by the suite's own profile probe (engine/profiles.py) limited to those."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.profiles import ProfileProber
from ..spec import Spec
from .bridge import CORE, FUZZ_PROFILES


@dataclass(frozen=True)
class _ProbedSpec:
    """The part of the spec the prober reads: the routes of the profiles to probe."""

    routes: list[Any]


class _AsUser:
    """A transport that sends the prober's calls as the run's acting user (the prober names its own)."""

    def __init__(self, transport: Any, user: str):
        self.transport = transport
        self.user = user

    def call(self, path: str, *, user: str | None = None, **options: Any):
        return self.transport.call(path, user=self.user if user is not None else None, **options)


def detect_profiles(transport: Any, spec: Spec, user: str, run_prefix: str) -> tuple[str, ...]:
    """Core, then the fuzzable profiles the probe finds on the server, in FUZZ_PROFILES order."""
    probed = _ProbedSpec([r for r in spec.routes if r.profile in FUZZ_PROFILES and r.profile != CORE])
    statuses = ProfileProber(_AsUser(transport, user), probed, run_prefix).probe(())
    return tuple(p for p in FUZZ_PROFILES if p == CORE or (p in statuses and statuses[p].detected))
