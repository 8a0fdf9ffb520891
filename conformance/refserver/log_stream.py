"""A job's log over a WebSocket, as `dx watch` reads it: ws://HOST:PORT/job-xxxx/getLog/websocket.

The client's first frame is JSON: {"access_token", "token_type", "numRecentMessages"?, "recurseJobs"?,
"tail"?} (dxpy job_log_client.py). The server answers with one text frame per log message {"timestamp",
"source", "level", "job", "line", "msg"}, then {"source": "SYSTEM", "msg": "END_LOG"} and a normal close
(EXECUTABLES-DIGEST 1). With `tail`, it follows the job (and with `recurseJobs` its subjobs) until they have
all ended. A refusal closes the socket with code 4000 + the HTTP status and the error envelope's
{"type", "message"} as the reason, which dxpy prints ("Error while streaming job logs: <type>: <message>").
Every store access goes through the app's handler thread; the socket ends when the client leaves or the server
stops.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from . import errors, executions, job_workdir
from .context import Context
from .db import now_ms

PATH = re.compile(r"^/(job-[0-9A-Za-z]{24})/getLog/websocket$")
POLL_SECONDS = 0.2
# The first frame must come within this many seconds of the connection, and be at most this long.
HELLO_SECONDS = 10.0
HELLO_BYTES = 64 * 1024
# The platform's cap on numRecentMessages (dxpy's docstring: no more than 1024 * 256).
MAX_RECENT = 1024 * 256
END_LOG = {"source": "SYSTEM", "level": "INFO", "msg": "END_LOG"}


class _Gone(Exception):
    """The client disconnected."""


async def serve(app: Any, scope: dict, receive, send) -> None:
    """One WebSocket connection (the app's scope type "websocket")."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    match = PATH.match(scope.get("path", ""))
    if match is None:
        await send({"type": "websocket.close", "code": 4404})
        return
    await send({"type": "websocket.accept"})
    try:
        hello = await asyncio.wait_for(receive(), HELLO_SECONDS)
    except TimeoutError:
        await _refuse(send, errors.InvalidInput("send the first frame (access_token, token_type) within "
                                                f"{HELLO_SECONDS:g} s"))
        return
    if hello["type"] != "websocket.receive":
        return
    try:
        options = _options(hello.get("text") or (hello.get("bytes") or b"").decode("utf-8", "replace"))
        job_id = match.group(1)
        await app.handlers.call(_authorize, app, options, job_id)
        await _stream(app, job_id, options, receive, send)
    except errors.DXError as exc:
        await _refuse(send, exc)
    except _Gone:
        return


def _options(text: str) -> dict[str, Any]:
    if len(text) > HELLO_BYTES:
        raise errors.InvalidInput(f"the first frame is longer than {HELLO_BYTES} bytes")
    try:
        options = json.loads(text)
    except ValueError:
        raise errors.MalformedJSON("the first frame is not JSON") from None
    if not isinstance(options, dict) or not isinstance(options.get("access_token"), str):
        raise errors.InvalidAuthentication("the first frame must hold access_token and token_type")
    recent = options.get("numRecentMessages", MAX_RECENT)
    if not isinstance(recent, int) or isinstance(recent, bool) or not 0 <= recent <= MAX_RECENT:
        raise errors.InvalidInput(f'expected key "numRecentMessages" to be an integer from 0 to {MAX_RECENT}')
    return options


def _context(app: Any, user: str | None, job: str | None) -> Context:
    return Context(app.db, app.settings, "/job-xxxx/getLog/websocket", user, None, now_ms(), {}, "", job=job)


def _authorize(app: Any, options: dict, job_id: str) -> None:
    """On the handler thread: the token is a user's or a running job's, and it may see the job."""
    token = options["access_token"]
    if str(options.get("token_type", "Bearer")).lower() != "bearer":
        raise errors.InvalidAuthentication("token_type must be Bearer")
    user, job = app.db.user_of_token(token), None
    if user is None:
        found = app.db.job_of_token(token)
        if found is None:
            raise errors.InvalidAuthentication("The token could not be found")
        user, job = found
    executions.visible_job(_context(app, user, job), job_id)


def _jobs_and_states(app: Any, job_id: str, recurse: bool) -> list[tuple[str, str]]:
    """On the handler thread: (job, state) of the job and, with recurse, of its descendants."""
    ctx = _context(app, None, None)
    rows = [executions.job_row(ctx, job_id)] + (executions.descendants(ctx, job_id) if recurse else [])
    return [(r["id"], r["state"]) for r in rows]


async def _stream(app: Any, job_id: str, options: dict, receive, send) -> None:
    recurse = bool(options.get("recurseJobs"))
    tail = bool(options.get("tail", True))
    offsets: dict[str, int] = {}
    lines: dict[str, int] = {}
    first = True
    disconnect = asyncio.ensure_future(_until_gone(receive))
    try:
        while True:
            jobs = await app.handlers.call(_jobs_and_states, app, job_id, recurse)
            ended = all(state in executions.TERMINAL for _, state in jobs)
            batch: list[dict[str, Any]] = []
            for job, _ in jobs:
                entries, offsets[job] = job_workdir.read_log_from(app.jobs.root / f"{job}.log", offsets.get(job, 0),
                                                                  job, lines.get(job, 0))
                lines[job] = lines.get(job, 0) + len(entries)
                batch += entries
            batch.sort(key=lambda e: (e["timestamp"] or 0, e["job"], e["line"]))
            if first:
                batch = batch[len(batch) - options.get("numRecentMessages", MAX_RECENT):] \
                    if options.get("numRecentMessages", MAX_RECENT) else []
                first = False
            for entry in batch:
                await _send(send, disconnect, entry)
            if ended or not tail:
                await _send(send, disconnect, {**END_LOG, "timestamp": now_ms(), "job": job_id, "line": 0})
                await send({"type": "websocket.close", "code": 1000})
                return
            done, _ = await asyncio.wait({disconnect}, timeout=POLL_SECONDS)
            if done:
                raise _Gone
    finally:
        disconnect.cancel()


async def _until_gone(receive) -> None:
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def _send(send, disconnect: asyncio.Future, entry: dict) -> None:
    if disconnect.done():
        raise _Gone
    await send({"type": "websocket.send", "text": json.dumps(entry)})


async def _refuse(send, exc: errors.DXError) -> None:
    message = exc.message
    reason = json.dumps({"type": exc.type, "message": message})
    while len(reason.encode()) > 123:  # the most a WebSocket close frame carries (RFC 6455 5.5)
        message = message[:-4]
        reason = json.dumps({"type": exc.type, "message": message + "..."})
    await send({"type": "websocket.close", "code": 4000 + exc.status, "reason": reason})
