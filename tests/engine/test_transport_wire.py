"""The transport on the wire: what a request carries, how answers are read, connections reused and checked."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from conformance.engine.transport import Transport

from .hostile import HostileServer, answer, read_request

TOKEN = "very-secret-token-123"


class KeepAliveServer(HostileServer):
    """Answers every request of a connection with `respond(request_bytes)`; `connections` counts connections.
    `close_after` answers: then it closes the connection without saying so (no `Connection: close`)."""

    def __init__(self, respond: Callable[[bytes], bytes], close_after: int | None = None):
        self.respond = respond
        self.close_after = close_after
        self.connections = 0
        super().__init__(lambda conn: None)

    def _serve(self, conn: socket.socket) -> None:
        self.connections += 1
        answered = 0
        try:
            while self.close_after is None or answered < self.close_after:
                request = read_request(conn)
                if not request:
                    return
                self.requests.append(request)
                conn.sendall(self.respond(request))
                answered += 1
        except OSError:
            pass
        finally:
            conn.close()


def ok(body: bytes = b"{}", extra: str = "") -> Callable[[bytes], bytes]:
    return lambda request: f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def echo_target(request: bytes) -> bytes:
    target = request.split(b" ")[1]
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(target), target)


def request_target(path: str) -> str:
    with HostileServer(answer("200 OK", b"{}")) as server:
        Transport(server.url, {}, timeout=2).call(path, user=None)
    return server.requests[0].split(b" ")[1].decode()


# --- connections --------------------------------------------------------------------------------------------

def test_calls_reuse_one_keep_alive_connection():
    with KeepAliveServer(ok()) as server, Transport(server.url, {"alice": TOKEN}, timeout=2) as transport:
        statuses = [transport.call("/system/whoami", user="alice").response.status for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert len(server.requests) == 3 and server.connections == 1


def test_a_keep_alive_connection_the_server_closed_is_replaced_not_failed():
    with KeepAliveServer(ok(), close_after=1) as server, Transport(server.url, {}, timeout=2) as transport:
        first = transport.call("/system/whoami", user=None)
        time.sleep(0.2)                     # the server's FIN has arrived when the next call takes the connection
        second = transport.call("/system/whoami", user=None)
    assert first.error is None and second.error is None and second.response.status == 200
    assert server.connections == 2


def test_a_connection_left_with_unread_body_is_not_reused():
    answers = iter([b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000])
    respond = lambda request: next(answers, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")  # noqa: E731
    with KeepAliveServer(respond) as server, Transport(server.url, {}, timeout=2, max_body_bytes=1000) as transport:
        too_large = transport.call("/system/whoami", user=None)
        after = transport.call("/system/whoami", user=None)
    assert too_large.error.kind == "too_large" and too_large.response.body == b""
    assert after.error is None and after.response.body == b"{}"
    assert server.connections == 2


def test_two_threads_share_one_transport_without_mixing_answers():
    results: dict[str, list[bytes]] = {"a": [], "b": []}
    with KeepAliveServer(echo_target) as server, Transport(server.url, {}, timeout=5) as transport:
        def send(name: str) -> None:
            for index in range(25):
                results[name].append(transport.call(f"/{name}/{index}", user=None).response.body)
        threads = [threading.Thread(target=send, args=(name,)) for name in results]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    for name, bodies in results.items():
        assert bodies == [f"/{name}/{index}".encode() for index in range(25)]
    assert server.connections <= 2


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")      # nothing listens there: a proxy used would refuse
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with HostileServer(answer("200 OK", b"{}")) as server:
        exchange = Transport(server.url, {}, timeout=2).call("/system/whoami", user=None)
    assert exchange.error is None and exchange.response.status == 200
    assert server.requests[0].startswith(b"POST /system/whoami HTTP/1.1")


# --- answers ------------------------------------------------------------------------------------------------

def test_a_chunked_body_is_recorded_whole():
    def chunked(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b'{"a": ', b"[1, 2]", b"}"):
            conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            time.sleep(0.02)
        conn.sendall(b"0\r\n\r\n")
    with HostileServer(chunked) as server:
        exchange = Transport(server.url, {}, timeout=2).call("/system/whoami", user=None)
    assert exchange.error is None and not exchange.response.truncated
    assert exchange.response.json == {"a": [1, 2]}


def test_a_chunked_body_past_the_cap_is_cut():
    def chunked(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
        conn.sendall(b"0\r\n\r\n")
    with HostileServer(chunked) as server:
        exchange = Transport(server.url, {}, timeout=2, max_body_bytes=10_000).call("/system/whoami", user=None)
    assert exchange.error.kind == "too_large"
    assert exchange.response.body == b"x" * 10_000 and exchange.response.truncated


def test_a_connection_reset_mid_body_keeps_what_arrived():
    def reset_mid_body(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        time.sleep(0.3)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with HostileServer(reset_mid_body) as server:
        exchange = Transport(server.url, {}, timeout=2).call("/system/whoami", user=None)
    assert exchange.error.kind == "reset"
    assert exchange.response.status == 200 and exchange.response.truncated
    assert exchange.response.body == b"x" * 10


def test_a_redirect_is_recorded_with_its_body_and_not_followed():
    with HostileServer(answer("200 OK", b"{}")) as elsewhere:
        moved = answer("302 Found", b'{"moved": true}', {"Location": elsewhere.url + "/x"})
        with HostileServer(moved) as server:
            exchange = Transport(server.url, {"alice": TOKEN}, timeout=2).call("/system/whoami", user="alice")
            time.sleep(0.2)
    assert exchange.error is None and exchange.response.status == 302
    assert exchange.response.json == {"moved": True}
    assert elsewhere.requests == []


def test_repeated_answer_headers_are_joined_under_the_first_name():
    with HostileServer(answer("200 OK", b"{}", {"X-Part": "1", "x-part": "2"})) as server:
        exchange = Transport(server.url, {}, timeout=2).call("/system/whoami", user=None)
    assert exchange.response.headers.to_json()["X-Part"] == "1, 2"


def test_a_cookie_set_by_the_server_is_never_sent_back():
    """A cookie is per client, not per user: sending alice's cookie with bob's token would mix the users."""
    with KeepAliveServer(ok(extra="Set-Cookie: session=alice; Path=/\r\n")) as server, \
            Transport(server.url, {"alice": TOKEN, "bob": "bob-token"}, timeout=2) as transport:
        transport.call("/system/whoami", user="alice")
        transport.call("/system/whoami", user="bob")
    assert len(server.requests) == 2
    assert all(b"cookie" not in request.lower() for request in server.requests)


# --- what a request carries ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "target"), [
    ("/file-xxxx/describe", "/file-xxxx/describe"),
    ("/a b", "/a%20b"),
    ("/a/../b", "/b"),
    ("/a/./b/.", "/a/b/"),
    ("/x%41y", "/xAy"),           # an escaped unreserved character is sent as itself
    ("/x%2fy", "/x%2Fy"),
    ("/x#frag", "/x"),
    ("/é", "/%C3%A9"),
    ("/x?q=a b", "/x?q=a%20b"),
    ("/x?", "/x"),
    ("/[x]", "/%5Bx%5D"),
    ("/x|y", "/x%7Cy"),
    ("/x%zz", "/x%25zz"),
    ("/x%", "/x%25"),
])
def test_request_targets_are_normalised_as_requests_did(path, target):
    assert request_target(path) == target


def test_the_token_goes_to_calls_and_never_to_a_fetch_even_of_the_base_url():
    with KeepAliveServer(ok()) as server, Transport(server.url, {"alice": TOKEN}, timeout=2) as transport:
        transport.call("/system/whoami", user="alice")
        transport.fetch(server.url + "/download/1")
        transport.fetch(server.url + "/upload/1", "PUT", {"authorization": f"Bearer {TOKEN}"}, b"part")
    call, download, upload = server.requests
    assert f"Authorization: Bearer {TOKEN}".encode() in call
    assert TOKEN.encode() not in download and TOKEN.encode() not in upload
    assert b"authorization" not in download.lower() and b"authorization" not in upload.lower()


def test_default_headers_lengths_and_methods_on_the_wire():
    with KeepAliveServer(ok()) as server, Transport(server.url, {}, timeout=2) as transport:
        transport.call("/empty", user=None, raw_body=b"")
        transport.call("/get", user=None, raw_body=b"", method="get")
        transport.call("/length", user=None, raw_body=b"abc", headers={"content-length": "99", "Accept": "x/y"})
    empty, get, length = (request.split(b"\r\n\r\n")[0].split(b"\r\n") for request in server.requests)
    assert empty[0] == b"POST /empty HTTP/1.1"
    assert b"Accept: */*" in empty and b"Accept-Encoding: identity" in empty and b"Content-Length: 0" in empty
    assert b"User-Agent: dxconform/0.1" in empty and b"Content-Type: application/json" in empty
    assert get[0] == b"GET /get HTTP/1.1" and not any(line.lower().startswith(b"content-length") for line in get)
    assert b"Content-Length: 3" in length and b"Accept: x/y" in length and b"Accept: */*" not in length
    assert server.requests[2].endswith(b"\r\n\r\nabc")


@pytest.mark.parametrize("headers", [{"X-Odd": " leading space"}, {"X-Odd": "two\r\nlines"}, {"X:Odd": "v"}])
def test_a_header_that_breaks_the_rules_is_not_sent(headers):
    with HostileServer(answer("200 OK", b"{}")) as server:
        exchange = Transport(server.url, {}, timeout=2).call("/system/whoami", user=None, headers=headers)
        time.sleep(0.1)
    assert exchange.response is None and exchange.error.kind == "protocol"
    assert "InvalidHeader" in exchange.error.message and server.requests == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:9/x", "http:///x", "not a url", "//127.0.0.1:9/x"])
def test_a_handed_out_url_that_is_not_http_is_an_error_not_an_exception(url):
    exchange = Transport("http://127.0.0.1:9", {}, timeout=1).fetch(url)
    assert exchange.response is None and exchange.error.kind == "protocol"
    assert exchange.error.message.startswith("InvalidURL")


def test_credentials_in_a_handed_out_url_are_sent_as_basic_authorization():
    with HostileServer(answer("200 OK", b"{}")) as server:
        Transport("http://127.0.0.1:9", {}, timeout=2).fetch(f"http://user:pw@127.0.0.1:{server.port}/x")
    assert b"Authorization: Basic dXNlcjpwdw==" in server.requests[0]


# --- HTTPS --------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_an_untrusted_https_certificate_is_refused_before_anything_is_sent(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=20)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    received: list[bytes] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                try:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        received.append(tls.recv(65536))
                except (ssl.SSLError, OSError):
                    pass
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        exchange = Transport(f"https://127.0.0.1:{port}", {"alice": TOKEN}, timeout=5).call("/system/whoami",
                                                                                           user="alice")
        thread.join(5)
    assert exchange.response is None and exchange.error.kind == "connection"
    assert "certificate verify failed" in exchange.error.message.lower()
    assert received == []
