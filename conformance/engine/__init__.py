"""The engine: sends requests (transport) and runs cases into results with a session; knows nothing of pytest."""

from .cleanup import CleanupReport
from .config import RunConfig, new_run_prefix
from .ledger import CheckLedger
from .runner import run_case
from .session import RunSession, SetupError
from .tracker import Tracker

__all__ = ["CheckLedger", "CleanupReport", "RunConfig", "RunSession", "SetupError", "Tracker", "new_run_prefix",
           "run_case"]
