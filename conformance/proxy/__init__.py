"""The validating proxy (live traffic) and the offline checker (HAR files): both sides' rules on real traffic."""

from .monitor import Monitor, Verdict
from .server import ProxyRun
from .validate import validate

__all__ = ["Monitor", "ProxyRun", "Verdict", "validate"]
