"""The start-up probe of `dxconform run --server`: each user mistake exits 2 before any case, in one line."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conformance.cli.main import main
from conformance.cli.probe import second_user_cases
from conformance.refserver.server import RefServer
from conformance.resources import cases_dir
from tests.engine.hostile import HostileServer, answer
from tests.hostile.echo_servers import EchoServer, authorization_line

from ..pytest_plugin.support import TINY_CASES

TOKEN, TOKEN2 = "probe-secret-token-1", "probe-secret-token-2"
# Two cases whose steps run as the second user (cases/auth/identity.yaml, cases/json-output/system.yaml).
BOB_CASES = ("whoami-per-token", "whoami-differs-per-user")
WHOAMI_OK = answer("200 OK", b'{"id": "user-someone"}', {"Content-Type": "application/json"})


@pytest.fixture(autouse=True)
def _no_tokens_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DXCONFORM_TOKEN", raising=False)
    monkeypatch.delenv("DXCONFORM_TOKEN2", raising=False)


def probe_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path, server: str, *args: str,
                secrets: tuple[str, ...] = (TOKEN, TOKEN2)) -> str:
    """`dxconform run --server SERVER ARGS` (in process) exits 2 with one line on stderr, naming no token;
    returns that line."""
    code = main(["run", "--server", server, "--cases", str(TINY_CASES), "--out", str(tmp_path / "out"), *args])
    captured = capsys.readouterr()
    assert code == 2, captured.out[-2000:] + captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("dxconform: error: "), lines
    assert "Traceback" not in captured.out + captured.err
    for secret in secrets:
        assert secret not in captured.out + captured.err, captured.err
    assert not (tmp_path / "out" / "results.json").exists()   # no case ran
    return lines[0].removeprefix("dxconform: error: ")


def ref_tokens(refserver: RefServer) -> tuple[str, ...]:
    """The session's reference server's tokens (random): never to be printed."""
    return tuple(refserver.settings.users.values())


def closed_port() -> int:
    """A loopback port that was bound and closed: nothing listens there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the server answers, but not as the API the user meant ----------------------------------------------------

def test_a_wrong_base_path_is_no_api(capsys, tmp_path, refserver: RefServer) -> None:
    line = probe_fails(capsys, tmp_path, refserver.url + "/api", "--token", refserver.token("alice"),
                       secrets=ref_tokens(refserver))
    assert line.startswith(f"no DNAnexus API at {refserver.url}/api: /system/whoami answered 404 ("), line
    assert line.endswith("; wrong base path?"), line


def test_a_web_page_is_no_api(capsys, tmp_path) -> None:
    page = b"<html><body><h1>Welcome to nginx!</h1>" + b"<p>filler</p>" * 200 + b"</body></html>"
    with HostileServer(answer("200 OK", page, {"Content-Type": "text/html"})) as server:
        line = probe_fails(capsys, tmp_path, server.url, "--token", TOKEN)
    assert line.startswith(f"no DNAnexus API at {server.url}: /system/whoami answered 200 without a string"), line
    assert "(text/html: '<html><body><h1>Welcome to...')" in line and len(line) < 300, line


def test_a_refused_token(capsys, tmp_path, refserver: RefServer) -> None:
    line = probe_fails(capsys, tmp_path, refserver.url, "--token", TOKEN)
    assert line.startswith(f"{refserver.url} refused the token (--token): /system/whoami answered 401"), line


def test_a_refusal_that_echoes_the_token_is_scrubbed(capsys, tmp_path) -> None:
    def echo_token(conn: socket.socket) -> None:
        sent = server.requests[-1].decode("latin-1")
        token = sent.split("Authorization: Bearer ", 1)[1].split("\r\n", 1)[0]
        body = json.dumps({"error": {"type": "InvalidAuthentication", "message": f"bad token {token}"}})
        answer("401 Unauthorized", body.encode(), {"Content-Type": "application/json"})(conn)

    with HostileServer(echo_token) as server:
        line = probe_fails(capsys, tmp_path, server.url, "--token", TOKEN)
    assert line == (f"{server.url} refused the token (--token): /system/whoami answered 401 "
                    f"(InvalidAuthentication: bad token ***)"), line


