"""Deliberate faults: each breaks exactly one documented rule, switched on by name (serve --fault NAME).

The suite proves its worth by catching them. They live here, outside the normal code paths: a fault either
rewrites a request or a response at the protocol boundary, wraps the handler of some routes (rewriting their
input or output, or editing the store around them), wraps the job service's steps on the store, or delays a
route. Nothing in the handlers knows faults exist. `registry` defines a fault and holds them all; `helpers`
has the building blocks the fault modules share; each fault module (basic, protocol, store, executables,
workflows, fuzz, diff, real_traffic) registers its faults when imported here.
"""

from . import basic, diff, executables, fuzz, protocol, real_traffic, store, workflows  # noqa: F401  (each registers its faults)
from .diff import DIFF_FAULTS
from .executables import EXECUTABLE_FAULTS
from .fuzz import FUZZ_FAULTS
from .real_traffic import REAL_TRAFFIC_FAULTS
from .registry import FAULTS, Fault, Handler, fault, select
from .workflows import WORKFLOW_FAULTS

__all__ = ["DIFF_FAULTS", "EXECUTABLE_FAULTS", "FAULTS", "FUZZ_FAULTS", "Fault", "Handler", "REAL_TRAFFIC_FAULTS",
           "WORKFLOW_FAULTS", "fault", "select"]
