"""`dxconform serve`: the reference server in the foreground."""

from __future__ import annotations

import argparse
import errno
import re
import socket
from dataclasses import dataclass

from ..refserver.limits import DEFAULT_MAX_JOBS
from .main import UsageError

_USER = re.compile(r"^([A-Za-z0-9._-]+):(\S+)$")
# A web origin as browsers send it: scheme://host[:port], nothing after.
_ORIGIN = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the reference server (a local DNAnexus API)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8124, help="port (default 8124; 0 picks a free one)")
    p.add_argument("--db", metavar="PATH", help="SQLite file for durable storage (default: in memory)")
    p.add_argument("--user", action="append", default=[], metavar="NAME:TOKEN",
                   help="add a user, or set alice's or bob's token (repeatable); alice and bob always exist, "
                        "with random tokens unless given")
    p.add_argument("--fixed-tokens", action="store_true",
                   help="alice's token is alice-token and bob's bob-token: the published tokens of the docs and "
                        "tests, which anyone can guess (default: random tokens, printed at start)")
    p.add_argument("--cors", nargs="+", default=None, metavar="ORIGIN",
                   help="the only web origins (scheme://host[:port]) whose pages may call the server; requests "
                        "with any other Origin are refused (default: only https://dxconform.invalid, the "
                        "suite's, which no page can have)")
    p.add_argument("--closing-ms", type=int, default=None, help="how long files stay 'closing' (ms)")
    p.add_argument("--latency-ms", type=int, default=0, metavar="MS",
                   help="delay every answer by MS milliseconds, as a remote server would (default 0)")
    p.add_argument("--no-jobs", action="store_true",
                   help="run no job: every job fails at once with failureReason ExecutionError")
    p.add_argument("--max-jobs", type=int, default=DEFAULT_MAX_JOBS, metavar="N",
                   help=f"job processes running at once (default {DEFAULT_MAX_JOBS}); more jobs wait in state "
                        "runnable")
    p.add_argument("--allow-remote-jobs", action="store_true",
                   help="with a --host other than a loopback address, run jobs anyway: anyone who can reach "
                        "the server with a token can then run code on this machine as this user")
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="switch on a deliberate fault (repeatable; --fault list shows them)")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class FaultGroup:
    """A titled group of `--fault list`: a header and rows of (name, area, [level,] rule), the rule last."""

    title: str
    note: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def heading(self) -> str:
        count = len(self.rows)
        return f"{self.title}, {count} fault{'' if count == 1 else 's'} ({self.note}):"


def fault_groups() -> list[FaultGroup]:
    """The faults by what must catch them: the self-test catalogue, fuzzing alone, differential mode alone, and
    (only when some exist) faults that nothing sweeps yet. The grouping lives here, on the engine's side of
    the seam: the reference server defines the faults and knows nothing of the catalogue."""
    from ..refserver.faults import DIFF_FAULTS, FAULTS, FUZZ_FAULTS
    from ..selftest import CATALOGUE

    swept = {e.fault for e in CATALOGUE}

    def group(title: str, note: str, names: list[str]) -> FaultGroup:
        return FaultGroup(title, note, ("fault", "area", "rule it breaks"),
                          tuple((name, FAULTS[name].area, FAULTS[name].rule) for name in names))

    def only(kind: frozenset[str]) -> list[str]:
        return [name for name in FAULTS if name in kind and name not in swept]

    groups = [
        FaultGroup("Self-test catalogue", "`dxconform selftest` sweeps these; `selftest --list` shows their killers",
                   ("fault", "area", "level", "rule it breaks"),
                   tuple((e.fault, e.area, e.level, e.rule) for e in CATALOGUE)),
        group("Fuzzing only", "caught by fuzzing, `dxconform run --fuzz`; tests/fuzz", only(FUZZ_FAULTS)),
        group("Differential only", "caught by `dxconform diff` against a golden recording; tests/differential",
              only(DIFF_FAULTS)),
    ]
    unswept = [name for name in FAULTS if name not in swept | FUZZ_FAULTS | DIFF_FAULTS]
    if unswept:
        groups.append(group("In no sweep", "no catalogue entry, not a fuzzing or differential fault", unswept))
    return groups


