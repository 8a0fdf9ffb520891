"""Recording the requests of a `dxconform run`, and replaying them with a raw urllib3 loop (for overhead.py).

Two child processes, both started by overhead.py and timed from outside:

- `python benchmarks/replay.py record FILE --out DIR [-k EXPR]` is `dxconform run --reruns 0 --out DIR` in
  this process, with every request the suite's Transport sends (method, URL, headers, body, status, answer,
  when) and every wait of an `eventually` step (the suite waiting for the server's state to change: the
  server's time) kept in memory and written to FILE (pickle) once the run has ended.
- `python benchmarks/replay.py replay PLAN` is the raw replay, cold: interpreter start, the imports it needs
  (urllib3, the reference server), the reference server started in this process (as `dxconform run` starts
  its embedded one in its own), one urllib3 PoolManager (the HTTP client the suite's Transport sends with)
  sending each recorded request in order after its recorded wait, with the IDs and URLs the new server hands out put in place of the recorded ones, then exit.
  It prints one JSON line: when each phase ended (time.time()) and the loop's figures.

The parent turns a recording into a PLAN (`write_plan`) before the clock starts: bodies decoded, and only the
answers whose IDs or URLs later requests use kept for learning, so the timed loop does no more bookkeeping
than a replay must.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

T0_ENV = "DXCONFORM_BENCH_T0"
# Entity IDs as the server hands them out: class-<24 strict-alphabet characters>.
ENTITY_ID = re.compile(rb"\b[a-z]+-[0-9A-Za-z]{24}\b")
ENTITY_ID_TEXT = re.compile(r"\b[a-z]+-[0-9A-Za-z]{24}\b")
MIN_LEARNT_CHARS = 8


# --- recording (the `record` child) ------------------------------------------------------------------------

def install_recorder(exchanges: list[dict[str, Any]]) -> None:
    """Append every request the Transport sends, and every wait of an `eventually` step before it, to
    `exchanges`. Kept in memory (the bytes the Transport holds anyway) and written once at the end: a few
    microseconds per request, so the recording run is a timed run like any other."""
    from conformance.engine import steps, transport

    original_send = transport.Transport._send
    pending_wait = [0.0]

    def recording_send(self, method, url, path, headers, body, route):
        started = time.time()
        exchange = original_send(self, method, url, path, headers, body, route)
        done = time.time()
        answer = exchange.response
        # The embedded server's tokens are random: the recording names the user, the replay sends its token.
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        user = next((u for u, token in self.tokens.items() if authorization == f"Bearer {token}"), None)
        exchanges.append({"t": started, "done": done, "wait": pending_wait[0], "method": method, "url": url,
                          "headers": headers, "user": user, "body": body,
                          "status": answer.status if answer else None, "answer": answer.body if answer else b""})
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


def record(path: str, run_args: list[str]) -> NoReturn:
    """`dxconform run --reruns 0 ARGS` in this process, its exchanges written to `path` (pickle) at the end; then
    the process ends as the `dxconform` command does (cli.main.exit_at_once: without freeing its heap object by
    object, which the command never pays and which took about half a second after a whole run)."""
    from conformance.cli.main import exit_at_once, main

    exchanges: list[dict[str, Any]] = []
    install_recorder(exchanges)
    code = main(["run", "--reruns", "0", *run_args])
    returned = time.time()
    with open(path, "wb") as sink:
        pickle.dump({"t0": float(os.environ.get(T0_ENV, time.time())), "returned": returned,
                     "exchanges": exchanges}, sink, protocol=pickle.HIGHEST_PROTOCOL)
    exit_at_once(code)


# --- the recording, read by the parent ---------------------------------------------------------------------

@dataclass
class Recording:
    exchanges: list[dict[str, Any]]
    t0: float
    returned: float | None = None     # when `dxconform run` returned (its reports written), before the exit

    @classmethod
    def read(cls, path: Path) -> Recording:
        with open(path, "rb") as source:
            data = pickle.load(source)
        return cls(exchanges=data["exchanges"], t0=data["t0"], returned=data.get("returned"))

    def write(self, path: Path) -> Path:
        with open(path, "wb") as sink:
            pickle.dump({"t0": self.t0, "returned": self.returned, "exchanges": self.exchanges}, sink,
                        protocol=pickle.HIGHEST_PROTOCOL)
        return path

    @property
    def before_first(self) -> float:
        """From the process's start (the parent's clock before it started it) to the first request."""
        return self.exchanges[0]["t"] - self.t0 if self.exchanges else 0.0

    @property
    def span(self) -> float:
        """From the first request sent to the last answer read."""
        return self.exchanges[-1]["done"] - self.exchanges[0]["t"] if self.exchanges else 0.0

    @property
    def last_answer(self) -> float:
        return self.exchanges[-1]["done"] if self.exchanges else self.t0

    @property
    def waited(self) -> float:
        return sum(exchange["wait"] for exchange in self.exchanges)


@dataclass
class PlannedRequest:
    """One request of the replay, ready to send: what it needs at send time, nothing more."""

    wait: float
    method: str
    url: str
    headers: dict[str, str]
    user: str | None
    body: bytes
    status: int | None
    has_ids: bool               # the URL or body holds entity IDs (mapped to the new server's at send time)
    learn_from: Any = None      # the recorded answer (parsed) when later requests use its IDs or URLs, else None


def _strings(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def plan(recording: Recording) -> list[PlannedRequest]:
    """The recording as the replay child's plan (made before the clock starts)."""
    bodies = [exchange["body"] for exchange in recording.exchanges]
    used: set[str] = set()      # IDs and URLs that requests send: the answers holding them must be learnt from
    for exchange, body in zip(recording.exchanges, bodies, strict=True):
        used.add(exchange["url"])
        used.update(ENTITY_ID_TEXT.findall(exchange["url"]))
        used.update(match.decode() for match in ENTITY_ID.findall(body))
    planned = []
    for exchange, body in zip(recording.exchanges, bodies, strict=True):
        recorded = _json(exchange["answer"])
        learn = recorded is not None and any(s in used for s in _strings(recorded) if len(s) >= MIN_LEARNT_CHARS)
        planned.append(PlannedRequest(
            wait=exchange["wait"], method=exchange["method"], url=exchange["url"], headers=dict(exchange["headers"]),
            user=exchange.get("user"), body=body, status=exchange["status"],
            has_ids=bool(ENTITY_ID.search(body) or ENTITY_ID_TEXT.search(exchange["url"])),
            learn_from=recorded if learn else None))
    return planned


