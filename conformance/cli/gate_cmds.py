"""`dxconform expectations` (known failures from a run), `certify` (run + bundle) and `verify` (check a bundle)."""

from __future__ import annotations

import argparse
import os
import platform
import tarfile
from pathlib import Path
from typing import Any

from .main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from .run_cmd import TOKEN2_ENV, TOKEN_ENV, add_run_options

LEVELS = ("MUST", "SHOULD", "MAY")
CERTIFY_OUT = "reports/certify"
BUNDLE_NAME = "certification.tar.gz"
REQUIRED_PROFILE = "core"
SHOWN_FAILURES = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expectations", help="write an expectations file (known failures) from a results.json")
    p.add_argument("results", metavar="RESULTS.json", help="the results.json of a run")
    p.add_argument("--out", metavar="FILE", required=True, help="the expectations file to write (YAML)")
    p.add_argument("--level", action="append", choices=LEVELS, metavar="LEVEL",
                   help="only failures at this level (repeatable; default: every level)")
    p.set_defaults(func=run_expectations)

    p = sub.add_parser("certify", help="run the suite and write a certification bundle (.tar.gz with a "
                                       "SHA-256 manifest)")
    add_run_options(p, default_out=CERTIFY_OUT)
    p.add_argument("--bundle", metavar="FILE", help=f"the bundle to write (default DIR/{BUNDLE_NAME})")
    p.set_defaults(func=run_certify)

    p = sub.add_parser("verify", help="check a certification bundle offline and say pass/fail for a profile")
    p.add_argument("bundle", metavar="BUNDLE", help="a bundle written by `dxconform certify`")
    p.add_argument("--profile", default=REQUIRED_PROFILE, metavar="NAME",
                   help=f"the profile whose MUST results must all pass (default {REQUIRED_PROFILE})")
    p.set_defaults(func=run_verify)


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
            "timeout_s": args.timeout, "workers": args.workers, "reruns": args.reruns,
            "flaky_fails": args.flaky_fails, "cases": str(Path(args.cases).resolve()) if args.cases else "shipped",
            "tokens_given": [user for user, token in (("alice", args.token or os.environ.get(TOKEN_ENV)),
                                                      ("bob", args.token2 or os.environ.get(TOKEN2_ENV))) if token]
            if args.server else ["alice", "bob"]}


def _secrets(args: argparse.Namespace) -> list[str]:
    secrets = [args.token, args.token2, os.environ.get(TOKEN_ENV), os.environ.get(TOKEN2_ENV)]
    if args.server is None:
        from ..refserver.context import Settings
        secrets.extend(Settings().users.values())
    return [s for s in secrets if s]


def run_certify(args: argparse.Namespace) -> int:
    from ..certify import BundleError, write_bundle
    from ..reporting.results_json import read_document
    from .run_cmd import run

    args.expectations = None   # a certification judges the server as it is: no known failures
    run(args)
    out = Path(args.out).resolve()
    bundle = Path(args.bundle).resolve() if args.bundle else out / BUNDLE_NAME
    suite = read_document(out / "results.json")["suite"]
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
    return _report(bundle, args.profile)


def _report(bundle: Path, profile: str) -> int:
    """Print what verify found; 0 when the bundle is intact and the profile passes, 1 otherwise."""
    from ..certify import verify_bundle

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
    suite, config = verification.suite, verification.config
    print(f"bundle intact: every file matches MANIFEST.sha256 ({bundle})")
    print(f"suite: dxconform {suite.get('version')}, schemas sha256 {suite.get('schemas_sha256')}")
    print(f"run: server {config.get('server') or 'embedded reference server'}"
          + (f", faults {', '.join(config['embedded_faults'])}" if config.get("embedded_faults") else ""))
    for failure in verification.failures[:SHOWN_FAILURES]:
        print(f"  {failure.get('outcome')}: {failure.get('id')}")
    if len(verification.failures) > SHOWN_FAILURES:
        print(f"  ... {len(verification.failures) - SHOWN_FAILURES} more")
    verdict = "PASS" if verification.passed else "FAIL"
    detail = (f"no MUST result of profile {profile!r} in the bundle" if not verification.counted
              else f"{verification.counted} MUST result(s), {len(verification.failures)} failing")
    print(f"{verdict}: profile {profile}: {detail}")
    return EXIT_OK if verification.passed else EXIT_FAILED


__all__ = ["EXIT_USAGE", "register"]