def aligned(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Rows as lines whose columns start at the same offset: every column but the last padded to its widest."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [indent + "  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]])
            for row in rows]


def render_fault_list(groups: list[FaultGroup]) -> str:
    """Each group under its heading (with its count), header row first, a blank line between groups."""
    return "\n\n".join("\n".join([group.heading(), *aligned([group.header, *group.rows])]) for group in groups)


def run(args: argparse.Namespace) -> int:
    from ..refserver.context import FIXED_TOKENS, Settings
    from ..refserver.faults import FAULTS
    from ..refserver.server import free_port, serve_forever

    if "list" in args.fault:
        print(render_fault_list(fault_groups()))
        return 0
    unknown = sorted(set(args.fault) - set(FAULTS))
    if unknown:
        raise UsageError(f"unknown fault {unknown[0]!r} (dxconform serve --fault list shows them)")
    settings = Settings(faults=frozenset(args.fault))
    if args.fixed_tokens:
        settings.users = dict(FIXED_TOKENS)
    for spec in args.user:
        m = _USER.match(spec)
        if not m:
            raise UsageError(f"--user expects NAME:TOKEN, got {spec!r}")
        settings.users[m.group(1)] = m.group(2)
    shared = sorted(name for name, token in settings.users.items() if list(settings.users.values()).count(token) > 1)
    if shared:
        raise UsageError(f"users {', '.join(shared)} have the same token; each user needs its own")
    if args.cors is not None:
        settings.cors_origins = tuple(cors_origin(origin) for origin in args.cors)
    if args.closing_ms is not None:
        if args.closing_ms < 0:
            raise UsageError("--closing-ms must be >= 0")
        settings.closing_ms = args.closing_ms
    if args.latency_ms < 0:
        raise UsageError("--latency-ms must be >= 0")
    settings.latency_ms = args.latency_ms
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {args.port}")
    if args.max_jobs < 1:
        raise UsageError("--max-jobs must be at least 1 (use --no-jobs to run none)")
    settings.max_jobs = args.max_jobs
    settings.run_jobs = not args.no_jobs
    check_bindable(args.host, args.port)
    if settings.run_jobs and not is_loopback(args.host) and not args.allow_remote_jobs:
        raise UsageError(f"--host {args.host} is not a loopback address, and jobs run submitted code on this "
                         "machine as this user: add --no-jobs, or --allow-remote-jobs if every client is trusted")
    port = args.port or free_port(args.host)
    try:
        serve_forever(args.host, port, args.db, settings)
    except OSError as exc:
        if args.db and exc.filename == args.db:
            raise UsageError(f"cannot open --db {args.db}: {exc.strerror}") from None
        raise UsageError(f"cannot serve on {args.host}:{port}: {exc}") from None
    return 0


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback address (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def cors_origin(text: str) -> str:
    """An --cors value as browsers write an Origin (lower case, no trailing slash), or a usage error."""
    origin = text.strip().lower().removesuffix("/")
    if not _ORIGIN.match(origin):
        raise UsageError(f"--cors expects an origin such as http://localhost:3000 (scheme://host[:port]), got {text!r}")
    return origin


def check_bindable(host: str, port: int) -> None:
    """Bind (and release) every address `host` names on `port`, as uvicorn is about to: a port in use or an
    address that is not this machine's is one line and exit 2, before uvicorn logs its own `[Errno 98]`.
    SO_REUSEADDR as asyncio sets it, so a port that only has connections in TIME_WAIT is not "in use"."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot serve on {host}: {exc.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UsageError(f"port {port} is in use on {host} (another process listens there; "
                                     f"choose another with --port, or --port 0 for a free one)") from None
                raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
