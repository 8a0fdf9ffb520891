"""A real retry: a loopback proxy loses the server's answer to */new, dxpy retries with the same nonce."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


@dataclass
class AnswerLosingProxy:
    """Forwards every POST to the server; the first answer to each path in `lose` is replaced by a 503.

    The server has done the work by then: only the answer is lost, as when a connection drops late.
    """

    upstream: str
    lose: set[str]
    seen: list[tuple[str, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                forwarded = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = requests.post(proxy.upstream + self.path, data=body, headers=forwarded, timeout=30)
                with proxy.lock:
                    proxy.seen.append((self.path, json.loads(body)))
                    lost = self.path in proxy.lose
                    proxy.lose.discard(self.path)
                if lost:
                    status, payload = 503, json.dumps({"error": {"type": "ServiceUnavailable",
                                                                 "message": "answer lost by the test proxy"}})
                    extra = {"Retry-After": "1"}
                else:
                    status, payload, extra = answer.status_code, answer.text, {}
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture()
def lossy(dx, refserver) -> Iterator[AnswerLosingProxy]:
    """dxpy talks to the proxy for the duration of the test (then back to the server)."""
    proxy = AnswerLosingProxy(refserver.url, {"/record/new", "/file/new"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dx.set_api_server_info(host="127.0.0.1", port=str(server.server_address[1]), protocol="http")
    try:
        yield proxy
    finally:
        dx.set_api_server_info(host=refserver.host, port=str(refserver.port), protocol="http")
        server.shutdown()
        server.server_close()


def sent_to(proxy: AnswerLosingProxy, path: str) -> list[dict]:
    return [body for p, body in proxy.seen if p == path]


def test_record_new_retried_after_a_lost_answer_makes_one_record(dx, dx_project, lossy):
    record = dx.new_dxrecord(name="retried")
    attempts = sent_to(lossy, "/record/new")
    assert len(attempts) == 2 and attempts[0] == attempts[1] and attempts[0]["nonce"]
    found = [r["id"] for r in dx.find_data_objects(classname="record", project=dx_project, name="retried")]
    assert found == [record.get_id()]


def test_upload_string_retried_after_a_lost_answer_makes_one_file(dx, dx_project, lossy):
    handler = dx.upload_string("only once", project=dx_project, name="retried.txt", wait_on_close=True)
    attempts = sent_to(lossy, "/file/new")
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    found = [r["id"] for r in dx.find_data_objects(classname="file", project=dx_project, name="retried.txt")]
    assert found == [handler.get_id()]
    assert dx.DXFile(handler.get_id(), project=dx_project).read() == "only once"
