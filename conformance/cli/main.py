"""`dxconform`: parse the command line, dispatch to a command module, map failures to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

# Each module has register(subparsers) that adds its commands with set_defaults(func=...).
COMMAND_MODULES = ("conformance.cli.serve_cmd", "conformance.cli.spec_cmds")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad options, unreadable input, unreachable server: one clear line, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dxconform", description="DNAnexus API conformance suite")
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


if __name__ == "__main__":
    sys.exit(main())
