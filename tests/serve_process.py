"""`dxconform serve --port 0 ...` as a child process for tests: its banner (URL, port, printed tokens), a normal
stop, kill -9."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:(\d+))$")
USER_LINE = re.compile(r"^user user-(\S+) token (\S+)$")
# The banner's last line (server.serve_forever prints it once the server is ready).
LAST_LINE = "jobs:"


class ServeProcess:
    """A `dxconform serve --port 0 ARGS` child: `url`, `port`, the `tokens` it printed, its `banner` lines."""

    def __init__(self, *args: str, timeout: float = 20):
        self.proc = subprocess.Popen([sys.executable, "-m", "conformance.cli.main", "serve", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.banner: list[str] = []
        self.tokens: dict[str, str] = {}
        self.url, self.port = self._read_banner(timeout)

    def _pump(self) -> None:  # keeps draining stdout so the child never blocks on a full pipe
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_banner(self, timeout: float) -> tuple[str, int]:
        url, port = None, 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.banner.append(line)
            if m := LISTENING.match(line):
                url, port = m.group(1), int(m.group(2))
            elif m := USER_LINE.match(line):
                self.tokens[m.group(1)] = m.group(2)
            elif line.startswith(LAST_LINE) and url is not None:
                return url, port
        self.stop()
        raise AssertionError(f"dxconform serve did not print its banner: {self.banner}")

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


@contextmanager
def serving(*args: str, kind: type[ServeProcess] = ServeProcess) -> Iterator[ServeProcess]:
    server = kind(*args)
    try:
        yield server
    finally:
        server.stop()
