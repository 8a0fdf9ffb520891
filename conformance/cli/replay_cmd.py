"""`dxconform replay ID`: send one fuzz finding's minimal input again and say whether the rule still breaks."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from .main import EXIT_FAILED, EXIT_OK, UsageError
from .run_cmd import DEFAULT_OUT, TOKEN2_ENV, TOKEN_ENV

DEFAULT_RESULTS = f"{DEFAULT_OUT}/results.json"
FUZZ_KEY = "fuzz"   # a fuzz result's own record in results.json (pytest_plugin/fuzz_items.py writes it)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-run one fuzz finding (by its result id) against a server; exit 1 if it "
                                      "reproduces, 0 if not")
    p.add_argument("id", metavar="ID", help="the finding's id, e.g. fuzz/negative//file-xxxx/addTags::"
                                            "rejects_invalid_input (as in results.json or the report)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--results", metavar="RESULTS.json",
                        help=f"the results.json of the run that found it (default {DEFAULT_RESULTS})")
    source.add_argument("--findings", metavar="FILE", help="a findings file written by the fuzzing library "
                                                           "(FuzzReport.save) instead of a results.json")
    p.add_argument("--server", metavar="URL", help="the server to replay against; default: a fresh embedded "
                   "reference server")
    p.add_argument("--token", metavar="T", help=f"the first user's token (or ${TOKEN_ENV})")
    p.add_argument("--token2", metavar="T2", help=f"a second user's token (or ${TOKEN2_ENV})")
    p.add_argument("--fuzz-container", action="append", default=[], metavar="ID",
                   help="a container for container routes, as in the run (the embedded server lends one)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-request deadline (default 30)")
    # Self-test aid, as for `run`: the embedded server with a deliberate fault.
    p.add_argument("--embedded-fault", action="append", default=[], metavar="NAME", help=argparse.SUPPRESS)
    p.set_defaults(func=run_replay)


def load_finding(args: argparse.Namespace):
    """The FuzzFinding named by args.id, from a results.json (default) or a findings file."""
    from ..fuzz import FuzzFinding, load_findings

    if args.findings:
        try:
            findings = load_findings(args.findings)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"cannot read the findings file {args.findings}: {exc}") from None
        for finding in findings:
            if finding.id == args.id:
                return finding
        raise UsageError(f"no finding {args.id!r} in {args.findings}")
    path = Path(args.results or DEFAULT_RESULTS)
    from ..reporting.results_json import read_document

    try:
        document = read_document(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    result = next((r for r in document["results"] if r.get("id") == args.id), None)
    if result is None:
        known = sorted(r["id"] for r in document["results"] if isinstance(r.get(FUZZ_KEY), dict)
                       and r[FUZZ_KEY].get("steps"))
        hint = f" (its fuzz findings: {', '.join(known[:5])}{' ...' if len(known) > 5 else ''})" if known else \
            " (it has no fuzz finding)"
        raise UsageError(f"no result {args.id!r} in {path}{hint}")
    record = result.get(FUZZ_KEY)
    if not isinstance(record, dict) or not record.get("steps"):
        raise UsageError(f"{args.id} is not a fuzz finding (only failed fuzz results carry steps to replay)")
    try:
        return FuzzFinding.from_json(record)
    except (KeyError, TypeError) as exc:
        raise UsageError(f"the fuzz record of {args.id} in {path} is incomplete: {exc}") from None


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, str], tuple[str, ...]]]:
    """(URL, tokens by user, lent containers): a fresh embedded server, or the server given."""
    if args.server is None:
        from ..refserver.containers import create_container
        from ..refserver.context import Settings
        from ..refserver.faults import FAULTS
        from ..refserver.server import RefServer

        unknown = sorted(set(args.embedded_fault) - set(FAULTS))
        if unknown:
            raise UsageError(f"unknown fault {unknown[0]!r} (dxconform serve --fault list shows them)")
        with RefServer(settings=Settings(faults=frozenset(args.embedded_fault))) as server:
            lent = tuple(args.fuzz_container) or (create_container(server.app.db, "user-alice",
                                                                   name="dxconform replay (lent)"),)
            yield server.url, dict(server.settings.users), lent
        return
    parts = urlsplit(args.server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--server must be an http:// or https:// URL, got {args.server!r}")
    if args.embedded_fault:
        raise UsageError("--embedded-fault applies to the embedded server only (leave out --server)")
    tokens = {user: token for user, token in (("alice", args.token or os.environ.get(TOKEN_ENV)),
                                              ("bob", args.token2 or os.environ.get(TOKEN2_ENV))) if token}
    if "alice" not in tokens:
        raise UsageError(f"--server needs --token (or ${TOKEN_ENV})")
    yield args.server.rstrip("/"), tokens, tuple(args.fuzz_container)


def run_replay(args: argparse.Namespace) -> int:
    from ..fuzz import FuzzConfig
    from ..fuzz.engine import replay
    from ..fuzz.pool import PoolError

    if args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0, got {args.timeout:g}")
    finding = load_finding(args)
    print(f"replaying {finding.id} (seed {finding.seed}, {len(finding.steps)} step(s))")
    with _target(args) as (url, tokens, containers):
        config = FuzzConfig(url, tokens, seed=finding.seed, containers=containers, timeout=args.timeout)
        try:
            outcome = replay(finding, config)
        except PoolError as problem:
            raise UsageError(f"cannot replay against {url}: {problem}") from None
    for exchange in outcome.exchanges:
        if exchange is not None:
            print("  " + _exchange_line(exchange))
    if outcome.reproduced:
        for found in outcome.findings:
            print(f"reproduced: [{found.level.value}] {found.check}: {found.message}")
        return EXIT_FAILED
    print(f"not reproduced: {finding.rule} held on {finding.route} against {url}")
    return EXIT_OK


def _exchange_line(exchange) -> str:
    request, response = exchange.request, exchange.response
    sent = request.body.decode("utf-8", errors="replace")
    sent = sent if len(sent) <= 120 else sent[:120] + f"... [{len(sent)} chars]"
    got = f"{response.status}" if response is not None else f"no answer ({exchange.error.kind})"
    return f"POST {request.path} {sent.replace(chr(10), ' ')} -> {got}"


__all__ = ["register", "run_replay"]
