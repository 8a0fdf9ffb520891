"""The CI gate: the expectations file (known failures) and which results of a run fail it."""

from .decision import gate_failures
from .known_failures import (
    Expectation,
    ExpectationsError,
    apply_to_json,
    dump_expectations,
    expectations_from_results,
    judge,
    load_expectations,
    verdict,
)

__all__ = ["Expectation", "ExpectationsError", "apply_to_json", "dump_expectations", "expectations_from_results",
           "gate_failures", "judge", "load_expectations", "verdict"]