def write_plan(recording: Recording, path: Path) -> Path:
    with open(path, "wb") as out:
        pickle.dump([asdict(request) for request in plan(recording)], out, protocol=pickle.HIGHEST_PROTOCOL)
    return path


# --- replaying (the `replay` child, or in process for the tests) --------------------------------------------

@dataclass
class Replay:
    sent: int = 0
    same_status: int = 0
    http: float = 0.0           # seconds in request() (sending, the server's work, reading the answer)
    waited: float = 0.0         # seconds of the recorded waits
    loop: float = 0.0           # the whole loop: http + waited + the replay's own bookkeeping
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
    elif (isinstance(recorded, str) and isinstance(replayed, str) and recorded != replayed
          and len(recorded) >= MIN_LEARNT_CHARS):
        mapping[recorded] = replayed


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def replay(requests_planned: list[PlannedRequest], server: Any) -> Replay:
    """Send the planned requests to `server` (a started RefServer), in order, after the recorded waits."""
    import urllib3

    result = Replay()
    mapping = result.mapping

    def mapped(match: re.Match) -> bytes:
        found = match.group()
        return mapping.get(found.decode(), found.decode()).encode()

    loop_started = time.perf_counter()
    with urllib3.PoolManager() as pools:
        old_base = ""
        for planned in requests_planned:
            url = planned.url
            if not old_base:
                parts = urlsplit(url)
                old_base = f"{parts.scheme}://{parts.netloc}"
            url, body = mapping.get(url) or url.replace(old_base, server.url, 1), planned.body
            if planned.has_ids:
                url = ENTITY_ID.sub(mapped, url.encode()).decode()
                body = ENTITY_ID.sub(mapped, body)
            if planned.wait:
                time.sleep(planned.wait)
                result.waited += planned.wait
            headers = planned.headers
            if planned.user:
                headers = {**headers, "Authorization": f"Bearer {server.token(planned.user)}"}
            started = time.perf_counter()
            try:
                answer = pools.request(planned.method, url, body=body, headers=headers, redirect=False,
                                         retries=False, timeout=60)
                status, content = answer.status, answer.data
            except urllib3.exceptions.HTTPError:
                status, content = None, b""
            result.http += time.perf_counter() - started
            result.sent += 1
            result.same_status += status == planned.status
            if planned.learn_from is not None:
                _learn(planned.learn_from, _json(content), mapping)
    result.loop = time.perf_counter() - loop_started
    return result


def replay_child(plan_path: str) -> int:
    """The replay as a whole process: what a raw client of the same exchanges would be (see the docstring)."""
    import urllib3  # noqa: F401 - imported here, where the clock sees it

    from conformance.refserver.server import RefServer

    marks = {"imported": time.time()}
    with open(plan_path, "rb") as source:
        requests_planned = [PlannedRequest(**fields) for fields in pickle.load(source)]
    marks["plan_read"] = time.time()
    with RefServer() as server:
        marks["server_started"] = time.time()
        result = replay(requests_planned, server)
        marks["loop_done"] = time.time()
    marks["server_stopped"] = time.time()
    figures = {key: value for key, value in asdict(result).items() if key != "mapping"}
    print(json.dumps({**marks, **figures, "learnt": len(result.mapping)}), flush=True)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "record":
        record(argv[1], argv[2:])
    if len(argv) == 2 and argv[0] == "replay":
        return replay_child(argv[1])
    print("usage: replay.py record FILE [dxconform run options] | replay PLAN", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
