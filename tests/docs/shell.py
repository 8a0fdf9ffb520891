"""Running documented shell commands as a reader would: fenced `sh` blocks, `# exits N` notes, fixed ports.

A page is read as one terminal session: each command runs in bash in the page's own directory, `export` lines
change the environment of the commands after them (evaluated by bash, so `$(...)` and quoting work as typed),
a line ending in `&` starts a server in the background and waits for its `listening on` line, and `kill %N`
stops the N-th of those (as job N of the reader's shell), waiting until it has exited and written its files.
A line ending in `\\` continues on the next one.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from conformance.refserver.server import free_port

DOCS = Path(__file__).resolve().parents[2] / "docs"
_FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXITS = re.compile(r"#\s*exits\s+(\d+)(?:\s+or\s+(\d+))?\s*$")
_COMMENT = re.compile(r"\s+#\s.*$|\s+#$")
# Where a page names a port: --port 8124, 127.0.0.1:8124, DX_APISERVER_PORT=8124. Port 0 (pick a free one)
# stays as written.
_PORT = re.compile(r"(?<=--port )([1-9]\d{3,4})\b|(?<=127\.0\.0\.1:)([1-9]\d{3,4})\b|(?<=_PORT=)([1-9]\d{3,4})\b")
_KILL_JOB = re.compile(r"^kill %(\d+)$")
_ASSIGNED = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")
READY_LINE = "listening on http://"
COMMAND_TIMEOUT_S = 300


@dataclass(frozen=True)
class Command:
    line: str                       # as written, comment removed, continuation lines joined
    exits: frozenset[int]           # the exit codes the page allows (`# exits 1`; default 0)

    @property
    def background(self) -> bool:
        return self.line.endswith("&") and not self.line.endswith("&&")


_HEREDOC = re.compile(r"<<-?'?([A-Za-z_]+)'?\s*$")


def _logical_lines(body: str) -> list[str]:
    """Lines with their `\\` continuations joined (the note `# exits N` goes on the last physical line), and a
    here-document (`cat > f <<'EOF'` ... `EOF`) kept with its command as one multi-line command."""
    lines, pending = [], ""
    physical = iter(body.splitlines())
    for raw in physical:
        heredoc = _HEREDOC.search(raw)
        if heredoc and not pending:
            text = [raw]
            for more in physical:
                text.append(more)
                if more.strip() == heredoc.group(1):
                    break
            lines.append("\n".join(text))
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1].rstrip() + " "
            continue
        lines.append(pending + (raw.strip() if pending else raw))
        pending = ""
    if pending:
        lines.append(pending.rstrip())
    return lines


def sh_blocks(markdown: str) -> list[list[Command]]:
    """The fenced `sh` blocks of a page, as commands (one a line; blank lines and comments skipped)."""
    blocks = []
    for body in _FENCE.findall(markdown):
        commands = []
        for raw in _logical_lines(body):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            note = _EXITS.search(raw)
            exits = frozenset(int(g) for g in note.groups() if g) if note else frozenset({0})
            commands.append(Command(_COMMENT.sub("", raw).strip(), exits))
        blocks.append(commands)
    return blocks


def page_commands(page: Path) -> list[Command]:
    return [command for block in sh_blocks(page.read_text(encoding="utf-8")) for command in block]


class PortMap:
    """Each fixed port a page names, mapped to a free one, the same everywhere it appears: parallel test runs
    must not collide on 8124 (the rewrite changes only the number)."""

    def __init__(self):
        self.ports: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        def swap(match: re.Match) -> str:
            written = match.group(0)
            if written not in self.ports:
                self.ports[written] = str(free_port())
            return self.ports[written]

        return _PORT.sub(swap, text)


def dxconform_bin_dir(tmp: Path) -> Path:
    """A directory whose `dxconform` is this interpreter's: the installed script beside it, else a shim."""
    beside = Path(sys.executable).parent
    if (beside / "dxconform").is_file():
        return beside
    shim_dir = tmp / "shim-bin"
    shim_dir.mkdir(exist_ok=True)
    shim = shim_dir / "dxconform"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m conformance.cli.main "$@"\n')
    shim.chmod(0o755)
    return shim_dir


@dataclass
class Shell:
    """One reader's terminal: a working directory, an environment that `export` lines change, background
    servers it stops at the end."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    ports: PortMap = field(default_factory=PortMap)
    background: list[subprocess.Popen] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)    # (command as run, its standard output)

    @classmethod
    def fresh(cls, cwd: Path) -> Shell:
        """No DX_*/DXCONFORM_* settings of the test run, and a home of its own (dx keeps its state there)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "DX_", "PYTEST_"))}
        env["PATH"] = f"{dxconform_bin_dir(cwd)}{os.pathsep}{env.get('PATH', '')}"
        home = cwd / ".home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        return cls(cwd, env)

    def run(self, command: Command) -> subprocess.CompletedProcess | None:
        line = self.ports(command.line)
        self.log.append(line)
        if line.startswith("export "):
            self.export(line)
            return None
        if command.background:
            self.start(line[:-1].strip())
            return None
        job = _KILL_JOB.match(line)
        if job:
            self.stop(int(job.group(1)))
            return None
        done = subprocess.run(["bash", "-c", line], cwd=self.cwd, env=self.env, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
        assert done.returncode in command.exits, (
            f"`{line}` exited {done.returncode}, the page says {sorted(command.exits)}\n"
            f"--- stdout (tail)\n{done.stdout[-3000:]}\n--- stderr (tail)\n{done.stderr[-3000:]}")
        self.outputs.append((line, done.stdout))
        return done

    def export(self, line: str) -> None:
        """`export NAME=VALUE ...` as bash evaluates it; the environment it leaves is the shell's from now on."""
        done = subprocess.run(["bash", "-c", f"{line} && env -0"], cwd=self.cwd, env=self.env, capture_output=True,
                              timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"`{line}` exited {done.returncode}: {done.stderr.decode()[-2000:]}"
        exported = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
        for name in _ASSIGNED.findall(line[len("export "):]):
            self.env[name] = exported[name]

    def run_script(self, script: str) -> subprocess.CompletedProcess:
        """A CI step's script, as GitHub runs it (bash -e, pipefail); it must succeed."""
        script = self.ports(script)
        self.log.append(script)
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (f"step failed ({done.returncode}):\n{script}\n--- stdout (tail)\n"
                                      f"{done.stdout[-3000:]}\n--- stderr (tail)\n{done.stderr[-3000:]}")
        return done

    def start(self, line: str, ready_within_s: float = 30.0) -> None:
        """A background server: started, then waited for until it prints its `listening on` line."""
        process = subprocess.Popen(["bash", "-c", f"exec {line}"], cwd=self.cwd, env=self.env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.background.append(process)
        deadline = time.monotonic() + ready_within_s
        seen = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                text = process.stdout.readline()
                seen.append(text)
                if text.startswith(READY_LINE):
                    # Keep reading what it prints, so a full pipe never stalls it.
                    threading.Thread(target=process.stdout.read, daemon=True).start()
                    return
                if not text and process.poll() is not None:
                    break
        raise AssertionError(f"`{line}` did not print {READY_LINE!r}: {''.join(seen)[-2000:]}")

    def stop(self, job: int) -> None:
        """`kill %N`: SIGTERM to the N-th background server, then wait until it has exited."""
        assert 1 <= job <= len(self.background), f"kill %{job}: the page started {len(self.background)} job(s)"
        _terminate(self.background[job - 1])

    def stop_all(self) -> None:
        for process in self.background:
            _terminate(process)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
