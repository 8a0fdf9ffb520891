"""`dxconform proxy` (check live traffic on its way through) and `dxconform validate` (check recorded traffic)."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..output_guard import guard_outputs
from .main import EXIT_FAILED, EXIT_OK, UsageError

DEFAULT_LISTEN = "127.0.0.1:8125"
DEFAULT_PROXY_OUT, DEFAULT_VALIDATE_OUT = "reports/proxy", "reports/validate"
VIOLATIONS_SHOWN = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("proxy", help="validating proxy: forward traffic to a server and check every exchange")
    p.add_argument("--upstream", required=True, metavar="URL", help="base URL of the server to forward to")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"where clients connect (default {DEFAULT_LISTEN}; port 0 picks a free one)")
    p.add_argument("--out", default=DEFAULT_PROXY_OUT, metavar="DIR",
                   help=f"where results.json, report.html and exchanges.har go on stop (default {DEFAULT_PROXY_OUT})")
    p.add_argument("--strict", action="store_true",
                   help="answer an exchange that breaks a MUST rule with an error envelope instead of passing it on")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: at Ctrl-C)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="the longest wait for the upstream's next bytes: its answer, or the next part of its body "
                        "(default 300)")
    p.set_defaults(func=run_proxy)

    v = sub.add_parser("validate", help="check recorded traffic (HAR files) offline with the proxy's checks")
    v.add_argument("files", nargs="+", metavar="FILE.har", help="HAR 1.2 files (e.g. a proxy's exchanges.har)")
    v.add_argument("--out", default=DEFAULT_VALIDATE_OUT, metavar="DIR",
                   help=f"where results.json and report.html go (default {DEFAULT_VALIDATE_OUT})")
    v.set_defaults(func=run_validate)


def _listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen expects HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def _check_upstream(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--upstream must be an http:// or https:// URL, got {url!r}")


def _check_free(host: str, port: int) -> None:
    if port == 0:
        return
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run_proxy(args: argparse.Namespace) -> int:
    from ..proxy.server import ProxyRun
    from ..proxy.upstream import UpstreamError

    _check_upstream(args.upstream)
    host, port = _listen_address(args.listen)
    if args.duration is not None and args.duration <= 0:
        raise UsageError(f"--duration must be > 0, got {args.duration:g}")
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0, got {args.timeout:g}")
    _check_free(host, port)
    proxy = ProxyRun(args.upstream, host=host, port=port, strict=args.strict, timeout=args.timeout)
    try:
        proxy.upstream.probe()
    except UpstreamError as exc:
        raise UsageError(f"cannot reach the upstream {args.upstream}: {exc}") from None

    def ready() -> None:
        print(f"listening on {proxy.url}", flush=True)
        print(f"forwarding to {proxy.upstream.base_url}{' (strict)' if args.strict else ''}; "
              f"stop with Ctrl-C{f' or after {args.duration:g} s' if args.duration else ''}", flush=True)

    # SIGTERM stops the proxy like Ctrl-C does, so the outputs are still written.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    # Every token a client sends is scrubbed from stdout, stderr, logs and warnings (output_guard.py).
    with guard_outputs() as guard:
        proxy.traffic.on_new_token = lambda token: guard.add([token])
        try:
            proxy.serve(duration=args.duration, on_ready=ready)
        except KeyboardInterrupt:
            pass
        except (OSError, SystemExit) as exc:  # uvicorn exits when it cannot bind (a race with _check_free)
            raise UsageError(f"cannot listen on {host}:{proxy.port}: {exc}") from None
        if not proxy.server.started:
            raise UsageError(f"the proxy could not listen on {host}:{proxy.port}")
        document, files = proxy.finish(Path(args.out))
        code = _report(document, files)
        if proxy.traffic.checker_lost:
            print(f"error: {proxy.traffic.checker_lost}; the checks it held are lost: {files['results']} holds "
                  "only what the proxy checked itself (the HAR is complete: `dxconform validate` checks it all)",
                  file=sys.stderr)
            return 2
        return code


def run_validate(args: argparse.Namespace) -> int:
    from ..proxy.har import HarError
    from ..proxy.validate import validate

    try:
        document, files = validate(args.files, Path(args.out))
    except HarError as exc:
        raise UsageError(str(exc)) from None
    return _report(document, files)


def _report(document: Mapping[str, Any], files: Mapping[str, Path]) -> int:
    """Print what was seen and found; the exit code of the contract (0, or 1 for a MUST violation)."""
    from ..reporting.results_json import exit_code

    traffic, results = document["traffic"], document["results"]
    broken = [r for r in results if r["outcome"] in ("failed", "error")]
    print(f"{traffic['api']} API exchange(s), {traffic['content']} upload/download exchange(s), "
          f"{traffic['no_answer']} without an answer")
    if traffic.get("over_limit"):
        print(f"{traffic['over_limit']} exchange(s) past the proxy's size limits (docs/proxy.md): passed on as "
              f"they came or refused, recorded cut, with a `_dxconform.limit` note in the HAR")
    by_side = {side: sum(1 for r in broken if r.get("side") == side) for side in ("client", "server")}
    print(f"{len(results)} (check, route) results: {len(results) - len(broken)} held, {len(broken)} broken "
          f"(client side {by_side['client']}, server side {by_side['server']})")
    for result in broken[:VIOLATIONS_SHOWN]:
        check, _, route = result["id"].removeprefix("checks/").partition("::")
        print(f"  {result['side']:6} {result['level']:6} {check} {route}: {result['message']}")
    if len(broken) > VIOLATIONS_SHOWN:
        print(f"  ... and {len(broken) - VIOLATIONS_SHOWN} more in {files['report']}")
    for label, path in files.items():
        print(f"{label}: {path}")
    sys.stdout.flush()
    return EXIT_FAILED if exit_code(document) else EXIT_OK
