"""The shepherd of one job: runs its command with limits, logs its output, and leaves no process behind.

Run as `python -m conformance.refserver.job_process`, one shepherd per job (job_runner.py starts them); it
imports only the standard library, so it starts quickly. Linux only (/proc, PR_SET_CHILD_SUBREAPER).

Protocol. stdin: one JSON line, the request
    {"argv": [str, ...], "cwd": str, "env": {str: str}, "log_path": str,
     "limits": {"cpu_seconds", "memory_bytes", "wall_seconds", "log_bytes"}}        (a limit of 0: none)
(`env` is the command's whole environment), then control lines: `terminate` ends the job; EOF on stdin
(the server closed the pipe or died, kill -9 included) ends it too. stdout: JSON lines, first
{"started": {"pid": int}} once the command runs (its process group is that pid), then the outcome:
    {"exit_code": int | null, "signal": int | null, "reason": str | null,
     "cpu_seconds": float, "max_rss_kb": int, "log_truncated": bool}     (+ "error": str for the last two reasons)
reason: null (the command ended by itself), "terminated" (a terminate line), "server-gone" (stdin EOF),
"wall-limit", "cpu-limit", "memory-limit", "start-failed" (the command could not be started: no such
program, bad cwd), "shepherd-error" (a bad request, an unwritable log, the shepherd's own failure).

How the job runs: the shepherd makes itself a child subreaper, so every orphaned descendant (a daemon that
double-forked, a `setsid` child) is re-parented to it and stays findable through /proc. The command runs in a
new session (its own process group) with stdin /dev/null, RLIMIT_CPU and RLIMIT_AS from the limits, and
RLIMIT_CORE 0 (SIGXCPU would dump core into the job's directory). Each line of stdout and stderr is appended to
log_path as {"t": ms since the epoch, "fd": "stdout" | "stderr", "line": text} (UTF-8, invalid bytes replaced;
a line longer than LINE_BYTES is split); once the log reaches log_bytes, one line {"fd": "system", "line": "log
truncated at N bytes"} is written and later lines are dropped while the pipes are still drained. A start
failure is logged as a "system" line too. When the command's main process ends, on `terminate`, on stdin EOF
and at the wall limit, the shepherd kills the whole tree: SIGKILL to the process group, then to every
descendant found through /proc (ppid links), again until none is left, reaping the zombies.

What the outcome can know. exit_code/signal are the main process's. cpu_seconds and max_rss_kb come from
getrusage(RUSAGE_CHILDREN): every process of the tree is reaped by its parent or by the shepherd, so the
figures cover the whole tree (max_rss_kb is the largest single process). The CPU limit is per process
(RLIMIT_CPU): "cpu-limit" is reported when the main process died of SIGXCPU, or of SIGKILL after using up its
CPU budget (the hard limit), or exited with status 128 + SIGXCPU (a shell whose child died of SIGXCPU), or
when a process the shepherd reaped itself died of SIGXCPU and the job failed. A process hitting the memory
limit (RLIMIT_AS, per process, address space) is not signalled: its allocation fails, and what follows is up
to the program. "memory-limit" is therefore a guess: the job failed, a memory limit was in force, and stderr
showed a failed allocation (MemoryError, "Cannot allocate memory", std::bad_alloc, "out of memory").
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import re
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

PR_SET_CHILD_SUBREAPER = 36
# Longest log line, in bytes of UTF-8: a longer line is split into several records.
LINE_BYTES = 16 * 1024
# How long killing a tree may take before the shepherd gives up on processes that will not die
# (uninterruptible sleep); it still reports.
KILL_SECONDS = 10.0
# After the tree is dead, how long to wait for the pipes' EOF (a process outside the tree holding them).
DRAIN_SECONDS = 2.0
_OUT_OF_MEMORY = re.compile(rb"MemoryError|Cannot allocate memory|std::bad_alloc|out of memory", re.IGNORECASE)


class RequestError(ValueError):
    """The request line is not what the protocol says."""


# -- processes, through /proc ------------------------------------------------------------------------------

def proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgrp, start time in clock ticks since boot) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[19])


def start_time(pid: int) -> int | None:
    """The start time of a process (clock ticks since boot): with its pid, a name no reuse can fake."""
    stat = proc_stat(pid)
    return None if stat is None else stat[3]


def descendants(root: int) -> list[int]:
    """Every process below `root` by ppid links, parents before their children, zombies included."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = proc_stat(int(name))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def signal_quietly(pids: Iterable[int], sig: int = signal.SIGKILL, *, groups: bool = False) -> None:
    """Send `sig` to each process (or process group), ignoring those already gone; never to our own group."""
    own_group = os.getpgrp()
    for pid in pids:
        if pid <= 1 or (groups and pid == own_group):
            continue
        try:
            os.killpg(pid, sig) if groups else os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


