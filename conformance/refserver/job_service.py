"""Running jobs for the app: starts the processes executions.py asks for, feeds their ends back, keeps time.

Every step on the store runs on the app's handler thread (worker.py), one at a time with the requests, each
in its own transaction: after a request (`after_request`), when a job's process ends (the runner's callback
hands it over), and on a clock every CLOCK_SECONDS while jobs are going (files finish closing on their own).
Processes start on the handler thread once their transaction has committed. At start-up, shepherds of an
earlier run of the same --db file are killed (job_runner.reap) and their jobs fail as lost.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import analyses, executions, job_runner, job_workdir
from .context import Context, Settings
from .db import Database, now_ms
from .worker import HandlerThread

log = logging.getLogger("dxconform.refserver.jobs")

CLOCK_SECONDS = 0.25
# States in which a job may still move, or holds a process.
GOING = ("idle", "waiting_on_input", "runnable", "running", "waiting_on_output", "terminating")


@dataclasses.dataclass(frozen=True)
class Steps:
    """The steps the service takes on the store (executions.advance, executions.process_ended,
    analyses.settle), as one value: a deliberate fault (faults/registry.py `steps`) may wrap them; nothing else does."""

    advance: Callable[..., list[executions.Launch]] = executions.advance
    process_ended: Callable[..., None] = executions.process_ended
    settle_analyses: Callable[..., None] = analyses.settle


class JobService:
    def __init__(self, db: Database, settings: Settings, handlers: HandlerThread, steps: Steps | None = None):
        self.db = db
        self.settings = settings
        self.handlers = handlers
        self.steps = steps or Steps()
        self.root = Path(tempfile.mkdtemp(prefix="dxref-jobs-"))
        self.runner = job_runner.JobRunner(settings.job_limits, settings.max_jobs, self._process_ended)
        self._stopping = threading.Event()
        self._clock: threading.Thread | None = None
        self._tick_queued = threading.Lock()
        self._reap_earlier_run()

    # -- lifecycle -------------------------------------------------------------------------------------
    def _context(self) -> Context:
        return Context(self.db, self.settings, "(jobs)", None, None, now_ms(), {}, "")

    def _reap_earlier_run(self) -> None:
        rows = self.db.conn.execute("SELECT job_id, pid, start_time FROM job_processes").fetchall()
        if rows:
            job_runner.reap([(r["pid"], r["start_time"]) for r in rows])
        with self.db.transaction():
            self.db.conn.execute("DELETE FROM job_processes")
            lost = executions.lost_on_restart(self._context())
        if lost:
            log.warning("%d job(s) were running when the server last stopped: they failed (UnresponsiveWorker)",
                        lost)

    def stop(self, timeout: float = 10.0) -> None:
        """Kill every job process (nothing is left behind), stop the clock, remove the working directories."""
        self._stopping.set()
        self.runner.stop(timeout)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- on the handler thread -------------------------------------------------------------------------
    def after_request(self) -> None:
        """After each API request: move whatever jobs can move (cheap when no job is going)."""
        if self._stopping.is_set():
            return
        if self._jobs_going():
            self.tick()

    def _jobs_going(self) -> bool:
        """A job that may still move, or an analysis that has not ended (it follows its stage jobs)."""
        return self.db.conn.execute(f"SELECT 1 FROM jobs WHERE state IN ({','.join('?' * len(GOING))}) LIMIT 1",
                                    GOING).fetchone() is not None or analyses.going(self._context())

    def tick(self) -> None:
        if self._stopping.is_set():
            return
        with self.db.transaction():
            ctx = self._context()
            self.db.settle_closing(ctx.now)
            launches = self.steps.advance(ctx, self.runner.free_slots(), self.settings.run_jobs)
            self.steps.settle_analyses(ctx)
            stray = self._strays()
        for job_id in stray:
            self.runner.terminate(job_id)
        for launch in launches:
            self._launch(launch)
        self._keep_clock()

    def _strays(self) -> list[str]:
        """Jobs whose process runs although the job has ended or is terminating: to be killed."""
        running = self.runner.running()
        if not running:
            return []
        marks = ",".join("?" * len(running))
        return [r["id"] for r in self.db.conn.execute(
            f"SELECT id FROM jobs WHERE id IN ({marks}) AND state != 'running'", list(running))]

    def _launch(self, launch: executions.Launch) -> None:
        try:
            prepared = job_workdir.prepare(self.root, launch)
            limits = self.settings.job_limits
            if launch.timeout_seconds is not None:
                # At least a second: 0 would mean "no limit" to the shepherd, not "no time at all".
                timeout = max(launch.timeout_seconds, 1.0)
                wall = min(limits.wall_seconds or timeout, timeout)
            else:
                wall = limits.wall_seconds
            self.runner.start(launch.job_id, prepared.argv, prepared.cwd, prepared.env, prepared.log_path,
                              dataclasses.replace(limits, wall_seconds=wall))
        except Exception as exc:  # the job cannot start: it fails, the server goes on
            log.error("job %s could not start: %s", launch.job_id, exc)
            with self.db.transaction():
                self.steps.process_ended(self._context(), launch.job_id, executions.ProcessEnd(
                    exit_code=None, reason="could-not-start"))
            return
        pid = self.runner.pids().get(launch.job_id)
        if pid is not None:
            with self.db.transaction():
                self.db.conn.execute("INSERT OR REPLACE INTO job_processes(job_id, pid, start_time) VALUES (?,?,?)",
                                     (launch.job_id, pid[0], str(pid[1])))

    def _finish(self, job_id: str, outcome: dict[str, Any]) -> None:
        home = self.root / job_id
        error, error_problem = job_workdir.read_result(home, "job_error.json")
        output, output_problem = job_workdir.read_result(home, "job_output.json")
        if output is not None and not isinstance(output, dict):
            output, output_problem = None, "job_output.json does not hold a JSON object"
        end = executions.ProcessEnd(
            exit_code=outcome.get("exit_code"), signal=outcome.get("signal"), reason=outcome.get("reason"),
            error=error, error_unreadable=error_problem is not None, output=output, output_problem=output_problem,
            extra=outcome)
        with self.db.transaction():
            self.db.conn.execute("DELETE FROM job_processes WHERE job_id = ?", (job_id,))
            self.steps.process_ended(self._context(), job_id, end)
        shutil.rmtree(home, ignore_errors=True)
        self.tick()

    # -- from other threads ------------------------------------------------------------------------------
    def _process_ended(self, job_id: str, outcome: dict[str, Any]) -> None:
        """The runner's callback (a waiting thread): the rest happens on the handler thread."""
        if not self._stopping.is_set():
            self.handlers.submit(self._finish, job_id, outcome)

    def _keep_clock(self) -> None:
        if self._clock is None or not self._clock.is_alive():
            self._clock = threading.Thread(target=self._run_clock, name="dxconform-job-clock", daemon=True)
            self._clock.start()

    def _run_clock(self) -> None:
        """While jobs are going, a tick every CLOCK_SECONDS (never two queued at once); ends when none is."""
        while not self._stopping.wait(CLOCK_SECONDS):
            if not self._tick_queued.acquire(blocking=False):
                continue
            future = self.handlers.submit(self._clock_tick)
            future.add_done_callback(lambda _f: self._tick_queued.release())
            try:
                if not future.result(timeout=60):
                    return
            except Exception:  # noqa: BLE001 - logged; the clock keeps going
                log.exception("job clock tick failed")

    def _clock_tick(self) -> bool:
        """One tick; False once nothing is going (the clock stops until the next job)."""
        self.tick()
        return self._jobs_going() or bool(self.runner.running())

