"""`dxconform serve` on a port it cannot have: one line naming the port and the host, exit 2, no uvicorn text."""

from __future__ import annotations

import socket
import subprocess
import sys


def serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", "serve", *args],
                          capture_output=True, text=True, timeout=60)


def test_a_busy_port_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve("--port", str(port))
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"dxconform: error: port {port} is in use on 127.0.0.1 (another process listens there; "
        f"choose another with --port, or --port 0 for a free one)"]
    assert "Errno" not in done.stderr and "uvicorn" not in done.stderr.lower()


def test_an_address_that_is_not_this_machines_is_one_line_and_exit_2():
    done = serve("--host", "192.0.2.1", "--port", "0")     # TEST-NET-1: never a local address
    assert done.returncode == 2, done
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("dxconform: error: cannot serve on 192.0.2.1")
    assert "Errno" not in done.stderr
