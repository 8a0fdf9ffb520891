"""Recording the requests of a `dxconform run` and replaying them with a raw requests loop (for overhead.py).

As a script it is the recording child: `python benchmarks/replay.py --record FILE --out DIR [-k EXPR]` runs
`dxconform run` in this process with the Transport's sends and the `eventually` waits written to FILE.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

T0_ENV = "DXCONFORM_BENCH_T0"
# Entity IDs as the server hands them out: class-<24 strict-alphabet characters>.
ENTITY_ID = re.compile(rb"\b[a-z]+-[0-9A-Za-z]{24}\b")


# --- recording (in the child) ------------------------------------------------------------------------------

def install_recorder(sink) -> None:
    """Write every request the Transport sends, and every wait of an `eventually` step, to `sink` (JSON lines)."""
    from conformance.engine import steps, transport

    original_send = transport.Transport._send
    pending_wait = [0.0]

    def recording_send(self, method, url, path, headers, body, route):
        started = time.time()
        exchange = original_send(self, method, url, path, headers, body, route)
        answer = exchange.response
        # The embedded server's tokens are random: the recording names the user, the replay sends its token.
        by_header = {f"Bearer {token}": user for user, token in self.tokens.items()}
        user = next((by_header[v] for k, v in headers.items() if k.lower() == "authorization" and v in by_header),
                    None)
        kept = {k: v for k, v in headers.items() if user is None or k.lower() != "authorization"}
        sink.write(json.dumps({
            "t": started, "wait": pending_wait[0], "method": method, "url": url, "headers": kept, "user": user,
            "body": base64.b64encode(body).decode(), "status": answer.status if answer else None,
            "answer": base64.b64encode(answer.body).decode() if answer else ""}) + "\n")
        pending_wait[0] = 0.0
        return exchange

    class WaitRecordingTime:
        """steps.time with sleep() noted: the suite waiting for the server's state is the server's time."""

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            pending_wait[0] += seconds
            time.sleep(seconds)

    transport.Transport._send = recording_send
    steps.time = WaitRecordingTime()


def child(argv: list[str]) -> int:
    from conformance.cli.main import main

    args = list(argv)
    record = None
    if "--record" in args:
        index = args.index("--record")
        record = args[index + 1]
        del args[index:index + 2]
    if record is None:
        return main(["run", "--reruns", "0", *args])
    with open(record, "w") as sink:
        install_recorder(sink)
        sink.write(json.dumps({"t0": float(os.environ.get(T0_ENV, time.time()))}) + "\n")
        return main(["run", "--reruns", "0", *args])


# --- replaying (in the parent) -----------------------------------------------------------------------------

@dataclass
class Recording:
    exchanges: list[dict[str, Any]]
    t0: float

    @classmethod
    def read(cls, path: Path) -> Recording:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return cls(exchanges=lines[1:], t0=lines[0]["t0"])

    @property
    def before_first(self) -> float:
        return self.exchanges[0]["t"] - self.t0 if self.exchanges else 0.0

    @property
    def span(self) -> float:
        return self.exchanges[-1]["t"] - self.exchanges[0]["t"] if self.exchanges else 0.0


@dataclass
class Replay:
    seconds: float = 0.0          # time in requests and recorded waits only: the loop's own bookkeeping excluded
    waited: float = 0.0
    sent: int = 0
    same_status: int = 0
    mapping: dict[str, str] = field(default_factory=dict)


def _learn(recorded: Any, replayed: Any, mapping: dict[str, str]) -> None:
    """Where the two answers differ in a string (IDs, URLs), the recorded one now means the replayed one."""
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key, value in recorded.items():
            if key in replayed:
                _learn(value, replayed[key], mapping)
        old_keys = [k for k in recorded if k not in replayed]
        new_keys = [k for k in replayed if k not in recorded]
        if len(old_keys) == len(new_keys):   # answers keyed by ID (describe of several objects ...)
            for old, new in zip(old_keys, new_keys, strict=True):
                mapping[old] = new
                _learn(recorded[old], replayed[new], mapping)
    elif isinstance(recorded, list) and isinstance(replayed, list):
        for old, new in zip(recorded, replayed, strict=False):
            _learn(old, new, mapping)
    elif isinstance(recorded, str) and isinstance(replayed, str) and recorded != replayed and len(recorded) >= 8:
        mapping[recorded] = replayed


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def replay(recording: Recording) -> Replay:
    """Send the recorded requests to a fresh reference server, in order, after the recorded waits."""
    from conformance.refserver.server import RefServer

    result = Replay()
    mapping = result.mapping
    with RefServer() as server, requests.Session() as session:
        session.trust_env = False
        old_base = ""
        for exchange in recording.exchanges:
            url = exchange["url"]
            if not old_base:
                parts = urlsplit(url)
                old_base = f"{parts.scheme}://{parts.netloc}"
            url = mapping.get(url) or url.replace(old_base, server.url, 1)
            url = ENTITY_ID.sub(lambda m: mapping.get(m.group().decode(), m.group().decode()).encode(),
                                url.encode()).decode()
            body = ENTITY_ID.sub(lambda m: mapping.get(m.group().decode(), m.group().decode()).encode(),
                                 base64.b64decode(exchange["body"]))
            if exchange["wait"]:
                time.sleep(exchange["wait"])
                result.waited += exchange["wait"]
            started = time.perf_counter()
            headers = dict(exchange["headers"])
            if exchange.get("user"):
                headers["Authorization"] = f"Bearer {server.token(exchange['user'])}"
            try:
                answer = session.request(exchange["method"], url, data=body, headers=headers,
                                         allow_redirects=False, timeout=60)
                status, content = answer.status_code, answer.content
            except requests.RequestException:
                status, content = None, b""
            result.seconds += time.perf_counter() - started
            result.sent += 1
            result.same_status += status == exchange["status"]
            recorded = _json(base64.b64decode(exchange["answer"]))
            if recorded is not None:
                _learn(recorded, _json(content), mapping)
    result.seconds += result.waited
    return result


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
