"""Protocol checks run on every exchange: registered functions with a name, a level, an area and a source."""

from ._registry import (
    CHECKS,
    CLIENT_CHECKS,
    CLIENT_SIDE,
    SERVER_SIDE,
    CheckContext,
    CheckInfo,
    ChecksRun,
    apply_checks,
    check,
    check_info,
    load_builtin_checks,
    registry_for,
    run_check,
    run_checks,
)
from .failures import CheckFailure, NotApplicable

load_builtin_checks()

__all__ = ["CHECKS", "CLIENT_CHECKS", "CLIENT_SIDE", "SERVER_SIDE", "CheckContext", "CheckFailure", "CheckInfo",
           "ChecksRun", "NotApplicable", "apply_checks", "check", "check_info", "load_builtin_checks", "registry_for", "run_check", "run_checks"]
