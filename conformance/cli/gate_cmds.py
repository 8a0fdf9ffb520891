"""`dxconform expectations` (known failures from a run), `certify` (run + bundle) and `verify` (check a bundle)."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from .run_cmd import TOKEN2_ENV, TOKEN_ENV, add_run_options

if TYPE_CHECKING:
    from ..certify import Verification

LEVELS = ("MUST", "SHOULD", "MAY")
CERTIFY_OUT = "reports/certify"
BUNDLE_NAME = "certification.tar.gz"
REQUIRED_PROFILE = "core"
SHOWN_FAILURES = 20
# Options that run part of the suite or excuse known failures, and why a certificate cannot have them.
NARROWING_FLAGS = {"-k": "runs part of the suite", "--cases": "runs other case files",
                   "--add-cases": "runs case files besides the suite's",
                   "--shard": "runs part of the suite", "-m": "runs part of the suite",
                   "--profile": "runs part of the suite", "--expectations": "excuses known failures",
                   "--fuzz-only": "runs no case"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expectations", help="write an expectations file (known failures) from a results.json")
    p.add_argument("results", metavar="RESULTS.json", help="the results.json of a run")
    p.add_argument("--out", metavar="FILE", required=True, help="the expectations file to write (YAML)")
    p.add_argument("--level", action="append", choices=LEVELS, metavar="LEVEL",
                   help="only failures at this level (repeatable; default: every level)")
    p.set_defaults(func=run_expectations)

    p = sub.add_parser("certify", help="run the whole suite and write a certification bundle (.tar.gz with a "
                                       "SHA-256 manifest)")
    add_run_options(p, default_out=CERTIFY_OUT)
    _add_unless_defined(p, "--expectations", metavar="FILE", help="known failures, which end as xfailed")
    _add_unless_defined(p, "--shard", metavar="K/N", help="run only shard K of N")
    p.add_argument("--partial", action="store_true",
                   help="allow a selection of the suite (-k, --profile, --shard, --expectations, --fuzz-only): "
                        "the bundle is marked PARTIAL, says what narrowed it, and is no certificate")
    p.add_argument("--bundle", metavar="FILE", help=f"the bundle to write (default DIR/{BUNDLE_NAME})")
    p.set_defaults(func=run_certify, narrowing_options=narrowing_options(p))
    _say_partial_only(p)

    p = sub.add_parser("verify", help="check a certification bundle offline: PASS, PARTIAL or FAIL for a profile")
    p.add_argument("bundle", metavar="BUNDLE", help="a bundle written by `dxconform certify`")
    p.add_argument("--profile", default=REQUIRED_PROFILE, metavar="NAME",
                   help=f"the profile whose MUST results must all pass (default {REQUIRED_PROFILE})")
    p.add_argument("--require-full", action="store_true",
                   help="exit 1 on a PARTIAL bundle too (default: PARTIAL with no failure exits 0)")
    p.set_defaults(func=run_verify)


def _add_unless_defined(p: argparse.ArgumentParser, flag: str, **kwargs: Any) -> None:
    """Add `flag` to certify unless the shared run options define it already (they grow over time)."""
    try:
        p.add_argument(flag, **kwargs)
    except argparse.ArgumentError:
        pass


# --- expectations -------------------------------------------------------------------------------------------

def run_expectations(args: argparse.Namespace) -> int:
    from ..gate import dump_expectations, expectations_from_results
    from ..reporting.results_json import read_document

    try:
        document = read_document(args.results)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {args.results}: {exc}") from None
    expectations = expectations_from_results(document, args.level)
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dump_expectations(expectations, (document.get("server") or {}).get("url", "")),
                       encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc}") from None
    print(f"wrote {len(expectations)} expectation(s) to {out}")
    return EXIT_OK


# --- certify ------------------------------------------------------------------------------------------------

def run_config_record(args: argparse.Namespace) -> dict[str, Any]:
    """The options of the run as the bundle records them: everything but the tokens (only whose were given)."""
    from .. import __version__

    return {"command": "certify", "dxconform": __version__, "python": platform.python_version(),
            "server": args.server, "embedded": args.server is None, "embedded_faults": list(args.embedded_fault),
            "project": args.project, "profiles": list(args.profile), "keyword": args.keyword,
            "claims": list(getattr(args, "claims", None) or []),
            "timeout_s": args.timeout, "workers": args.workers, "reruns": args.reruns,
            "flaky_fails": args.flaky_fails, "cases": str(Path(args.cases).resolve()) if args.cases else "shipped",
            "tokens_given": [user for user, token in (("alice", args.token or os.environ.get(TOKEN_ENV)),
                                                      ("bob", args.token2 or os.environ.get(TOKEN2_ENV))) if token]
            if args.server else ["alice", "bob"]}


def _secrets(args: argparse.Namespace) -> list[str]:
    # The embedded server's tokens are random, and dead with the server once the run is over.
    secrets = [args.token, args.token2, os.environ.get(TOKEN_ENV), os.environ.get(TOKEN2_ENV)]
    return [s for s in secrets if s]


def narrowing_options(p: argparse.ArgumentParser) -> tuple[tuple[str, str, Any], ...]:
    """(flag, dest, default) of each option of certify that narrows the run, whichever of them it defines."""
    found = []
    for action in p._actions:
        flags = [flag for flag in action.option_strings if flag in NARROWING_FLAGS]
        if flags:
            found.append((flags[0], action.dest, action.default))
    return tuple(found)


def _say_partial_only(p: argparse.ArgumentParser) -> None:
    """certify's own help (and the contract) says which of the shared run options need --partial."""
    for action in p._actions:
        if set(action.option_strings) & set(NARROWING_FLAGS) and action.help not in (None, argparse.SUPPRESS):
            action.help += " (certify: only with --partial)"


