"""Telling that a server does not have a method: 405/501, or an answer it gives alike to a method no server has.

The real platform's wording for an unknown method is unverified (API-DIGEST 1.6a: ResourceNotFound 404,
MethodNotAllowed 405 or InvalidType 422 are all candidates), so no message text is relied on. Instead the
answer is compared with a *control*: the same subject, the same user, a method name no server has
(`dxconformNoSuchMethod`). A server that lacks a method answers it as it answers any unknown method, so:

- 405 (MethodNotAllowed) or 501 (not implemented) means absent;
- otherwise the answer is absent when it has the control's status and error type, and its message equals the
  control's once the method names, paths and route keys in both are replaced by a placeholder.

Never absent: a 2xx answer, or a refused token (401: the server answered before it looked the method up, so
the answer says nothing of the method). An existing method on an ID that does not exist may be told apart
from an unknown one only by its message; a server that answers both identically makes such a probe
undecidable, and it counts as absent (the probe proved nothing about the route).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import Exchange, Response

ABSENT_METHOD = "dxconformNoSuchMethod"
NOT_IMPLEMENTED_STATUSES = (405, 501)
PLACEHOLDER = "<method>"
MESSAGE_SHOWN = 160


@dataclass(frozen=True)
class Answer:
    """What of an answer the comparison looks at."""

    status: int
    error_type: str | None
    message: str

    @classmethod
    def of(cls, response: Response) -> Answer:
        body = response.json
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            kind = error.get("type")
            return cls(response.status, kind if isinstance(kind, str) else None, str(error.get("message", "")))
        return cls(response.status, None, response.text[:1000])

    def brief(self) -> str:
        kind = f" {self.error_type}" if self.error_type else ""
        return f"{self.status}{kind} {self.message[:MESSAGE_SHOWN]!r}"


def split_path(path: str) -> tuple[str, str] | None:
    """`/file-xxx/close` -> ("file-xxx", "close"); None for a path that is not /<subject>/<method>."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) != 3 or parts[0] or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _normalised(message: str, path: str) -> str:
    """The message with the path, then the method name (as a whole word), replaced by a placeholder."""
    message = message.replace(path, PLACEHOLDER)
    parts = split_path(path)
    if parts:
        message = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(parts[1])}(?![A-Za-z0-9_])", PLACEHOLDER, message)
    return message


def control_path(path: str) -> str | None:
    parts = split_path(path)
    return f"/{parts[0]}/{ABSENT_METHOD}" if parts else None


def absent_because(answer: Answer, path: str, control: Answer | None, control_at: str) -> str | None:
    """Why this answer says the method is absent (the evidence, one line), or None if it does not."""
    if 200 <= answer.status < 300 or answer.status == 401:
        return None
    if answer.status in NOT_IMPLEMENTED_STATUSES:
        return f"{path} answered {answer.brief()} (405/501: the method is not there)"
    if control is None:
        return None
    same = (answer.status == control.status and answer.error_type == control.error_type
            and _normalised(answer.message, path) == _normalised(control.message, control_at))
    if not same:
        return None
    return (f"{path} answered {answer.brief()}, as {control_at} (a method no server has) did: "
            f"{control.brief()}")


class AbsenceJudge:
    """Decides, for answers of the routes it is asked about, whether the server lacks the method; asks each
    control once per (subject, user) and remembers it. Thread-safe; `send(path, user)` makes the call."""

    def __init__(self, send: Callable[[str, str | None], Exchange]):
        self._send = send
        self._controls: dict[tuple[str, str | None], Answer | None] = {}
        self._lock = threading.Lock()

    def control(self, path: str, user: str | None) -> tuple[Answer | None, str]:
        at = control_path(path) or path
        key = (at, user)
        with self._lock:
            if key in self._controls:
                return self._controls[key], at
        exchange = self._send(at, user)
        answer = Answer.of(exchange.response) if exchange.response is not None else None
        with self._lock:
            self._controls[key] = answer
        return answer, at

    def judge(self, exchange: Exchange, user: str | None) -> str | None:
        """The evidence that `exchange`'s route is absent on this server, or None."""
        response = exchange.response
        if response is None or split_path(exchange.request.path) is None:
            return None
        answer = Answer.of(response)
        if 200 <= answer.status < 300 or answer.status == 401:
            return None
        if answer.status in NOT_IMPLEMENTED_STATUSES:
            return absent_because(answer, exchange.request.path, None, "")
        control, at = self.control(exchange.request.path, user)
        return absent_because(answer, exchange.request.path, control, at)


def describe_answer(exchange: Exchange) -> dict[str, Any]:
    """An exchange's answer as evidence data (status, error type, message excerpt), or the transport error."""
    if exchange.response is None:
        return {"error": exchange.error.to_json() if exchange.error else None}
    answer = Answer.of(exchange.response)
    return {"status": answer.status, "error_type": answer.error_type, "message": answer.message[:MESSAGE_SHOWN]}
