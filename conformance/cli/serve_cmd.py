"""`dxconform serve`: the reference server in the foreground."""

from __future__ import annotations

import argparse
import re

from .main import UsageError

_USER = re.compile(r"^([A-Za-z0-9._-]+):(\S+)$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the reference server (a local DNAnexus API)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8124, help="port (default 8124; 0 picks a free one)")
    p.add_argument("--db", metavar="PATH", help="SQLite file for durable storage (default: in memory)")
    p.add_argument("--user", action="append", default=[], metavar="NAME:TOKEN",
                   help="add a user (repeatable); alice and bob always exist")
    p.add_argument("--closing-ms", type=int, default=None, help="how long files stay 'closing' (ms)")
    p.add_argument("--latency-ms", type=int, default=0, metavar="MS",
                   help="delay every answer by MS milliseconds, as a remote server would (default 0)")
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="switch on a deliberate fault (repeatable; --fault list shows them)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..refserver.context import Settings
    from ..refserver.faults import FAULTS
    from ..refserver.server import free_port, serve_forever

    if "list" in args.fault:
        for f in FAULTS.values():
            print(f"{f.name:28} {f.area:12} breaks: {f.rule}")
        return 0
    unknown = sorted(set(args.fault) - set(FAULTS))
    if unknown:
        raise UsageError(f"unknown fault {unknown[0]!r} (dxconform serve --fault list shows them)")
    settings = Settings(faults=frozenset(args.fault))
    for spec in args.user:
        m = _USER.match(spec)
        if not m:
            raise UsageError(f"--user expects NAME:TOKEN, got {spec!r}")
        settings.users[m.group(1)] = m.group(2)
    if args.closing_ms is not None:
        if args.closing_ms < 0:
            raise UsageError("--closing-ms must be >= 0")
        settings.closing_ms = args.closing_ms
    if args.latency_ms < 0:
        raise UsageError("--latency-ms must be >= 0")
    settings.latency_ms = args.latency_ms
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {args.port}")
    port = args.port or free_port(args.host)
    try:
        serve_forever(args.host, port, args.db, settings)
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{port}: {exc}") from None
    return 0
