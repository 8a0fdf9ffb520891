"""Running the reference server: in a background thread (tests, embedded runs) or in the foreground (serve)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from .app import RefServerApp
from .context import Settings
from .db import Database
from .guard import RequestGuard
from .http_protocol import protocol_class
from .limits import DEFAULT_SERVER_LIMITS, ServerLimits

# The optional profiles this server implements every route of (schemas/routes.json): a run against the embedded
# server claims them, so one route of theirs missing fails that run.
CLAIMED_PROFILES = ("executables", "workflows", "apps")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_config(app: RefServerApp, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration with the app's limits (ServerLimits): header timeout, connection cap. `app` is
    a RefServerApp or a wrapper of one that holds it as `.app` (guard.RequestGuard); other apps get the
    default limits."""
    limits: ServerLimits = getattr(app, "limits", None) or getattr(getattr(app, "app", None), "limits", None) \
        or DEFAULT_SERVER_LIMITS
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                          timeout_keep_alive=30, timeout_graceful_shutdown=1,
                          http=protocol_class(limits.header_seconds, limits.max_connections),
                          # a backstop only: the protocol closes a connection beyond the cap at once
                          limit_concurrency=limits.max_connections + 1)


class RefServer:
    """The reference server on a loopback port in a daemon thread: `with RefServer() as srv: srv.url`."""

    def __init__(self, db_path: str | None = None, settings: Settings | None = None,
                 host: str = "127.0.0.1", port: int = 0, limits: ServerLimits | None = None):
        self.settings = settings or Settings()
        self.host = host
        self.port = port or free_port(host)
        self.app = RefServerApp(Database(db_path), self.settings, limits)
        self._server = uvicorn.Server(make_config(RequestGuard(self.app, self.host, self.port), self.host, self.port))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def token(self, user: str = "alice") -> str:
        return self.settings.users[user]

    def start(self, timeout: float = 10.0) -> RefServer:
        self._thread = threading.Thread(target=self._server.run, name="dxconform-refserver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"reference server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self.app.budget.abort()  # a long request ends now, so shutdown need not wait for it
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.app.close()

    def __enter__(self) -> RefServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(host: str, port: int, db_path: str | None, settings: Settings) -> None:
    """`dxconform serve`: print the URL and the users once ready, then serve until interrupted."""
    app = RefServerApp(Database(db_path), settings)
    server = uvicorn.Server(make_config(RequestGuard(app, host, port), host, port))

    original_startup = server.startup

    async def startup(sockets=None):
        await original_startup(sockets=sockets)
        if server.started:
            print(f"listening on http://{f'[{host}]' if ':' in host else host}:{port}", flush=True)
            for name, token in settings.users.items():
                print(f"user user-{name} token {token}", flush=True)
            print(f"web pages allowed (CORS): {', '.join(settings.cors_origins) or 'none'}", flush=True)
            if settings.run_jobs:
                print(f"jobs: on, up to {settings.max_jobs} at once. Jobs run the applets' code as this user, on "
                      "this machine: an emulator for trusted code, not a sandbox (--no-jobs to refuse)", flush=True)
            else:
                print("jobs: off (--no-jobs): every job fails with ExecutionError", flush=True)

    original_shutdown = server.shutdown

    async def shutdown(sockets=None):
        # Before uvicorn re-raises SIGTERM (which ends the process): no job process outlives the server. Only
        # the jobs: a request still running is ended by the process exit, not waited for.
        await original_shutdown(sockets=sockets)
        app.budget.abort()
        app.jobs.stop()

    server.startup = startup
    server.shutdown = shutdown
    try:
        server.run()
    finally:  # whatever ended the loop (kill -9 is job_process.py's: it sees its pipe close)
        app.close()
