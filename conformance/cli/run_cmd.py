"""`dxconform run`: the suite through pytest with the dxconform plugin, against a server or the embedded one."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..output_guard import guard_outputs
from .main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from ..pytest_plugin.suite import PreloadedSuite

DEFAULT_OUT = "reports/latest"
PLUGIN = "conformance.pytest_plugin.plugin"
TOKEN_ENV, TOKEN2_ENV = "DXCONFORM_TOKEN", "DXCONFORM_TOKEN2"
AUTOLOAD_ENV = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
# With PYTEST_DISABLE_PLUGIN_AUTOLOAD, only these plugins load: whatever else is installed stays out of the run.
# report.html is dxconform's own page (written with results.json); pytest-html is not loaded (its page grows
# past a megabyte and counts in pytest's words: reporting/report_page.py says why).
EXPLICIT_PLUGINS = ("-p", "xdist.plugin")
RUN_INI = Path(__file__).resolve().parents[1] / "pytest_plugin" / "run.ini"
DEFAULT_RERUNS = 2
# Fuzzing is off unless asked for (docs/fuzzing.md says why); --fuzz and --fuzz-only use this budget.
RECOMMENDED_FUZZ_EXAMPLES = 8
FUZZ_MODES = ("positive", "negative", "stateful")
# The default --deadline, sized from the run's case count: far above what a server that answers needs (a
# run of the embedded server takes about a minute); it bounds a run against one that answers too slowly.
DEADLINE_BASE_S = 120.0
DEADLINE_PER_CASE_S = 10.0
DEADLINE_PER_FUZZ_EXAMPLE_S = 20.0
MIB = 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the conformance suite (default: against the embedded reference server)")
    add_run_options(p)
    p.add_argument("--expectations", metavar="FILE",
                   help="known failures (YAML, see `dxconform expectations`): listed failures end as xfailed and "
                        "do not fail the run; listed passes show as xpassed")
    p.add_argument("--shard", metavar="K/N", help="run only shard K of N (a stable partition by case id), for a "
                   "run split over N machines; `dxconform merge` joins the shards' results.json")
    p.set_defaults(func=run)


def add_run_options(p: argparse.ArgumentParser, default_out: str = DEFAULT_OUT) -> None:
    """The options of a suite run (shared by `run` and `certify`)."""
    p.add_argument("--server", metavar="URL", help="base URL of the server under test; default: start the "
                   "embedded reference server on a free loopback port")
    p.add_argument("--token", metavar="T", help=f"the first user's token (or ${TOKEN_ENV})")
    p.add_argument("--token2", metavar="T2", help=f"a second user's token, for permission cases (or ${TOKEN2_ENV})")
    p.add_argument("--project", metavar="ID", help="an existing project the run may work in")
    p.add_argument("--out", metavar="DIR", default=default_out, help=f"output directory (default {default_out})")
    p.add_argument("--profile", action="append", default=[], metavar="NAME",
                   help="run only core and this optional profile's cases (repeatable; without it, the cases of "
                        "every profile run)")
    p.add_argument("--claims", action="append", default=[], metavar="NAME[,NAME...]",
                   help="the profiles the server claims to implement (comma-separated or repeated; core always): "
                        "a claimed profile whose routes are missing fails the run. Without a claim, a profile is "
                        "detected by a probe of its routes, or reported as not implemented (no score)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="for CI logs: no per-case output, only the verdict, profiles, root causes, what was not "
                        "tested, the totals and the output files (about 30 lines); the exit code is the same")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only cases matching this pytest -k expression")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-request deadline (default 30)")
    p.add_argument("--deadline", type=float, metavar="S",
                   help=f"the whole run's deadline in seconds (default {DEADLINE_BASE_S:g} + {DEADLINE_PER_CASE_S:g} "
                        f"per case of the run, + {DEADLINE_PER_FUZZ_EXAMPLE_S:g} per --fuzz-examples): cases not "
                        "started by then are reported skipped with reason `deadline` (never passed), results.json "
                        "says the run stopped, and the run exits 2. Besides, a server that stops answering (5 calls "
                        "in a row with no answer) is not called any more: the cases left are skipped with reason "
                        "`server-stopped-answering`, exit 2")
    p.add_argument("--body-budget", type=float, default=32.0, metavar="MIB",
                   help="answer bodies the run keeps, in memory and in results.json, in MiB (default 32): past it, "
                        "each body larger than 1 KiB keeps its first KiB, its length and its sha256 (results.json "
                        "`body_cut`)")
    p.add_argument("-n", dest="workers", default="0", metavar="N",
                   help="parallel worker processes (pytest-xdist; a number or 'auto'; default 0: in process)")
    fuzz = p.add_argument_group("fuzzing (generated requests from the schemas; docs/fuzzing.md)")
    fuzz.add_argument("--fuzz-examples", type=int, metavar="N",
                      help=f"fuzz every core route with N generated examples per route and mode, besides the "
                           f"cases (default 0: off, so a plain run stays as fast and as reproducible as before; "
                           f"{RECOMMENDED_FUZZ_EXAMPLES} adds about 10-15 s on the embedded server, 80 is a "
                           f"thorough run)")
    fuzz.add_argument("--fuzz", action="store_true",
                      help=f"fuzz at the recommended budget (--fuzz-examples {RECOMMENDED_FUZZ_EXAMPLES})")
    fuzz.add_argument("--no-fuzz", action="store_true", help="no fuzzing (the default; --fuzz-examples 0)")
    fuzz.add_argument("--fuzz-only", action="store_true",
                      help=f"fuzz only, no cases (budget: --fuzz-examples, else {RECOMMENDED_FUZZ_EXAMPLES})")
    fuzz.add_argument("--seed", type=int, metavar="N",
                      help="the run's seed: the same seed sends the same fuzzed requests and the same values to "
                           "generated cases (default with fuzzing: 0 when $CI is set, else random; printed and "
                           "recorded in results.json; without fuzzing: 0)")
    fuzz.add_argument("--fuzz-mode", action="append", default=[], choices=FUZZ_MODES,
                      help="only this fuzzing mode (repeatable; default: all three)")
    fuzz.add_argument("--fuzz-container", action="append", default=[], metavar="ID",
                      help="a container the fuzzer may use for the container routes (never destroyed; "
                           "repeatable). The embedded server lends one itself")
    p.add_argument("--reruns", type=int, default=DEFAULT_RERUNS, metavar="N",
                   help=f"run a failed case up to N more times; passing on a rerun makes it flaky, which does not "
                        f"fail the run (default {DEFAULT_RERUNS}; 0: no reruns)")
    p.add_argument("--flaky-fails", action="store_true",
                   help="a flaky MUST result (failed, then passed on a rerun) fails the run too")
    p.add_argument("--keep", action="store_true",
                   help="leave what the run creates on the server (no cleanup, no `finally` steps), to look at a "
                        "failing case's objects; prints their IDs and one command per project to delete it")
    cases = p.add_argument_group("case files (docs/write-a-case.md)")
    cases.add_argument("--add-cases", action="append", default=[], metavar="DIR",
                       help="also run the case files under DIR, besides the shipped suite (repeatable); their case "
                            "ids must differ from the suite's")
    cases.add_argument("--cases", metavar="DIR",
                       help="run the case files under DIR instead of the shipped suite")
    # Self-test aid: start the embedded server with a deliberate fault (dxconform serve --fault list).
    p.add_argument("--embedded-fault", action="append", default=[], metavar="NAME", help=argparse.SUPPRESS)


def fuzz_examples(args: argparse.Namespace) -> int:
    """The fuzzing budget the options ask for (0: off); usage errors for contradictions."""
    if args.fuzz_examples is not None and args.fuzz_examples < 0:
        raise UsageError(f"--fuzz-examples must be >= 0, got {args.fuzz_examples}")
    if args.no_fuzz and (args.fuzz or args.fuzz_only or args.fuzz_examples):
        raise UsageError("--no-fuzz contradicts --fuzz, --fuzz-only and --fuzz-examples N")
    if args.fuzz_only and args.fuzz_examples == 0:
        raise UsageError("--fuzz-only with --fuzz-examples 0 would run nothing")
    if args.fuzz_examples is not None:
        return args.fuzz_examples
    return RECOMMENDED_FUZZ_EXAMPLES if args.fuzz or args.fuzz_only else 0


def _check_arguments(args: argparse.Namespace) -> None:
    args.fuzz_budget = fuzz_examples(args)
    if args.fuzz_budget == 0 and (args.fuzz_mode or args.fuzz_container):
        raise UsageError("--fuzz-mode and --fuzz-container apply to fuzzing: add --fuzz or --fuzz-examples N")
    if args.reruns < 0:
        raise UsageError(f"--reruns must be >= 0, got {args.reruns}")
    _check_claims(getattr(args, "claims", None) or [])
    if getattr(args, "shard", None):
        from ..pytest_plugin.shard import parse_shard
        try:
            parse_shard(args.shard)
        except ValueError as problem:
            raise UsageError(f"--shard: {problem}") from None
    if getattr(args, "expectations", None) is not None:
        _check_expectations(Path(args.expectations))
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0, got {args.timeout:g}")
    if args.deadline is not None and args.deadline <= 0:
        raise UsageError(f"--deadline must be > 0, got {args.deadline:g}")
    if args.body_budget < 0:
        raise UsageError(f"--body-budget must be >= 0, got {args.body_budget:g}")
    if not (args.workers == "auto" or args.workers.isdigit()):
        raise UsageError(f"-n expects a number or 'auto', got {args.workers!r}")
    if args.server is not None:
        parts = urlsplit(args.server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--server must be an http:// or https:// URL, got {args.server!r}")
        if args.embedded_fault:
            raise UsageError("--embedded-fault applies to the embedded server only (leave out --server)")


def _check_claims(values: list[str]) -> None:
    """An unknown profile name in --claims stops the run before anything is sent."""
    from ..spec import load_spec

    known = {route.profile for route in load_spec().routes}
    for name in (n.strip() for value in values for n in value.split(",")):
        if name and name not in known:
            raise UsageError(f"--claims: unknown profile {name!r} (profiles: {', '.join(sorted(known))})")


def _check_expectations(path: Path) -> None:
    """A broken expectations file stops the run before anything is sent: each problem as `file:line: ...`."""
    from ..gate import ExpectationsError, load_expectations

    try:
        load_expectations(path)
    except ExpectationsError as problem:
        for error in problem.errors:
            print(error, file=sys.stderr)
        raise UsageError(f"{len(problem.errors)} problem(s) in the expectations file {path}") from None


def _case_dirs(args: argparse.Namespace) -> list[Path]:
    """The run's case directories: the suite (the shipped one, or `--cases DIR` instead) first, then each
    `--add-cases DIR`. None may lie inside another: their files would run twice."""
    from ..resources import cases_dir

    given = [("--cases", args.cases)] if args.cases else []
    given += [("--add-cases", d) for d in getattr(args, "add_cases", None) or []]
    dirs = [] if args.cases else [cases_dir()]
    for flag, value in given:
        path = Path(value).resolve()
        if not path.is_dir():
            raise UsageError(f"{flag}: case directory {value} does not exist")
        for earlier in dirs:
            if path == earlier or earlier in path.parents or path in earlier.parents:
                raise UsageError(f"{flag} {value}: {path} overlaps the case directory {earlier} of this run")
        dirs.append(path)
    return dirs


def _check_case_files(dirs: list[Path]) -> tuple[int, list[PreloadedSuite]]:
    """Broken case files stop the run before anything is sent: every problem as `file:line: message`. A case
    added with --add-cases may not take the id of a case already in the run (the suite's or an earlier
    directory's): -k, the results and expectations files would not tell the two apart. Returns the number of
    cases and, for a run of one case directory, its suite as loaded, for the plugin to use (suite.py)."""
    from ..cases import CaseLoadError, load_suite
    from ..cases.loader import case_files
    from ..checks import CHECKS
    from ..pytest_plugin.suite import PreloadedSuite

    seen: dict[str, str] = {}       # case id (before any for_each expansion) -> where it is first defined
    collisions: list[str] = []
    count = 0
    preloaded: list[PreloadedSuite] = []
    for index, cases in enumerate(dirs):
        try:
            # Files are labelled as the run names them: relative to the suite's parent (pytest's rootdir),
            # an added file outside it by its full path.
            files = [path.resolve() for path in case_files([cases])]
            suite = load_suite(files, base=dirs[0].parent, known_checks=CHECKS)
        except CaseLoadError as problem:
            for error in problem.errors:
                print(error, file=sys.stderr)
            raise UsageError(f"{len(problem.errors)} problem(s) in the case files under {cases}") from None
        if not suite.cases:
            raise UsageError(f"no cases under {cases}")
        if len(dirs) == 1:
            preloaded.append(PreloadedSuite(suite, tuple(files), dirs[0].parent))
        count += len(suite.cases)
        ids: dict[str, str] = {}
        for case in suite.cases:
            ids.setdefault(case.id.split("[", 1)[0], str(case.location))
        if index:
            collisions += [f"{where}: case id {case_id!r} is already in this run, at {seen[case_id]}"
                           for case_id, where in ids.items() if case_id in seen]
        for case_id, where in ids.items():
            seen.setdefault(case_id, where)
    if collisions:
        for line in collisions:
            print(line, file=sys.stderr)
        raise UsageError(f"{len(collisions)} added case id(s) collide with cases already in the run: "
                         f"give them other ids")
    return count, preloaded


def default_deadline(cases: int, fuzz_budget: int) -> float:
    """--deadline when not given: sized from the number of cases (and the fuzzing budget)."""
    return DEADLINE_BASE_S + cases * DEADLINE_PER_CASE_S + fuzz_budget * DEADLINE_PER_FUZZ_EXAMPLE_S


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, str], bool]]:
    """(server URL, tokens by user, embedded?): the embedded reference server for the duration, or the
    server given (probed first)."""
    if args.server is None:
        from ..refserver.context import Settings
        from ..refserver.faults import FAULTS
        from ..refserver.server import RefServer

        unknown = sorted(set(args.embedded_fault) - set(FAULTS))
        if unknown:
            raise UsageError(f"unknown fault {unknown[0]!r} (dxconform serve --fault list shows them)")
        with RefServer(settings=Settings(faults=frozenset(args.embedded_fault))) as server:
            if getattr(args, "fuzz_budget", 0) and not args.fuzz_container:
                args.fuzz_container = [_lend_container(server)]
            try:
                yield server.url, {"alice": server.token("alice"), "bob": server.token("bob")}, True
            finally:
                # Requests a fault stalls are cancelled at shutdown; uvicorn would log a traceback for each.
                logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        return
    tokens = {user: token for user, token in (("alice", args.token or os.environ.get(TOKEN_ENV)),
                                              ("bob", args.token2 or os.environ.get(TOKEN2_ENV))) if token}
    if "alice" not in tokens:
        raise UsageError(f"--server needs --token (or ${TOKEN_ENV})")
    _probe(args, args.server.rstrip("/"), tokens)
    yield args.server.rstrip("/"), tokens, False


def _lend_container(server) -> str:
    """A plain container of alice's on the embedded server, for the fuzzer's container routes (the API
    cannot make one; the reference server's own helper can)."""
    from ..refserver.containers import create_container

    return create_container(server.app.db, "user-alice", name="dxconform fuzzing (lent)")


def _probe(args: argparse.Namespace, url: str, tokens: dict[str, str]) -> None:
    """Before any case runs (cli/probe.py): whoami with each token, within the run's --timeout. No API at
    the URL, a refused token, one user for both tokens, an unreachable server: exit 2, one sentence. No
    second token: a warning naming the cases that will end as unsupported."""
    from .probe import probe, second_user_cases, warn_no_second_user

    sources = {"alice": "--token" if args.token else f"${TOKEN_ENV}",
               "bob": "--token2" if args.token2 else f"${TOKEN2_ENV}"}
    probe(url, tokens, sources, timeout=args.timeout)
    if "bob" not in tokens:
        suite, *added = _case_dirs(args)
        if not added:
            warn_no_second_user(suite, "--token2")
        elif count := sum(map(second_user_cases, [suite, *added])):
            print(f"dxconform: warning: no --token2: {count} cases that need a second user will be unsupported",
                  file=sys.stderr)


@contextlib.contextmanager
def _token_environment(tokens: dict[str, str]) -> Iterator[None]:
    """Tokens reach pytest (and its xdist workers) through the environment, never through argv."""
    saved = {name: os.environ.get(name) for name in (TOKEN_ENV, TOKEN2_ENV)}
    for name, user in ((TOKEN_ENV, "alice"), (TOKEN2_ENV, "bob")):
        if tokens.get(user):
            os.environ[name] = tokens[user]
        else:
            os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_arguments(args: argparse.Namespace, dirs: list[Path], server: str, embedded: bool,
                     out: Path) -> list[str]:
    """pytest's command line for a run of the case files under `dirs` (the suite first, then added ones)."""
    suite = dirs[0]
    argv = [*(str(d) for d in dirs), "-p", PLUGIN, "-p", "no:cacheprovider", *EXPLICIT_PLUGINS,
            # Our own empty configuration and rootdir: a pytest.ini or conftest.py near the user's working
            # directory must not change the run, and the suite's ids read cases/<area>/<file>.yaml::<case>
            # (an added file outside the rootdir is named by its full path).
            "-c", str(RUN_INI), "--rootdir", str(suite.parent), "--noconftest",
            "--dx-server", server, *(arg for d in dirs for arg in ("--dx-cases", str(d))), "--dx-out", str(out),
            "--dx-timeout", f"{args.timeout:g}", "--dx-reruns", str(args.reruns),
            "--dx-body-budget", str(int(args.body_budget * MIB)),
            "-n", args.workers]
    if embedded:
        argv.append("--dx-embedded")
    if getattr(args, "quiet", False):
        argv += ["-p", "no:terminal", "--dx-quiet"]
    if args.project:
        argv += ["--dx-project", args.project]
    for profile in args.profile:
        argv += ["--dx-profile", profile]
    claims = list(getattr(args, "claims", None) or [])
    if embedded and not claims:
        # The embedded server claims what it implements, so the run holds it to every route of those profiles.
        from ..refserver.server import CLAIMED_PROFILES

        claims = list(CLAIMED_PROFILES)
    for claim in claims:
        argv += ["--dx-claims", claim]
    if args.keyword:
        argv += ["-k", args.keyword]
    if getattr(args, "deadline_s", None):
        argv += ["--dx-deadline", f"{args.deadline_s:g}"]
    if getattr(args, "keep", False):
        argv.append("--dx-keep")
    if getattr(args, "expectations", None):
        argv += ["--dx-expectations", str(Path(args.expectations).resolve())]
    if getattr(args, "shard", None):
        argv += ["--dx-shard", args.shard]
    return argv + fuzz_arguments(args)


def fuzz_arguments(args: argparse.Namespace) -> list[str]:
    """The plugin's fuzzing options and the run's seed (decided here, once: every worker uses the same)."""
    budget = getattr(args, "fuzz_budget", 0)
    if not budget:
        # The seed of generated cases (`generate:`); without it they use 0.
        return [] if args.seed is None else ["--dx-seed", str(args.seed)]
    from ..pytest_plugin.fuzz_plan import default_seed

    if args.seed is None:
        args.seed = default_seed()
    argv = ["--dx-fuzz-examples", str(budget), "--dx-seed", str(args.seed)]
    for mode in args.fuzz_mode:
        argv += ["--dx-fuzz-mode", mode]
    for container in args.fuzz_container:
        argv += ["--dx-fuzz-container", container]
    if args.fuzz_only:
        argv.append("--dx-fuzz-only")
    return argv


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    _escape_unencodable_output()
    dirs = _case_dirs(args)
    # A run that only fuzzes runs no case: it neither checks nor loads the case files (nor does the plugin).
    cases, preloaded = (0, []) if args.fuzz_only else _check_case_files(dirs)
    args.deadline_s = args.deadline or default_deadline(cases, args.fuzz_budget)
    out = Path(args.out).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output directory {out}: {exc}") from None
    for name in ("results.json", "junit.xml", "report.html"):
        (out / name).unlink(missing_ok=True)  # a stale file must never pass for this run's
    # Every token is scrubbed from stdout, stderr, logs and warnings for the run (output_guard.py).
    written = _WrittenDocument()
    with guard_outputs([args.token, args.token2, os.environ.get(TOKEN_ENV), os.environ.get(TOKEN2_ENV)]) as guard, \
            _target(args) as (server, tokens, embedded), _token_environment(tokens):
        guard.add(tokens.values())
        code = _run_pytest(pytest_arguments(args, dirs, server, embedded, out), dirs[0],
                           plugins=[*preloaded, written])
        _scrub_outputs(out, tokens.values())
    from ..reporting.badges import BADGES_DIR, write_badges, write_run_badges
    if written.document is not None:
        write_badges(written.document, out / BADGES_DIR)  # DIR/badges/<profile>-<level>.svg
    else:
        write_run_badges(out)
    if code == 5 and getattr(args, "shard", None):
        code = 0    # a shard may hold none of the selected cases; its (empty) results still merge
    return _exit_code(code, out, flaky_fails=args.flaky_fails, document=written.document)


class _WrittenDocument:
    """A plugin object for pytest.main: keeps the results document the run wrote (as data), so that the exit
    code and the badges come from it without reading results.json back."""

    def __init__(self):
        self.document: dict | None = None

    def pytest_unconfigure(self, config) -> None:
        from ..pytest_plugin.plugin import written_document

        self.document = written_document(config)


def _escape_unencodable_output() -> None:
    """The terminal gets what servers answered (messages, values): a character the stream cannot encode (a
    lone surrogate from an answer's "\\udc00") is printed as its backslash escape, never a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _run_pytest(argv: list[str], cases: Path, plugins: list[object] = ()) -> int:
    """pytest.main in this process, from the cases' parent (so ids print as cases/...), with no plugin
    autoloading (installed pytest plugins such as hypothesis or anyio do not belong in this run); `plugins`
    are plugin objects given to pytest."""
    import pytest

    sys.stdout.flush()
    saved_cwd, saved_autoload = os.getcwd(), os.environ.get(AUTOLOAD_ENV)
    os.environ[AUTOLOAD_ENV] = "1"
    os.chdir(cases.parent)
    try:
        return int(pytest.main(argv, plugins=list(plugins)))
    finally:
        os.chdir(saved_cwd)
        if saved_autoload is None:
            os.environ.pop(AUTOLOAD_ENV, None)
        else:
            os.environ[AUTOLOAD_ENV] = saved_autoload


def _scrub_outputs(out: Path, tokens) -> None:
    """The last guard: no token, in any of its encoded forms (redaction.py), in any file the run wrote,
    whatever a plugin may have written. A JSON file is scrubbed as data if scrubbing its text would break it."""
    import json

    from ..redaction import redactor
    from ..reporting.encodable import encodable
    from ..reporting.reproduction import REPRO_DIR

    scrubber = redactor(tokens)
    repro = out / REPRO_DIR
    paths = [out / "results.json", out / "junit.xml", out / "report.html",
             *(sorted(repro.rglob("*")) if repro.is_dir() else [])]
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        clean = scrubber.scrub(data)
        if clean == data:
            continue
        if path.suffix == ".json":
            try:
                json.loads(clean)
            except ValueError:
                document = scrubber.scrub_json(json.loads(data))
                clean = (encodable(json.dumps(document, indent=1, ensure_ascii=False)) + "\n").encode("utf-8")
        path.write_bytes(clean)


def _exit_code(pytest_code: int, out: Path, *, flaky_fails: bool = False, document: dict | None = None) -> int:
    """CONTRACT exit codes from pytest's and from results.json (which alone knows levels; `document` is what
    was written there, else the file is read): 1 for an unexpected MUST failure (xfailed results are expected
    ones), or a flaky MUST result with --flaky-fails."""
    from ..gate import gate_failures
    from ..reporting.results_json import read_document

    if pytest_code == 5:
        raise UsageError("no case matched the selection (-k / --profile)")
    if pytest_code == 2:
        raise UsageError("the run was interrupted")
    if pytest_code not in (0, 1):
        raise UsageError(f"pytest stopped with exit code {pytest_code} (see above)")
    if document is None:
        try:
            document = read_document(out / "results.json")
        except (OSError, ValueError) as exc:
            raise UsageError(f"no results were written: {exc}") from None
    stopped = document.get("stopped")
    if stopped:   # the run did not run everything: no verdict (exit 2), what ran is in results.json
        raise UsageError(f"the run stopped: {stopped['message']}; {stopped['not_run']} case(s) not run "
                         f"(skipped); what ran is in {out / 'results.json'}")
    return EXIT_FAILED if gate_failures(document, flaky_fails=flaky_fails) else EXIT_OK


__all__ = ["EXIT_USAGE", "add_run_options", "register", "run"]
