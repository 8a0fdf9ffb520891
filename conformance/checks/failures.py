"""Typed check failures: one subclass per defect, each with a title, a message and its evidence."""

from __future__ import annotations

from typing import Any

from ..model import Level


class CheckFailure(AssertionError):
    """A rule was broken. `level` overrides the check's level when the rule's strength depends on the data
    (e.g. a status mismatch for an error type whose status rests on one source is only SHOULD)."""

    title = "Check failed"

    def __init__(self, message: str, *, path: str = "", expected: Any = None, actual: Any = None,
                 level: Level | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.expected = expected
        self.actual = actual
        self.level = level

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, path={self.path!r})"


class NotJSONContentType(CheckFailure):
    title = "Content-Type is not application/json"


class UnparseableJSON(CheckFailure):
    title = "Body is not JSON"


class NotAMapping(CheckFailure):
    title = "Top level of the answer is not a mapping"


class MalformedErrorEnvelope(CheckFailure):
    title = "Error body is not the error envelope"


class UndocumentedErrorType(CheckFailure):
    title = "Error type is not a documented one"


class ErrorStatusMismatch(CheckFailure):
    title = "HTTP status does not match the error type"


class FractionalInteger(CheckFailure):
    title = "int or timestamp written with a fraction or exponent"


class ImplausibleTimestamp(CheckFailure):
    title = "Timestamp is not plausible milliseconds"


class LooseEntityId(CheckFailure):
    title = "Entity ID outside the strict alphabet"


class OutputSchemaViolation(CheckFailure):
    title = "Answer does not match the method's output schema"


class MissingNosniff(CheckFailure):
    title = "X-Content-Type-Options: nosniff missing"


class MissingRetryAfter(CheckFailure):
    title = "Retry-After missing or not integer seconds"


class ServerError(CheckFailure):
    title = "Server error (5xx)"


class NotApplicable:
    """Returned by a check (or a precondition) whose rule does not apply to this exchange."""

    def __init__(self, reason: str = ""):
        self.reason = reason

    def __repr__(self) -> str:
        return f"NotApplicable({self.reason!r})"
