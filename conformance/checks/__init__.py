"""Protocol checks run on every exchange: registered functions with a name, a level, an area and a source."""

from ._registry import CHECKS, CheckContext, CheckInfo, check, load_builtin_checks, run_check, run_checks
from .failures import CheckFailure, NotApplicable

load_builtin_checks()

__all__ = ["CHECKS", "CheckContext", "CheckFailure", "CheckInfo", "NotApplicable", "check",
           "load_builtin_checks", "run_check", "run_checks"]
