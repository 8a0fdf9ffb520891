"""API errors as domain exceptions: each has the documented error type and HTTP status."""

from __future__ import annotations

from typing import Any


class DXError(Exception):
    """An error the API reports as {"error": {"type", "message", "details"?}} with an HTTP status."""

    type = "InternalError"
    status = 500

    def __init__(self, message: str, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _error(name: str, status: int) -> type[DXError]:
    return type(name, (DXError,), {"type": name, "status": status, "__doc__": f"{name} ({status})."})


MalformedJSON = _error("MalformedJSON", 400)
InvalidAuthentication = _error("InvalidAuthentication", 401)
# 401, not 403: the server's own error table as copied by dxfuse (dx_errors.go).
PermissionDenied = _error("PermissionDenied", 401)
ResourceNotFound = _error("ResourceNotFound", 404)
MethodNotAllowed = _error("MethodNotAllowed", 405)
RequestedRangeNotSatisfiable = _error("RequestedRangeNotSatisfiable", 416)
InvalidInput = _error("InvalidInput", 422)
InvalidState = _error("InvalidState", 422)
InvalidType = _error("InvalidType", 422)
RateLimitConditional = _error("RateLimitConditional", 429)
InternalError = _error("InternalError", 500)
ServiceUnavailable = _error("ServiceUnavailable", 503)
BadDigest = _error("BadDigest", 400)