# -- the shepherd ------------------------------------------------------------------------------------------

def parse_request(line: bytes) -> dict:
    try:
        request = json.loads(line)
    except ValueError as exc:
        raise RequestError(f"the request is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise RequestError("the request must be a JSON object")
    argv, cwd, env = request.get("argv"), request.get("cwd"), request.get("env")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise RequestError("argv must be a non-empty array of strings")
    if not isinstance(cwd, str):
        raise RequestError("cwd must be a string")
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise RequestError("env must be an object of strings")
    if not isinstance(request.get("log_path"), str):
        raise RequestError("log_path must be a string")
    limits = request.get("limits")
    if not isinstance(limits, dict):
        raise RequestError("limits must be an object")
    for key in ("cpu_seconds", "memory_bytes", "wall_seconds", "log_bytes"):
        value = limits.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
            raise RequestError(f"limits.{key} must be a number >= 0")
    return request


def _set_limit(which: int, value: int, hard_extra: int = 0) -> None:
    """Set a resource limit in the child, within the hard limit it inherited."""
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
        new_hard = min(value + hard_extra, hard)
    else:
        new_hard = value + hard_extra
    resource.setrlimit(which, (value, new_hard))


def _utf8_cut(buf: bytearray, limit: int) -> int:
    """Where to split `buf` at most `limit` bytes in without cutting a UTF-8 sequence."""
    cut = limit
    while cut > limit - 3 and cut > 1 and (buf[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


class Shepherd:
    def __init__(self, request: dict, control: bytes = b""):
        self.argv: list[str] = request["argv"]
        self.cwd: str = request["cwd"]
        self.env: dict[str, str] = request["env"]
        self.log_path: str = request["log_path"]
        limits = request["limits"]
        self.cpu_seconds = math.ceil(limits.get("cpu_seconds", 0))
        self.memory_bytes = int(limits.get("memory_bytes", 0))
        self.wall_seconds = float(limits.get("wall_seconds", 0))
        self.log_bytes = int(limits.get("log_bytes", 0))
        self.log = None
        self.log_written = 0
        self.log_truncated = False
        self.proc: subprocess.Popen | None = None
        self.status: int | None = None  # the main process's wait status, once reaped
        self.main_cpu = 0.0
        self.reason: str | None = None
        self.tree_killed = False
        self.orphan_xcpu = False  # a process reaped by the shepherd itself died of SIGXCPU
        self.saw_out_of_memory = False
        self.buffers: dict[int, bytearray] = {}
        self.names: dict[int, str] = {}
        self.control = bytearray(control)  # control bytes read with the request line, not yet acted on

    # -- log
    def write_record(self, fd_name: str, text: str, *, system: bool = False) -> None:
        if self.log is None or (self.log_truncated and not system):
            return
        record = (json.dumps({"t": int(time.time() * 1000), "fd": fd_name, "line": text}, ensure_ascii=False)
                  + "\n").encode()
        if not system and self.log_bytes and self.log_written + len(record) > self.log_bytes:
            self.log_truncated = True
            self.write_record("system", f"log truncated at {self.log_bytes} bytes", system=True)
            return
        self.log.write(record)
        self.log_written += len(record)

    def emit_line(self, fd: int, raw: bytes) -> None:
        if self.names[fd] == "stderr" and not self.saw_out_of_memory and _OUT_OF_MEMORY.search(raw[:4096]):
            self.saw_out_of_memory = True
        self.write_record(self.names[fd], raw.decode("utf-8", errors="replace"))

    def take_lines(self, fd: int, final: bool = False) -> None:
        buf = self.buffers[fd]
        while buf:
            newline = buf.find(b"\n", 0, LINE_BYTES + 1)
            if newline != -1:
                line = bytes(buf[:newline])
                del buf[: newline + 1]
                self.emit_line(fd, line[:-1] if line.endswith(b"\r") else line)
            elif len(buf) > LINE_BYTES:
                cut = _utf8_cut(buf, LINE_BYTES)
                self.emit_line(fd, bytes(buf[:cut]))
                del buf[:cut]
            else:
                break
        if final and buf:
            self.emit_line(fd, bytes(buf))
            buf.clear()

    # -- processes
    def reap(self) -> None:
        """Wait for every child that has ended (the main process, or orphans re-parented to the shepherd)."""
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.proc is not None and pid == self.proc.pid:
                self.status = status
                self.main_cpu = usage.ru_utime + usage.ru_stime
                self.proc.returncode = os.waitstatus_to_exitcode(status)
            elif os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU and not self.tree_killed:
                self.orphan_xcpu = True

    def kill_tree(self) -> None:
        """SIGKILL the command's process group, then every descendant, until none is left; reap them all."""
        self.tree_killed = True
        if self.proc is not None:
            signal_quietly([self.proc.pid], groups=True)
        deadline = time.monotonic() + KILL_SECONDS
        while True:
            self.reap()
            left = descendants(os.getpid())
            if not left or time.monotonic() > deadline:
                return
            signal_quietly(left)
            time.sleep(0.005)

    def start(self) -> None:
        def limit_child() -> None:  # runs in the child between fork and exec (the shepherd has one thread)
            resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
            if self.cpu_seconds:
                _set_limit(resource.RLIMIT_CPU, self.cpu_seconds, hard_extra=1)
            if self.memory_bytes:
                _set_limit(resource.RLIMIT_AS, self.memory_bytes)

        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True, close_fds=True, preexec_fn=limit_child)

    def run(self) -> dict:
        """Run the command to its end; the outcome (without the resource figures)."""
        self.log = open(self.log_path, "ab")  # closed in main()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the select below through wake_w
        selector = selectors.DefaultSelector()
        try:
            return self.watch(selector, wake_r)
        finally:
            signal.set_wakeup_fd(-1)
            selector.close()
            os.close(wake_r)
            os.close(wake_w)

    def watch(self, selector: selectors.BaseSelector, wake_r: int) -> dict:
        try:
            self.start()
        except (OSError, ValueError, subprocess.SubprocessError) as exc:  # ValueError: a NUL in argv or env
            self.write_record("system", f"cannot start the job's command: {exc}", system=True)
            return {"exit_code": None, "signal": None, "reason": "start-failed", "error": str(exc)}
        assert self.proc is not None and self.proc.stdout is not None and self.proc.stderr is not None
        write_line({"started": {"pid": self.proc.pid}})
        deadline = time.monotonic() + self.wall_seconds if self.wall_seconds else math.inf
        for stream, name in ((self.proc.stdout, "stdout"), (self.proc.stderr, "stderr")):
            fd = stream.fileno()
            os.set_blocking(fd, False)
            self.buffers[fd], self.names[fd] = bytearray(), name
            selector.register(fd, selectors.EVENT_READ, name)
        os.set_blocking(0, False)
        selector.register(0, selectors.EVENT_READ, "control")
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        drain_until = math.inf
        self.act_on_control()
        while True:
            pipes_open = any(key.data in ("stdout", "stderr") for key in selector.get_map().values())
            if self.status is not None and not pipes_open:
                break
            if time.monotonic() > drain_until:  # the tree is dead but something outside holds the pipes
                break
            timeout = min(deadline, drain_until) - time.monotonic()
            for key, _ in selector.select(max(0.0, min(timeout, 1.0))):
                if key.data == "wake":
                    while _read(wake_r):
                        pass
                elif key.data == "control":
                    data = _read(0)
                    if data is None:
                        continue
                    if not data:
                        selector.unregister(0)
                        self.end("server-gone")
                    self.control += data
                    self.act_on_control()
                else:
                    data = _read(key.fd)
                    if data is None:
                        continue
                    if data:
                        self.buffers[key.fd] += data
                        self.take_lines(key.fd)
                    else:
                        selector.unregister(key.fd)
                        self.take_lines(key.fd, final=True)
            self.log.flush()
            self.reap()
            if self.status is None and time.monotonic() >= deadline:
                self.end("wall-limit")
            if self.status is not None and not self.tree_killed:
                self.kill_tree()  # the main process is done: its leftovers go with it
            if self.tree_killed and drain_until == math.inf:
                drain_until = time.monotonic() + DRAIN_SECONDS
        for fd in self.buffers:
            self.take_lines(fd, final=True)
        return self.outcome()

    def act_on_control(self) -> None:
        while b"\n" in self.control:
            line, _, rest = bytes(self.control).partition(b"\n")
            self.control[:] = rest
            if line.strip() == b"terminate":
                self.end("terminated")

    def end(self, reason: str) -> None:
        """End the job for `reason`, unless it already ended by itself or for another reason."""
        if self.status is None and self.reason is None:
            self.reason = reason
        if not self.tree_killed:
            self.kill_tree()

    def outcome(self) -> dict:
        if self.status is None:  # the main process could not be reaped (it would not die): report what we know
            return {"exit_code": None, "signal": None, "reason": self.reason}
        exit_code = os.WEXITSTATUS(self.status) if os.WIFEXITED(self.status) else None
        sig = os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None
        reason = self.reason
        if reason is None and (exit_code or sig):
            if self.cpu_seconds and (
                    sig == signal.SIGXCPU or exit_code == 128 + signal.SIGXCPU or self.orphan_xcpu
                    or (sig == signal.SIGKILL and self.main_cpu >= self.cpu_seconds)):
                reason = "cpu-limit"
            elif self.memory_bytes and self.saw_out_of_memory:
                reason = "memory-limit"
        return {"exit_code": exit_code, "signal": sig, "reason": reason}


def _read(fd: int) -> bytes | None:
    """What a non-blocking fd has to give: bytes, b"" at EOF, None if nothing yet."""
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None


def write_line(message: dict) -> None:
    try:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # the server is gone: nobody to tell, and nothing to flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def read_request_line() -> tuple[bytes | None, bytes]:
    """The first line of stdin (None at EOF before it) and whatever followed it in the same reads."""
    buf = bytearray()
    while b"\n" not in buf:
        data = os.read(0, 65536)
        if not data:
            return None, b""
        buf += data
    line, _, rest = bytes(buf).partition(b"\n")
    return line, rest


def ignore_stop_signals() -> None:
    """From here on the shepherd is cleaning up: a second SIGTERM must not stop it halfway."""
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)


def main() -> int:
    usage_keys = {"cpu_seconds": 0.0, "max_rss_kb": 0, "log_truncated": False}
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # -> KeyboardInterrupt: the finally below
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    line, control = read_request_line()
    if line is None:
        return 0  # the server went away before asking anything
    shepherd: Shepherd | None = None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
        shepherd = Shepherd(parse_request(line), control)
        outcome = shepherd.run()
    except (RequestError, OSError) as exc:
        outcome = {"exit_code": None, "signal": None, "reason": "shepherd-error", "error": str(exc)}
    except KeyboardInterrupt:  # SIGTERM, SIGHUP or SIGINT to the shepherd: the job is terminated
        ignore_stop_signals()
        outcome = {"exit_code": None, "signal": None, "reason": "terminated"}
        if shepherd is not None and shepherd.proc is not None:
            shepherd.end("terminated")
            outcome = shepherd.outcome()
    except BaseException as exc:  # the shepherd's own failure: still no process left, still a report
        outcome = {"exit_code": None, "signal": None, "reason": "shepherd-error", "error": repr(exc)}
    finally:
        ignore_stop_signals()
        if shepherd is not None:
            shepherd.kill_tree()
            if shepherd.log is not None:
                shepherd.log.close()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage_keys.update(cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3), max_rss_kb=usage.ru_maxrss,
                      log_truncated=shepherd is not None and shepherd.log_truncated)
    write_line({**outcome, **usage_keys})
    return 0


if __name__ == "__main__":
    sys.exit(main())
