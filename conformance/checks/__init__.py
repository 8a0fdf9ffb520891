"""Protocol checks run on every exchange: registered functions with a name, a level, an area and a source.

Server-side checks (the answer) live in protocol, envelope, datatypes and schema; client-side checks (the
request, run by the proxy only) in client. Importing the package registers both sides.
"""

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
    registry_for,
    run_check,
    run_checks,
)
from .failures import CheckFailure, NotApplicable


def load_builtin_checks() -> None:
    """Import the modules that register the checks of both sides (idempotent; done on importing the package)."""
    from . import client, datatypes, envelope, protocol, schema  # noqa: F401


load_builtin_checks()

__all__ = ["CHECKS", "CLIENT_CHECKS", "CLIENT_SIDE", "SERVER_SIDE", "CheckContext", "CheckFailure", "CheckInfo",
           "ChecksRun", "NotApplicable", "apply_checks", "check", "check_info", "load_builtin_checks", "registry_for",
           "run_check", "run_checks"]