def test_a_refused_second_token(capsys, tmp_path, refserver: RefServer) -> None:
    line = probe_fails(capsys, tmp_path, refserver.url, "--token", refserver.token("alice"), "--token2", TOKEN2,
                       secrets=(*ref_tokens(refserver), TOKEN2))
    assert line.startswith(f"{refserver.url} refused the second user's token (--token2): /system/whoami "
                           f"answered 401"), line


def test_a_refused_second_token_from_the_environment(capsys, tmp_path, monkeypatch, refserver: RefServer) -> None:
    monkeypatch.setenv("DXCONFORM_TOKEN", refserver.token("alice"))
    monkeypatch.setenv("DXCONFORM_TOKEN2", TOKEN2)
    line = probe_fails(capsys, tmp_path, refserver.url, secrets=(*ref_tokens(refserver), TOKEN2))
    assert "refused the second user's token ($DXCONFORM_TOKEN2)" in line, line


def test_two_tokens_of_one_user(capsys, tmp_path, refserver: RefServer) -> None:
    line = probe_fails(capsys, tmp_path, refserver.url, "--token", refserver.token("alice"),
                       "--token2", refserver.token("alice"), secrets=ref_tokens(refserver))
    assert line.startswith("--token and --token2 both sign in as user-alice: the cases that need a second "
                           "user need a different user's token"), line


# --- no second token: a warning, and the cases that need one end as unsupported ------------------------------

