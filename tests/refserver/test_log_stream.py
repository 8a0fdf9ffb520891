"""A job's log over the WebSocket dx watch reads (log_stream.py): dxpy's own client, refusals, Origin."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator

import pytest
import websocket

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.pytest_fixture import running_dx_server
from conformance.refserver.server import RefServer

from ..conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs need Linux")]

TICKER = "main() {\n  for i in 1 2 3; do echo \"tick $i\"; sleep 0.3; done\n  echo oops >&2\n}\n"
PARENT = """import dxpy
@dxpy.entry_point("main")
def main():
    print("parent says hi", flush=True)
    dxpy.new_dxjob({}, "child")
    return {}
@dxpy.entry_point("child")
def child():
    print("child says hi", flush=True)
    return {}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[RefServer]:
    with RefServer(settings=Settings(users=dict(FIXED_TOKENS))) as running:
        yield running


@pytest.fixture()
def client(server: RefServer) -> Client:
    return Client(server.url, dict(FIXED_TOKENS))


def run(client: Client, code: str, interpreter: str = "bash") -> tuple[str, str]:
    project = client.ok("/project/new", {"name": "logs"})["id"]
    applet = client.ok("/applet/new", {"project": project, "dxapi": "1.0.0", "name": "logger",
                                       "runSpec": {"interpreter": interpreter, "code": code}})["id"]
    return project, client.ok(f"/{applet}/run", {"project": project, "input": {}})["id"]


def socket_url(server: RefServer, job: str) -> str:
    return server.url.replace("http://", "ws://") + f"/{job}/getLog/websocket"


def watch(server: RefServer, job: str, token: str = "alice-token", **options) -> tuple[list[dict], int | None]:
    """Every message until the server closes, and the close code (websocket-client, as dx watch uses it)."""
    ws = websocket.create_connection(socket_url(server, job), timeout=20)
    ws.send(json.dumps({"access_token": token, "token_type": "Bearer", **options}))
    messages = []
    while True:
        opcode, data = ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            ws.close()
            return messages, code, data[2:].decode()
        messages.append(json.loads(data))


def test_dxpy_watch_client_follows_a_running_job_to_its_end():
    from dxpy.utils.job_log_client import DXJobLogStreamClient

    # dxpy pointed at a server of its own (the client describes the job when the stream ends).
    with running_dx_server() as dx_server:
        client = Client(dx_server.url, dx_server.tokens)
        _, job = run(client, TICKER)
        seen: list[dict] = []
        started = time.monotonic()
        DXJobLogStreamClient(job, input_params={"numRecentMessages": 1000, "tail": True},
                             msg_callback=seen.append, print_job_info=False, exit_on_failed=False).connect()
        assert time.monotonic() - started >= 0.5  # it followed the job while it ran, not just its end
        assert [m["msg"] for m in seen] == ["tick 1", "tick 2", "tick 3", "oops"]
        assert [m["level"] for m in seen] == ["STDOUT", "STDOUT", "STDOUT", "STDERR"]
        assert {m["job"] for m in seen} == {job} and [m["line"] for m in seen] == [0, 1, 2, 3]
        assert client.ok(f"/{job}/describe", {})["state"] == "done"


def test_recent_messages_no_tail_and_the_end_marker(server, client):
    _, job = run(client, TICKER)
    messages, code, _ = watch(server, job, tail=True)
    assert code == 1000 and messages[-1]["source"] == "SYSTEM" and messages[-1]["msg"] == "END_LOG"
    recent, code, _ = watch(server, job, numRecentMessages=2, tail=False)
    assert [m["msg"] for m in recent[:-1]] == ["tick 3", "oops"] and code == 1000


def test_tree_brings_the_subjobs_lines(server, client):
    _, job = run(client, PARENT, "python3")
    messages, _, _ = watch(server, job, recurseJobs=True, tail=True)
    said = {(m["job"] == job, m["msg"]) for m in messages}
    assert (True, "parent says hi") in said and (False, "child says hi") in said
    alone, _, _ = watch(server, job, recurseJobs=False, tail=False)
    assert {m["job"] for m in alone if m["source"] == "APP"} == {job}


@pytest.mark.parametrize(("token", "code", "error"), [
    ("not-a-token", 4401, "InvalidAuthentication"),
    ("bob-token", 4404, "ResourceNotFound"),
])
def test_a_bad_token_or_a_job_not_visible_is_refused_with_the_error_as_reason(server, client, token, code, error):
    _, job = run(client, "main() {\n  true\n}\n")
    messages, closed, reason = watch(server, job, token=token)
    assert messages == [] and closed == code and json.loads(reason)["type"] == error


def test_a_web_page_of_another_origin_cannot_open_the_socket(server, client):
    _, job = run(client, "main() {\n  true\n}\n")
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(socket_url(server, job), origin="https://evil.example", timeout=10)
    # websocket-client's own default Origin names the server itself: allowed (dx watch sends it).
    websocket.create_connection(socket_url(server, job), timeout=10).close()
