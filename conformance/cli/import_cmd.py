"""`dxconform import`: recordings of other clients (VCR cassettes, HAR files, the real-traffic corpus) as a golden recording."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ..output_guard import active_guard, guarded
from .main import EXIT_OK, UsageError

DEFAULT_OUT = "recording.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="read VCR cassettes, HAR files or real-traffic corpus files and write a "
                                      "recording that `dxconform diff --golden` replays")
    p.add_argument("sources", nargs="+", metavar="FILE_OR_DIR",
                   help="a recording, or a directory of them (*.yaml, *.yml, *.har, *.json, recursively)")
    p.add_argument("--out", metavar="FILE", default=DEFAULT_OUT, help=f"the recording (default {DEFAULT_OUT})")
    p.add_argument("--api-server", metavar="URL",
                   help="the recorded API server's base URL (default: the host most POST /<subject>/<method> "
                        "requests went to)")
    p.set_defaults(func=guarded(import_command, lambda args: ()))


def _when(ms: int | None) -> str:
    if ms is None:
        return "?"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_command(args: argparse.Namespace) -> int:
    from ..differential.golden import write_golden
    from ..differential.importer import RecordingError, import_files

    if args.api_server is not None and not args.api_server.startswith(("http://", "https://")):
        raise UsageError(f"--api-server must be an http:// or https:// URL, got {args.api_server!r}")
    try:
        imported = import_files(args.sources, api_server=args.api_server)
    except RecordingError as problem:
        raise UsageError(str(problem)) from None
    guard = active_guard()
    if guard is not None:
        guard.add(imported.secrets)
    try:
        path = write_golden(args.out, imported.document, imported.secrets)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    about = imported.document["imported"]
    print(f"imported {imported.exchanges} exchanges ({imported.api_exchanges} API calls over {imported.routes} "
          f"routes) from {imported.files} files, recorded {_when(about['recorded_first'])}.."
          f"{_when(about['recorded_last'])}, clients {', '.join(about['clients']) or 'unknown'}: {path}")
    return EXIT_OK
