"""Runs jobs' commands from inside the server: one shepherd process per job, a bounded number at once.

`JobRunner.start` spawns `python -m conformance.refserver.job_process` (the shepherd: limits, log, killing the
job's whole process tree; see its docstring for the protocol and the outcome's keys) in a session of its own,
so a Ctrl-C meant for the server does not reach it, and keeps the write end of its stdin open: when the
server process dies, kill -9 included, the kernel closes it, the shepherd reads EOF and kills the job. Every
pipe is close-on-exec (Python's default, PEP 446) and every child is spawned with close_fds, so no shepherd
holds another job's pipe (which would keep that EOF from coming).

One daemon thread per job waits for its shepherd's report and calls `on_finished(job_id, outcome)`, once; the
job's slot is already free then (the callback may start the next job). A shepherd that dies without a report
gives the outcome reason "shepherd-lost" (the runner then kills the job's process group, all it can still
find). `pids()` names each shepherd by pid and start time, for the store; after a crash, `reap()` kills the
shepherds of an earlier run that are somehow still alive, with their job trees.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .job_process import KILL_SECONDS, descendants, proc_stat, signal_quietly, start_time
from .limits import JobLimits

log = logging.getLogger("dxconform.refserver")

SHEPHERD_MODULE = "conformance.refserver.job_process"


class NoFreeSlot(RuntimeError):
    """start() was called while max_concurrent jobs were running: check free_slots() first."""


@dataclasses.dataclass
class _Shepherd:
    job_id: str
    proc: subprocess.Popen
    start_time: int
    stdin_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    job_pid: int | None = None  # the job's main process, also its process group, once the shepherd says


def lost_outcome(error: str) -> dict[str, Any]:
    return {"exit_code": None, "signal": None, "reason": "shepherd-lost", "cpu_seconds": 0.0, "max_rss_kb": 0,
            "log_truncated": False, "error": error}


class JobRunner:
    def __init__(self, limits: JobLimits, max_concurrent: int,
                 on_finished: Callable[[str, dict[str, Any]], None]):
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.limits = limits
        self.max_concurrent = max_concurrent
        self.on_finished = on_finished
        self._lock = threading.Lock()
        self._shepherds: dict[str, _Shepherd] = {}
        self._stopped = False

    def free_slots(self) -> int:
        with self._lock:
            return self.max_concurrent - len(self._shepherds)

    def running(self) -> set[str]:
        with self._lock:
            return set(self._shepherds)

    def pids(self) -> dict[str, tuple[int, int]]:
        """{job_id: (shepherd pid, its start time from /proc/<pid>/stat)}: what reap() needs after a crash."""
        with self._lock:
            return {job_id: (s.proc.pid, s.start_time) for job_id, s in self._shepherds.items()}

    def start(self, job_id: str, argv: list[str], cwd: str, env: Mapping[str, str], log_path: str,
              limits: JobLimits | None = None) -> None:
        """Start a job's command, with its own limits or else the runner's; `env` is its whole environment.

        Raises NoFreeSlot when max_concurrent jobs run, ValueError if this job runs already.
        """
        request = {"argv": list(argv), "cwd": cwd, "env": dict(env), "log_path": log_path,
                   "limits": dataclasses.asdict(limits or self.limits)}
        with self._lock:
            if self._stopped:
                raise RuntimeError("the job runner is stopped")
            if job_id in self._shepherds:
                raise ValueError(f"{job_id} is already running")
            if len(self._shepherds) >= self.max_concurrent:
                raise NoFreeSlot(f"{self.max_concurrent} jobs are running already")
            proc = subprocess.Popen([sys.executable, "-m", SHEPHERD_MODULE], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, close_fds=True, start_new_session=True)
            shepherd = _Shepherd(job_id, proc, start_time(proc.pid) or 0)
            shepherd.thread = threading.Thread(target=self._wait, args=(shepherd,), daemon=True,
                                               name=f"dxconform-job-{job_id}")
            self._shepherds[job_id] = shepherd
        self._send(shepherd, json.dumps(request).encode() + b"\n")
        shepherd.thread.start()

    def terminate(self, job_id: str) -> bool:
        """Ask a job's shepherd to kill it (on_finished follows, reason "terminated"); False if not running."""
        with self._lock:
            shepherd = self._shepherds.get(job_id)
        if shepherd is None:
            return False
        self._send(shepherd, b"terminate\n")
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate every job and wait for their reports; kill what is still alive after `timeout` seconds.

        The runner starts no job afterwards. on_finished is called for each job before stop() returns
        (unless a callback itself takes longer than the timeout).
        """
        with self._lock:
            self._stopped = True
            shepherds = list(self._shepherds.values())
        for shepherd in shepherds:
            self._send(shepherd, b"terminate\n")
        deadline = time.monotonic() + timeout
        for shepherd in shepherds:
            assert shepherd.thread is not None
            shepherd.thread.join(max(0.0, deadline - time.monotonic()))
        for shepherd in shepherds:
            if shepherd.proc.poll() is None:
                log.warning("job %s: its shepherd did not stop in %g s; killing it", shepherd.job_id, timeout)
                kill_shepherd(shepherd.proc.pid)
            assert shepherd.thread is not None
            shepherd.thread.join(KILL_SECONDS)

    def _send(self, shepherd: _Shepherd, data: bytes) -> None:
        with shepherd.stdin_lock:
            stdin = shepherd.proc.stdin
            if stdin is None or stdin.closed:
                return
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, ValueError):  # the shepherd is gone: its thread reports
                pass

    def _wait(self, shepherd: _Shepherd) -> None:
        outcome: dict[str, Any] | None = None
        assert shepherd.proc.stdout is not None
        try:
            for raw in shepherd.proc.stdout:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict) and isinstance(message.get("started"), dict):
                    shepherd.job_pid = message["started"].get("pid")
                elif isinstance(message, dict) and "exit_code" in message:
                    outcome = message
        finally:
            returncode = shepherd.proc.wait()
            with shepherd.stdin_lock:
                try:  # a "terminate" still buffered for a shepherd that is gone: nothing to deliver
                    shepherd.proc.stdin.close()  # type: ignore[union-attr]
                except OSError:
                    pass
            shepherd.proc.stdout.close()
        if outcome is None:
            if shepherd.job_pid:  # what is left of the job that is still findable: its process group
                signal_quietly([shepherd.job_pid], groups=True)
            outcome = lost_outcome(f"the job's shepherd ended with status {returncode} without a report")
        with self._lock:
            del self._shepherds[shepherd.job_id]
        try:
            self.on_finished(shepherd.job_id, outcome)
        except Exception:
            log.exception("job %s: on_finished failed", shepherd.job_id)


def is_shepherd(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return SHEPHERD_MODULE.encode() in f.read().split(b"\0")
    except OSError:
        return False


def kill_shepherd(pid: int) -> None:
    """SIGKILL a shepherd's job tree (each process, and its process group), then the shepherd itself."""
    deadline = time.monotonic() + KILL_SECONDS
    while time.monotonic() < deadline:
        tree = [p for p in descendants(pid) if (stat := proc_stat(p)) is not None and stat[0] != "Z"]
        if not tree:
            break
        groups = {stat[2] for p in tree if (stat := proc_stat(p)) is not None}
        signal_quietly(groups - {pid}, groups=True)
        signal_quietly(tree)
        time.sleep(0.01)
    signal_quietly([pid])


def reap(pids_with_start_times: Iterable[tuple[int, int | str]]) -> list[int]:
    """Kill the shepherds of an earlier server run still alive, with their jobs; the pids killed.

    A pid is killed only when it still has the recorded start time and is a shepherd: a pid reused by
    another process since is spared. Start times may come back from the store as text.
    """
    killed = []
    for pid, recorded in pids_with_start_times:
        current = start_time(int(pid))
        if current is None or current != int(recorded) or not is_shepherd(int(pid)):
            continue
        kill_shepherd(int(pid))
        killed.append(int(pid))
    return killed
