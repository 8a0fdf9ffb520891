"""Start a dxconform child process (serve, proxy) and wait for its `listening on URL` line, for every benchmark."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time

LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)\s*$")


def start_listening(command: list[str], what: str, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """(process, URL) once `command` prints `listening on URL`; exits the benchmark if it never does."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if m := LISTENING.match(lines.get(timeout=0.2)):
                return proc, m.group(1)
        except queue.Empty:
            if proc.poll() is not None:
                break
    proc.kill()
    raise SystemExit(f"{what} did not start")
