"""`dxconform`: parse the command line, dispatch to a command module, map failures to exit codes."""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from typing import NoReturn

from .. import __version__

# Each module has register(subparsers) that adds its commands with set_defaults(func=...).
COMMAND_MODULES = ("conformance.cli.serve_cmd", "conformance.cli.spec_cmds", "conformance.cli.run_cmd",
                   "conformance.cli.gate_cmds", "conformance.cli.selftest_cmd",
                   "conformance.cli.proxy_cmd", "conformance.cli.compare_cmd", "conformance.cli.diff_cmds",
                   "conformance.cli.replay_cmd", "conformance.cli.import_cmd")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad options, unreadable input, unreachable server: one clear line, exit 2."""


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad options print one line (the usage is one --help away) and exit 2; subcommands inherit this."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="dxconform", description="DNAnexus API conformance suite")
    parser.add_argument("--version", action="version", version=f"dxconform {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or EXIT_OK)
    except UsageError as exc:
        print(f"dxconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dxconform: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def exit_at_once(code: int) -> NoReturn:
    """End the process with `code` once its exit work is done (threads ended, atexit handlers and finalizers
    run, streams flushed), without the interpreter freeing its heap object by object, which after a whole run
    (every result, exchange and loaded case) took about a second. With a live non-daemon thread, the usual exit."""
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe or stream: nothing more can be said on it
            pass
    os._exit(code)


def entry() -> NoReturn:
    """The `dxconform` command (the console script and `python -m conformance.cli.main`)."""
    exit_at_once(main())


if __name__ == "__main__":
    # Run the canonical module's entry: under `python -m` this file is __main__, and the command modules'
    # `from .main import UsageError` would otherwise name a different class than the one caught here.
    from conformance.cli.main import entry as _canonical_entry

    _canonical_entry()
