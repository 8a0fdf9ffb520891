"""`dxconform record`, `diff` and `merge`: golden recordings, differential runs, and shards joined into one report."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..output_guard import guarded
from .main import EXIT_FAILED, EXIT_OK, UsageError

DEFAULT_GOLDEN = "golden.json"
DEFAULT_DIFF_OUT = "reports/diff"
DEFAULT_MERGE_OUT = "reports/latest"


def register(sub: argparse._SubParsersAction) -> None:
    record = sub.add_parser("record", help="run the cases and store every exchange as a golden recording")
    _target_options(record)
    record.add_argument("--out", metavar="FILE", default=DEFAULT_GOLDEN, help=f"the recording (default {DEFAULT_GOLDEN})")
    record.set_defaults(func=guarded(record_command, _given_tokens))

    diff = sub.add_parser("diff", help="rerun the recorded cases against a server and report every difference")
    diff.add_argument("--golden", metavar="FILE", help="a recording of `dxconform record`")
    _target_options(diff)
    diff.add_argument("--against", metavar="URL2", help="compare with this live server instead of a recording")
    diff.add_argument("--against-token", metavar="T", help="the first user's token on URL2 (default: --token)")
    diff.add_argument("--against-token2", metavar="T2", help="the second user's token on URL2 (default: --token2)")
    diff.add_argument("--config", metavar="FILE", help="ignored paths and levels (YAML, docs/differential.md)")
    diff.add_argument("--no-default-ignores", action="store_true",
                      help="compare the paths ignored by default too (upload/download URLs, error messages)")
    diff.add_argument("--out", metavar="DIR", default=DEFAULT_DIFF_OUT,
                      help=f"results.json, junit.xml and report.html of the diff (default {DEFAULT_DIFF_OUT})")
    diff.add_argument("--save", metavar="FILE", help="also store this run as a recording")
    diff.set_defaults(func=guarded(diff_command, _given_tokens))

    merge = sub.add_parser("merge", help="join the results.json of shards (run --shard K/N) into one report")
    merge.add_argument("results", nargs="+", metavar="RESULTS.json")
    merge.add_argument("--out", metavar="DIR", default=DEFAULT_MERGE_OUT,
                       help=f"where results.json, junit.xml and report.html go (default {DEFAULT_MERGE_OUT})")
    merge.set_defaults(func=merge_command)


def _given_tokens(args: argparse.Namespace) -> list[str | None]:
    """Every token of the command line and the environment: scrubbed from stdout, stderr, logs and warnings."""
    from .run_cmd import TOKEN2_ENV, TOKEN_ENV

    return [getattr(args, name, None) for name in ("token", "token2", "against_token", "against_token2")] + [
        os.environ.get(TOKEN_ENV), os.environ.get(TOKEN2_ENV)]


def _target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", metavar="URL", help="the server (default: the embedded reference server)")
    p.add_argument("--token", metavar="T", help="the first user's token (or $DXCONFORM_TOKEN)")
    p.add_argument("--token2", metavar="T2", help="a second user's token (or $DXCONFORM_TOKEN2)")
    p.add_argument("--project", metavar="ID", help="an existing project the run may work in")
    p.add_argument("--case", action="append", default=[], metavar="PATTERN",
                   help="only cases whose id matches this glob or contains this text (repeatable)")
    p.add_argument("--profile", action="append", default=[], metavar="NAME",
                   help="an optional profile to run besides core (repeatable; default: every profile)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-request deadline (default 30)")
    p.add_argument("--cases", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--embedded-fault", action="append", default=[], metavar="NAME", help=argparse.SUPPRESS)


# -- running ---------------------------------------------------------------------------------------------------
def _suite(args: argparse.Namespace):
    from ..cases import CaseLoadError
    from ..differential.recorder import load_cases
    from ..resources import cases_dir

    root = Path(args.cases).resolve() if args.cases else cases_dir()
    if not root.is_dir():
        raise UsageError(f"case directory {root} does not exist")
    try:
        return load_cases(root)
    except CaseLoadError as problem:
        for error in problem.errors:
            print(error, file=sys.stderr)
        raise UsageError(f"{len(problem.errors)} problem(s) in the case files under {root}") from None


def _check_target(args: argparse.Namespace) -> None:
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0, got {args.timeout:g}")
    if args.server is not None and not args.server.startswith(("http://", "https://")):
        raise UsageError(f"--server must be an http:// or https:// URL, got {args.server!r}")
    if args.server is not None and args.embedded_fault:
        raise UsageError("--embedded-fault applies to the embedded server only (leave out --server)")


def _progress(label: str):
    def show(number: int, total: int, result: Any) -> None:
        if number == total or number % 100 == 0:
            print(f"{label}: {number}/{total} cases", file=sys.stderr)
    return show


def _run(args: argparse.Namespace, suite, cases, label: str):
    """(RecordedRun, embedded?, tokens) of the cases against --server, or the embedded server."""
    from ..differential.recorder import run_cases
    from .run_cmd import _target

    with _target(args) as (server, tokens, embedded):
        run = run_cases(server, tokens, suite, cases, project=args.project, timeout=args.timeout,
                        progress=_progress(label))
    return run, embedded, tokens


def _golden_of(run, embedded: bool, tokens: dict[str, str]) -> dict[str, Any]:
    from .. import __version__
    from ..differential.golden import build_golden, case_record
    from ..differential.volatile import Placeholders
    from ..resources import schemas_dir
    from ..spec.schemas import tree_sha256

    placeholders = Placeholders(run.run_prefix, run.server)
    cases = [case_record(result, placeholders) for result in run.results]
    return build_golden(suite_version=__version__, schemas_sha256=tree_sha256(schemas_dir()), embedded=embedded,
                        recorded_ms=int(time.time() * 1000), users=tokens, work_project=run.work_project,
                        placeholders=placeholders, cases=cases)


def record_command(args: argparse.Namespace) -> int:
    from ..differential.golden import write_golden
    from ..differential.recorder import select_cases

    _check_target(args)
    suite = _suite(args)
    cases = select_cases(suite, args.case, frozenset(args.profile) if args.profile else None)
    if not cases:
        raise UsageError("no case matched the selection (--case / --profile)")
    run, embedded, tokens = _run(args, suite, cases, "record")
    path = write_golden(args.out, _golden_of(run, embedded, tokens), tokens.values())
    steps = sum(len(r.exchanges) for r in run.results)
    print(f"recorded {len(run.results)} cases, {steps} exchanges: {path}")
    for failure in run.cleanup_failures:
        print(f"cleanup could not remove: {failure}", file=sys.stderr)
    return EXIT_OK


# -- diff ------------------------------------------------------------------------------------------------------
def _config(args: argparse.Namespace, imported: bool = False):
    """The defaults (for an imported recording, the real platform's ignores too), then --config's rules."""
    from ..differential.config import (
        DiffConfig,
        DiffConfigError,
        default_config,
        load_config,
        platform_config,
    )

    config = DiffConfig() if args.no_default_ignores else platform_config() if imported else default_config()
    if args.config:
        try:
            config = config.extend(load_config(args.config))
        except DiffConfigError as problem:
            for error in problem.errors:
                print(error, file=sys.stderr)
            raise UsageError(f"{len(problem.errors)} problem(s) in the diff configuration {args.config}") from None
    return config


def _golden_file(args: argparse.Namespace) -> dict[str, Any] | None:
    """The --golden recording, or None with --against."""
    from ..differential.golden import GoldenError, read_golden

    if (args.golden is None) == (args.against is None):
        raise UsageError("give exactly one of --golden FILE and --against URL2")
    if args.golden is None:
        return None
    try:
        return read_golden(args.golden)
    except GoldenError as problem:
        raise UsageError(str(problem)) from None


def _reference(args: argparse.Namespace, suite) -> dict[str, Any]:
    """The golden document recorded now from --against."""
    from ..differential.recorder import select_cases

    if not args.against.startswith(("http://", "https://")):
        raise UsageError(f"--against must be an http:// or https:// URL, got {args.against!r}")
    other = argparse.Namespace(**vars(args))
    other.server, other.embedded_fault = args.against, []
    other.token = args.against_token or args.token
    other.token2 = args.against_token2 or args.token2
    cases = select_cases(suite, args.case, frozenset(args.profile) if args.profile else None)
    run, embedded, tokens = _run(other, suite, cases, "reference")
    return _golden_of(run, embedded, tokens)


def diff_command(args: argparse.Namespace) -> int:
    from ..differential.runner import diff_run
    from ..differential.traffic import is_imported

    _check_target(args)
    golden = _golden_file(args)
    imported = golden is not None and is_imported(golden)
    config = _config(args, imported)
    out = _out_dir(args)
    if imported:
        return _replay_imported(args, golden, config, out)
    suite = _suite(args)
    if golden is None:
        golden = _reference(args, suite)
    from .run_cmd import _target

    with _target(args) as (server, tokens, embedded):
        outcome = diff_run(golden, suite, server, tokens, config, embedded=embedded, project=args.project,
                           timeout=args.timeout, cases_filter=args.case, progress=_progress("diff"))
    _write_diff(args, out, outcome, tokens)
    summary = outcome.document["summary"]
    print(f"diff: {summary['passed']} case(s) answered alike, {summary['failed']} differently "
          f"({outcome.differences} difference(s), {outcome.ignored} ignored), {summary['skipped']} not rerun")
    for line in outcome.lines[:20]:
        print(f"  {line}")
    return _finish(out, outcome)


def _replay_imported(args: argparse.Namespace, golden: dict[str, Any], config, out: Path) -> int:
    """An imported recording is replayed exchange by exchange (differential/traffic.py), not rerun by case id:
    the suite's cases are not loaded."""
    from ..differential.traffic import replay_traffic, selected
    from ..differential.traffic_compare import terminal_lines
    from ..redaction import redactor

    if args.project:
        raise UsageError("--project does not apply to an imported recording (its requests make their own projects)")
    if not any(selected(case["id"], args.case) for case in golden["cases"]):
        raise UsageError("no recorded test matched the selection (--case)" if args.case
                         else "the recording holds no recorded test")
    with _replay_target(args) as (server, tokens, embedded):
        outcome = replay_traffic(golden, server, tokens, config, embedded=embedded, timeout=args.timeout,
                                 cases_filter=args.case, progress=_progress("replay"))
    secrets = _write_diff(args, out, outcome, tokens)
    summary = outcome.document["summary"]
    print(f"replay: {summary['passed']} recorded test(s) answered alike, {summary['failed']} differently "
          f"({outcome.differences} difference(s), {outcome.ignored} ignored)")
    scrub = redactor(secrets)
    for line in terminal_lines(outcome.document):
        print(scrub.scrub(line))
    return _finish(out, outcome)


@contextlib.contextmanager
def _replay_target(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, str], bool]]:
    """(server URL, tokens, embedded?) for a replay, which runs as one user: the embedded server as for any
    diff, or --server probed with the first token only (no warning about the suite's second-user cases)."""
    from .probe import probe
    from .run_cmd import TOKEN_ENV, _target

    if args.server is None:
        with _target(args) as target:
            yield target
        return
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        raise UsageError(f"--server needs --token (or ${TOKEN_ENV})")
    url = args.server.rstrip("/")
    probe(url, {"alice": token}, {"alice": "--token" if args.token else f"${TOKEN_ENV}"}, timeout=args.timeout)
    yield url, {"alice": token}, False


