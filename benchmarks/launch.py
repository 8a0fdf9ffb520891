"""The benchmarks' child processes: start one (serve, proxy) and wait for its `listening on URL` line, stop it,
and run a command cold, timed from outside (wall, and CPU from wait4), in a clean environment."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the variables that steer dxconform, pytest or hypothesis, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_", "HYPOTHESIS_"))}
    env.update(extra)
    return env


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Stop a child with `sig` (its outputs then get written), killing it if it has not ended in `timeout` s."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Finished:
    """A child run to its end, timed from outside: wall seconds from just before its start to its exit, its
    own CPU seconds (user + system, from wait4), its exit code and its two streams."""

    wall: float
    cpu: float
    code: int
    stdout: str
    stderr: str


def run_timed(command: list[str], cwd: Path, name: str, env: dict[str, str]) -> Finished:
    """Run `command` cold in `cwd`, its streams in files `name`.out and `name`.err (never a full pipe); the child
    is killed if this process is interrupted while it runs."""
    with open(cwd / f"{name}.out", "w+") as out, open(cwd / f"{name}.err", "w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(wall, usage.ru_utime + usage.ru_stime, proc.returncode, out.read(), err.read())