def test_no_second_token_warns_and_those_cases_are_unsupported(tmp_path, refserver: RefServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_"))}
    proc = subprocess.run([sys.executable, "-m", "conformance.cli.main", "run", "--server", refserver.url,
                           "--token", refserver.token("alice"), "-k", " or ".join(BOB_CASES),
                           "--out", str(tmp_path / "out")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    count = second_user_cases(cases_dir())
    assert count >= len(BOB_CASES)
    warning = f"dxconform: warning: no --token2: {count} cases that need a second user will be unsupported"
    assert [line for line in proc.stderr.splitlines() if line.startswith("dxconform:")] == [warning], proc.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    cases = {r["id"].split("::")[1]: r for r in document["results"] if r["kind"] == "case"}
    assert set(cases) == set(BOB_CASES), sorted(cases)
    for result in cases.values():
        assert result["outcome"] == "unsupported", result
        assert result["message"].startswith("no token for the second user (--token2): "), result["message"]
        assert "'bob'" in result["message"]
    assert document["summary"]["unsupported"] >= len(BOB_CASES) and document["summary"]["skipped"] == 0
    junit = ElementTree.parse(tmp_path / "out" / "junit.xml")
    skips = {case.get("name"): case.find("skipped") for case in junit.iter("testcase")}
    for name in BOB_CASES:   # pytest shows an unsupported case as skipped, the reason marked as unsupported
        assert "dxconform-unsupported: no token for the second user" in skips[name].get("message"), name
    for token in ref_tokens(refserver):
        assert token not in proc.stdout + proc.stderr


def test_the_count_is_the_cases_that_run_a_step_as_someone_else(tmp_path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "users.yaml").write_text("""
fixtures:
  bob_looks:
    steps:
      - route: /system/whoami
        user: bob
cases:
  - {id: alice-only, title: t, area: auth, topic: t, level: MUST, source: s, steps: [{route: /system/whoami}]}
  - {id: bob-step, title: t, area: auth, topic: t, level: MUST, source: s,
     steps: [{route: /system/whoami, user: bob}]}
  - {id: bob-fixture, title: t, area: auth, topic: t, level: MUST, source: s, uses: [bob_looks],
     steps: [{route: /system/whoami}]}
  - {id: bob-finally, title: t, area: auth, topic: t, level: MUST, source: s, steps: [{route: /system/whoami}],
     finally: [{route: /system/whoami, user: bob}]}
  - {id: nobody, title: t, area: auth, topic: t, level: MUST, source: s,
     steps: [{route: /system/whoami, user: null}]}
""")
    assert second_user_cases(cases) == 3


# --- the server cannot be talked to ---------------------------------------------------------------------------

def test_a_closed_port(capsys, tmp_path) -> None:
    port = closed_port()
    line = probe_fails(capsys, tmp_path, f"http://127.0.0.1:{port}", "--token", TOKEN)
    assert line == f"cannot connect to 127.0.0.1:{port}: connection refused (is the server running?)"


def test_a_name_that_does_not_resolve(capsys, tmp_path, monkeypatch) -> None:
    real = socket.getaddrinfo

    def no_dns(host, *args, **kwargs):
        if host == "dx.example.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    line = probe_fails(capsys, tmp_path, "https://dx.example.invalid/api", "--token", TOKEN)
    assert line == ("cannot connect to dx.example.invalid:443: the name dx.example.invalid does not resolve "
                    "(name or service not known)"), line


def test_https_against_an_http_server(capsys, tmp_path, refserver: RefServer) -> None:
    plain = refserver.url.removeprefix("http://")
    line = probe_fails(capsys, tmp_path, f"https://{plain}", "--token", refserver.token("alice"), secrets=ref_tokens(refserver))
    assert line == f"{plain} did not answer TLS: is it http://, not https://?"


@pytest.fixture()
def tls_server(tmp_path: Path) -> Iterator[str]:
    """host:port of a loopback server that speaks HTTP over TLS only (a self-signed certificate)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                if tls.recv(65536):
                    WHOAMI_OK(tls)
        except OSError:
            conn.close()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def test_http_against_a_tls_server(capsys, tmp_path, tls_server: str) -> None:
    line = probe_fails(capsys, tmp_path, f"http://{tls_server}", "--token", TOKEN)
    assert line == f"{tls_server} answered in TLS, not HTTP: is it https://, not http://?"


def test_an_untrusted_certificate(capsys, tmp_path, tls_server: str) -> None:
    line = probe_fails(capsys, tmp_path, f"https://{tls_server}", "--token", TOKEN)
    assert line.startswith(f"{tls_server} sent a TLS certificate that is not trusted ("), line


def _silent(stop: threading.Event) -> Callable[[socket.socket], None]:
    return lambda conn: stop.wait(30)


def test_a_server_that_never_answers(capsys, tmp_path) -> None:
    stop = threading.Event()
    with HostileServer(_silent(stop)) as server:
        try:
            line = probe_fails(capsys, tmp_path, server.url, "--token", TOKEN, "--timeout", "1")
        finally:
            stop.set()
    assert line == (f"127.0.0.1:{server.port} accepted the connection but did not answer /system/whoami "
                    f"within 1 s (--timeout): is this the API's port?"), line


def test_a_server_that_does_not_speak_http(capsys, tmp_path) -> None:
    def ssh(conn: socket.socket) -> None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n")

    with HostileServer(ssh) as server:
        line = probe_fails(capsys, tmp_path, server.url, "--token", TOKEN)
    assert line == f"127.0.0.1:{server.port} did not answer in HTTP (it sent 'SSH-2.0-OpenSSH_9.6'): is this the " \
                   f"API's port?", line


def echo_authorization(tail: bytes = b"") -> EchoServer:
    """A non-HTTP answer: the request's own Authorization line (then `tail`), as a broken server might echo it."""
    return EchoServer(lambda request: authorization_line(request) + tail + b"\r\n\r\n")


def test_garbage_that_echoes_the_token_is_scrubbed(capsys, tmp_path) -> None:
    with echo_authorization() as server:
        line = probe_fails(capsys, tmp_path, server.url, "--token", TOKEN)
    assert line == f"127.0.0.1:{server.port} did not answer in HTTP (it sent 'Authorization: Bearer ***'): is " \
                   f"this the API's port?", line


def test_a_short_token_is_scrubbed_however_short_and_the_sentence_stays_readable(capsys, tmp_path) -> None:
    with echo_authorization(b" answers plainly") as server:
        line = probe_fails(capsys, tmp_path, server.url, "--token", "an", secrets=())
    # The token alone is scrubbed; inside a longer word ("answers", "plainly") it is not the token.
    assert line == f"127.0.0.1:{server.port} did not answer in HTTP (it sent 'Authorization: Bearer *** answers " \
                   f"plainly'): is this the API's port?", line


def test_a_server_that_hangs_up(capsys, tmp_path) -> None:
    with HostileServer(lambda conn: None) as server:
        line = probe_fails(capsys, tmp_path, server.url, "--token", TOKEN, "--timeout", "2")
    assert line == f"127.0.0.1:{server.port} closed the connection without answering /system/whoami: is this " \
                   f"the API's port?", line