def narrowed_by(args: argparse.Namespace) -> list[str]:
    """What narrows this run, written as its options (`-k whoami`, `--fuzz-only`): empty for the whole suite."""
    found: list[str] = []
    for flag, dest, default in args.narrowing_options:
        value = getattr(args, dest, default)
        if value in (None, False, [], default):
            continue
        values = value if isinstance(value, list) else [value]
        found.extend(flag if item is True else f"{flag} {shlex.quote(str(item))}" for item in values)
    return found


def refuse_a_subset(narrowed: list[str], partial: bool) -> None:
    """A certificate comes from the whole suite as it is: a narrowed run needs --partial (exit 2 otherwise)."""
    if not narrowed or partial:
        return
    reasons = dict.fromkeys(NARROWING_FLAGS[item.split(" ", 1)[0]] for item in narrowed)
    raise UsageError(f"certify refuses {', '.join(narrowed)}: it {' and '.join(reasons)}, and a certificate "
                     "comes from the whole suite (--partial writes a bundle marked PARTIAL instead)")


def suite_scope(results: dict[str, Any], narrowed: list[str]) -> dict[str, Any]:
    """suite.json's scope record, measured against the shipped suite; a full run that missed a case says so."""
    from ..cases import CaseLoadError
    from ..certify import missing_from_run, scope_record, suite_case_ids, suite_sha256
    from ..resources import cases_dir, schemas_dir

    try:
        suite_ids = suite_case_ids(cases_dir())
    except CaseLoadError as problem:
        raise UsageError(f"the shipped case files do not load ({len(problem.errors)} problem(s)): "
                         "a broken installation?") from None
    missing = [] if narrowed else missing_from_run(results, suite_ids)
    if missing:
        print(f"dxconform: warning: {len(missing)} case(s) of the suite have no result (first: {missing[0]}); "
              "the bundle is not a full-suite certificate", file=sys.stderr)
    return scope_record(results, narrowed_by=narrowed, suite_ids=suite_ids,
                        digest=suite_sha256(cases_dir(), schemas_dir()))


def run_certify(args: argparse.Namespace) -> int:
    from ..certify import BundleError, write_bundle
    from ..reporting.results_json import read_document
    from .run_cmd import run

    narrowed = narrowed_by(args)
    refuse_a_subset(narrowed, args.partial)
    run(args)
    out = Path(args.out).resolve()
    bundle = Path(args.bundle).resolve() if args.bundle else out / BUNDLE_NAME
    results = read_document(out / "results.json")
    suite = {**results["suite"], **suite_scope(results, narrowed)}
    try:
        write_bundle(bundle, out, run_config_record(args), suite, _secrets(args))
    except (BundleError, OSError) as exc:
        raise UsageError(f"cannot write the bundle: {exc}") from None
    print(f"certification bundle: {bundle}")
    return _report(bundle, REQUIRED_PROFILE)


