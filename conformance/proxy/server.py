"""Running the proxy: on a loopback port in a thread (tests) or in the foreground (the CLI), then its outputs."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from .. import __version__
from ..redaction import redactor
from ..spec import Spec, load_spec
from .app import MAX_REQUEST_BYTES, ProxyApp
from .monitor import Monitor
from .outputs import HAR, results_document, write_reports
from .traffic import Traffic
from .upstream import MAX_BODY_BYTES, Upstream

REPORT_TITLE = "dxconform proxy: live DNAnexus API traffic"
# How long a stopping proxy waits for exchanges in flight (a slow upstream's): then they are recorded as
# interrupted and the proxy stops, so `--duration S` ends within a second of S.
GRACE_SECONDS = 0.5


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ProxyRun:
    """One proxy run: `with ProxyRun(upstream).start() as proxy: ... proxy.url ...`, then `proxy.finish(out)`."""

    def __init__(self, upstream_url: str, *, host: str = "127.0.0.1", port: int = 0, strict: bool = False,
                 timeout: float = 300.0, spec: Spec | None = None, max_body_bytes: int = MAX_BODY_BYTES,
                 max_request_bytes: int = MAX_REQUEST_BYTES):
        self.spec = spec or load_spec()
        self.upstream = Upstream(upstream_url, timeout=timeout, max_body_bytes=max_body_bytes)
        self.monitor = Monitor(self.spec)
        # Checked in a child process (checker.py), except in strict mode: there the answer waits for its checks.
        self.traffic = Traffic(self.monitor, checker_process=not strict)
        self.strict = strict
        self.app = ProxyApp(self.upstream, self.traffic, strict=strict, max_request_bytes=max_request_bytes,
                            stopping=lambda: bool(self.server.should_exit))
        self.host, self.port = host, port or free_port(host)
        self.server = uvicorn.Server(uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", access_log=False, lifespan="off",
            server_header=False, date_header=False, timeout_keep_alive=30,
            timeout_graceful_shutdown=GRACE_SECONDS))
        self._close_upstream_on_shutdown()
        self.started_ms = int(time.time() * 1000)
        self._thread: threading.Thread | None = None
        self._finished: tuple[dict[str, Any], dict[str, Path]] | None = None

    def _close_upstream_on_shutdown(self) -> None:
        """Once uvicorn has shut down (in a thread or in the foreground), the idle upstream connections are
        closed on the event loop, before asyncio.run closes it."""
        original_shutdown = self.server.shutdown

        async def shutdown(sockets=None):
            try:
                await original_shutdown(sockets=sockets)
            finally:
                self.upstream.close_idle()

        self.server.shutdown = shutdown

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- in a thread ------------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> ProxyRun:
        self._thread = threading.Thread(target=self.server.run, name="dxconform-proxy", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the proxy did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> ProxyRun:
        return self if self.server.started else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.traffic.close()

    # -- in the foreground ------------------------------------------------------------------------------
    def serve(self, duration: float | None = None, on_ready=None) -> None:
        """Serve until interrupted (Ctrl-C: uvicorn stops, then re-raises KeyboardInterrupt) or `duration` s."""
        original_startup = self.server.startup

        async def startup(sockets=None):
            await original_startup(sockets=sockets)
            if self.server.started and on_ready is not None:
                on_ready()

        self.server.startup = startup
        timer = None
        if duration is not None:
            timer = threading.Timer(duration, lambda: setattr(self.server, "should_exit", True))
            timer.daemon = True
            timer.start()
        try:
            self.server.run()
        finally:
            if timer is not None:
                timer.cancel()

    # -- outputs ----------------------------------------------------------------------------------------
    def finish(self, out: str | Path) -> tuple[dict[str, Any], dict[str, Path]]:
        """Stop if running, wait for the last checks, and write results.json, report.html and the HAR."""
        if self._finished is not None:
            return self._finished
        self.stop()
        self.traffic.close()
        self.upstream.close()
        out = Path(out)
        document = results_document(self.traffic.results(), self.traffic.counts(), schemas_sha256=self.spec.sha256,
                                    server_url=self.upstream.base_url, started_ms=self.started_ms,
                                    finished_ms=int(time.time() * 1000), mode="proxy-strict" if self.strict
                                    else "proxy")
        secrets = self.traffic.known_secrets()
        document = redactor(secrets).scrub_json(document)   # what is printed is what is written: no token
        files = write_reports(out, document, secrets, REPORT_TITLE)
        files["har"] = self.traffic.write_har(out / HAR, secrets, creator_version=__version__,
                                              notes={"upstream": self.upstream.base_url, "proxy": self.url,
                                                     "strict": self.strict})
        self._finished = (document, files)
        return self._finished