def _out_dir(args: argparse.Namespace) -> Path:
    out = Path(args.out).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output directory {out}: {exc}") from None
    return out


def _write_diff(args: argparse.Namespace, out: Path, outcome, tokens: dict[str, str]) -> list[str]:
    """results.json, junit.xml, report.html (and --save's recording), every token scrubbed; the tokens."""
    from ..differential.report import diff_page
    from ..redaction import redactor
    from ..reporting.encodable import write_text
    from ..reporting.junit_xml import write_junit
    from ..reporting.results_json import write_document

    secrets = list(tokens.values())
    write_document(out / "results.json", outcome.document, secrets)
    write_junit(out / "junit.xml", redactor(secrets).scrub_json(outcome.document))
    write_text(out / "report.html", redactor(secrets).scrub(diff_page(outcome.document)))
    if args.save:
        from ..differential.golden import write_golden
        write_golden(args.save, outcome.candidate_golden, secrets)
    return secrets


def _finish(out: Path, outcome) -> int:
    from ..gate import gate_failures

    print(f"results: {out / 'results.json'}\nreport: {out / 'report.html'}")
    return EXIT_FAILED if gate_failures(outcome.document) else EXIT_OK


# -- merge -----------------------------------------------------------------------------------------------------
def merge_command(args: argparse.Namespace) -> int:
    from ..gate import gate_failures
    from ..reporting.badges import write_run_badges
    from ..reporting.encodable import write_text
    from ..reporting.junit_xml import write_junit
    from ..reporting.merge import MergeError, merge_documents, suites_differ
    from ..reporting.report_page import standalone_page
    from ..reporting.results_json import read_document, write_document

    documents = []
    for name in args.results:
        try:
            documents.append(read_document(name))
        except OSError as exc:
            raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UsageError(f"{name}: {str(exc).splitlines()[0][:300]}") from None
    if suites_differ(documents):
        print("dxconform: warning: the documents come from different suite versions or schemas", file=sys.stderr)
    try:
        merged = merge_documents(documents)
    except MergeError as problem:
        raise UsageError(str(problem)) from None
    out = Path(args.out).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output directory {out}: {exc}") from None
    write_document(out / "results.json", merged)
    write_junit(out / "junit.xml", merged)
    write_text(out / "report.html", standalone_page(merged))
    write_run_badges(out)
    summary = merged["summary"]
    print(f"merged {len(documents)} document(s): " + ", ".join(f"{v} {k}" for k, v in summary.items() if v))
    print(f"results: {out / 'results.json'}\njunit: {out / 'junit.xml'}\nreport: {out / 'report.html'}")
    stopped = merged.get("stopped")
    if stopped:   # as `run` does: a shard that did not run everything leaves no verdict
        raise UsageError(f"a shard stopped: {stopped['message']}; {stopped['not_run']} case(s) not run")
    return EXIT_FAILED if gate_failures(merged) else EXIT_OK