# --- verify -------------------------------------------------------------------------------------------------

def run_verify(args: argparse.Namespace) -> int:
    bundle = Path(args.bundle)
    if not bundle.is_file():
        raise UsageError(f"{bundle} is not a file")
    return _report(bundle, args.profile, require_full=args.require_full)


def _report(bundle: Path, profile: str, *, require_full: bool = False) -> int:
    """Print what verify found, the verdict line last; 0 on PASS (and on PARTIAL unless `require_full`)."""
    from ..certify import PARTIAL, PASS, verify_bundle

    try:
        verification = verify_bundle(bundle, profile)
    except (OSError, tarfile.TarError, EOFError) as exc:
        # A changed byte in the compressed stream usually breaks the archive itself.
        print(f"FAIL: {bundle} is not a readable bundle ({exc.__class__.__name__}: {exc})")
        return EXIT_FAILED
    for problem in verification.problems:
        print(f"integrity: {problem}")
    if not verification.intact:
        print(f"FAIL: {bundle} is not intact ({len(verification.problems)} problem(s)); its results cannot be "
              "trusted")
        return EXIT_FAILED
    _print_evidence(bundle, verification)
    if verification.verdict == PARTIAL and not require_full:
        print("note: a PARTIAL bundle is no certificate of the full suite (verify --require-full exits 1 on it)")
    print(verdict_line(verification))
    accepted = (PASS,) if require_full else (PASS, PARTIAL)
    return EXIT_OK if verification.verdict in accepted else EXIT_FAILED


def _print_evidence(bundle: Path, verification: Verification) -> None:
    suite, config = verification.suite, verification.config
    fuzzing = (f"{suite['fuzz_examples']} examples per route and mode" if suite.get("fuzz_examples")
               else "off")
    print(f"bundle intact: every file matches MANIFEST.sha256 ({bundle})")
    print(f"suite: dxconform {suite.get('version')}, suite digest {suite.get('suite_sha256')}, "
          f"schemas sha256 {suite.get('schemas_sha256')}")
    print(f"run: server {config.get('server') or 'embedded reference server'}"
          + (f", faults {', '.join(config['embedded_faults'])}" if config.get("embedded_faults") else "")
          + f"; seed {suite.get('seed')}; fuzzing {fuzzing}")
    for failure in verification.failures[:SHOWN_FAILURES]:
        print(f"  {failure.get('outcome')}: {failure.get('id')}")
    if len(verification.failures) > SHOWN_FAILURES:
        print(f"  ... {len(verification.failures) - SHOWN_FAILURES} more")
    print(f"profile {verification.profile}: {_profile_detail(verification)}")


def _profile_detail(verification: Verification) -> str:
    if not verification.counted:
        return f"no MUST result of profile {verification.profile!r} in the bundle"
    return f"{verification.counted} MUST result(s), {len(verification.failures)} failing"


def _failing(verification: Verification) -> str:
    if not verification.counted:
        return f"no MUST result of profile {verification.profile!r}"
    return (f"profile {verification.profile}: {len(verification.failures)} of {verification.counted} MUST "
            "results failing")


def verdict_line(verification: Verification) -> str:
    """`PASS (full suite: N/N cases, suite digest X)`, `PARTIAL (N/M cases: -k ...; suite digest X)` or FAIL (...)."""
    from ..certify import SCOPE_PARTIAL
    from ..certify.scope import short_digest

    suite = verification.suite
    counts = f"{suite.get('cases_selected')}/{suite.get('cases_in_suite')} cases"
    failing = "" if verification.profile_passed else _failing(verification)
    digest = f"suite digest {short_digest(suite)}"
    if suite.get("scope") == SCOPE_PARTIAL:
        narrowed = " ".join(map(str, suite.get("narrowed_by") or []))
        parts = [f"{'partial run, ' if failing else ''}{counts}: {narrowed}", failing, digest]
        return f"{verification.verdict} ({'; '.join(part for part in parts if part)})"
    scope = "full suite" if verification.full else "not the full suite"
    parts = [f"{scope}: {counts}", failing, digest]
    return f"{verification.verdict} ({', '.join(part for part in parts if part)})"


__all__ = ["EXIT_USAGE", "register"]
