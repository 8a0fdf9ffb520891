"""The dxconform pytest plugin: hooks wiring options, collection, per-process sessions, reports and cleanup.

Load it explicitly: `pytest -p conformance.pytest_plugin.plugin --dx-server URL cases/` (tokens in
$DXCONFORM_TOKEN / $DXCONFORM_TOKEN2). `dxconform run` does this for you.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ..engine import RunConfig, new_run_prefix
from ..gate.known_failures import EXPECTED_KEY
from ..model import Failure, FailurePhase, Outcome, Result
from ..output_guard import guard_outputs
from ..redaction import redactor
from ..reporting import reproduction
from ..reporting.json_text import scrubbed_text
from ..reporting.summary import quiet_lines, terminal_lines
from . import fuzz_plan
from .gather import (
    CLEANUP_KEY,
    JUNIT_FILE,
    KEPT_KEY,
    LEDGER_KEY,
    OUTCOME_ATTRIBUTE,
    REPORT_FILE,
    RESULT_ATTRIBUTE,
    STOPPED_KEY,
    Gatherer,
)
from .html_hooks import HtmlHooks, add_environment, failure_extras
from .items import STATIC_MARKERS, CaseFile, CaseItem
from .options import DxOptions, add_options, run_config, tokens_from_environment
from .progress import Progress
from .reruns import ATTEMPTS_KEY, attempts_json
from .shard import add_shard_option, add_shard_section, select_shard
from .state import STATE_KEY, ProcessState, read_expectations, state_of
from .summary_lines import gate_lines

# Loaded with this plugin: garbage-collector tuning of the run (gc_tuning.py says why).
pytest_plugins = ["conformance.pytest_plugin.gc_tuning"]
GATHERER_KEY = pytest.StashKey[Gatherer]()
# Per process: the exchanges (with their senders) that set up each `scope: run` fixture, kept from the case
# that set it up, for the replay of the later cases that use it (their own exchanges do not hold them).
RUN_FIXTURE_SETUPS = pytest.StashKey[dict[str, list[dict[str, Any]]]]()
RUN_PREFIX_INPUT = "dx_run_prefix"
DEADLINE_INPUT = "dx_deadline_at"     # the run's deadline as a time.time() value, the same in every worker
PROFILE_PROBE_TIMEOUT_S = 10.0
CONTROLLER_NAME = "dxconform-controller"
FUZZ_ITEMS_MODULE = f"{__package__}.fuzz_items"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_shard_option(parser)


@pytest.hookimpl(trylast=True)  # after pytest-metadata filled the environment table
def pytest_configure(config: pytest.Config) -> None:
    for name, description in STATIC_MARKERS:
        config.addinivalue_line("markers", f"{name}: {description}")
    options = DxOptions.from_config(config)
    _guard_outputs(config)
    if _is_worker(config):
        run_prefix = config.workerinput[RUN_PREFIX_INPUT]
        deadline_at = config.workerinput.get(DEADLINE_INPUT)
    else:
        # One prefix for the whole run: every xdist worker gets it through its workerinput.
        run_prefix = new_run_prefix()
        # The deadline counts from here, the start of the run (the workers get it as a time, not a duration).
        deadline_at = time.time() + options.deadline if options.deadline else None
        gatherer = Gatherer(options.server or "", options.embedded, tokens_from_environment().values(),
                            expectations=read_expectations(options))
        if not config.option.collectonly:
            # Fails early (usage error) without a server or a token; then which profiles the server has.
            gatherer.set_profiles(*_probe_profiles(run_config(options, run_prefix)))
        config.stash[GATHERER_KEY] = gatherer
        plan = fuzz_plan.configure(config, options, gatherer.profiles)
        gatherer.extra["seed"] = plan.seed
        if plan.enabled:
            gatherer.extra["fuzz"] = fuzz_plan.plan_json(plan)
        config.pluginmanager.register(ControllerHooks(config, gatherer), CONTROLLER_NAME)
        # Every pytest-html hook is optional: registered always, they run when pytest-html is loaded
        # (by entry point as "html", or with -p pytest_html.plugin under `dxconform run`).
        config.pluginmanager.register(HtmlHooks(gatherer), "dxconform-html")
        add_environment(config, gatherer)
    if _is_worker(config):
        fuzz_plan.configure(config, options)
    config.stash[STATE_KEY] = ProcessState(config, options, run_prefix, deadline_at=deadline_at)


def _guard_outputs(config: pytest.Config) -> None:
    """The tokens are scrubbed from this process's logs, warnings, stdout and stderr until pytest ends (in
    xdist workers too, whose stderr is the terminal's; under `dxconform run` the run's guard is reused)."""
    stack = contextlib.ExitStack()
    stack.enter_context(guard_outputs(tokens_from_environment().values()))
    config.add_cleanup(stack.close)


def _probe_profiles(config: RunConfig) -> tuple[dict[str, Any], float]:
    """The profile probe (engine/profiles.py), before any case runs, with a short per-request deadline."""
    from ..engine.profiles import probe_profiles
    from ..engine.transport import Transport
    from ..spec import load_spec

    with Transport(config.server, dict(config.tokens), timeout=min(config.timeout, PROFILE_PROBE_TIMEOUT_S),
                   max_body_bytes=config.max_body_bytes) as transport:
        return probe_profiles(transport, load_spec(), config.claims, config.run_prefix, config.project)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[RUN_PREFIX_INPUT] = state_of(node.config).run_prefix
    node.workerinput[DEADLINE_INPUT] = state_of(node.config).deadline_at
    node.workerinput[fuzz_plan.SEED_INPUT] = fuzz_plan.plan_of(node.config).seed
    node.workerinput[fuzz_plan.PROFILES_INPUT] = list(fuzz_plan.plan_of(node.config).profiles)


def pytest_report_header(config: pytest.Config) -> str | None:
    plan = fuzz_plan.plan_of(config)
    return fuzz_plan.header_line(plan) if plan.enabled else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if fuzz_plan.plan_of(parent.config).fuzz_only:
        return None   # no case runs: the case files are neither loaded nor collected
    if file_path.resolve() in state_of(parent.config).loaded().files:
        return CaseFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect: fuzz items are selected like cases
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    plan = fuzz_plan.plan_of(config)
    if plan.enabled or plan.fuzz_only:
        # Imported only for a run that fuzzes: the fuzzer's imports (hypothesis ...) cost every other run,
        # and every xdist worker, a noticeable part of its start.
        from . import fuzz_items

        fuzz_items.add_items(session, items)
    _deselect_profiles(config, items)
    select_shard(config, items, lambda item: item.case.uid if isinstance(item, CaseItem) else item.nodeid)


def _deselect_profiles(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Cases of a profile not asked for with --dx-profile are not part of the run (deselected, like -k)."""
    options = state_of(config).options
    keep, drop = [], []
    for item in items:
        (drop if isinstance(item, CaseItem) and not options.selects(item.case.profile) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _error_result(item: CaseItem, report: pytest.TestReport) -> Result:
    """A Result for a case whose run raised inside the suite (a bug of ours, shown as an error)."""
    case = item.case
    problem = str(report.longrepr).strip().splitlines()[-1][:500]
    return Result(id=case.uid, title=case.title, area=case.area, topic=case.topic, level=case.level,
                  profile=case.profile, outcome=Outcome.ERROR, source=case.source, routes=list(case.routes),
                  message=f"internal error: {problem}", failure=Failure(FailurePhase.INTERNAL, error=problem))


def _result_json(item: CaseItem, result: Result) -> dict[str, Any]:
    """The case's results.json entry: the Result, each attempt when it was rerun, its expectation if listed."""
    record = result.to_json()
    if result is item.result and len(item.attempts) > 1:
        record[ATTEMPTS_KEY] = attempts_json(item.attempts)
    if item.expectation is not None:
        record[EXPECTED_KEY] = item.expectation.to_json()
    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report: pytest.TestReport = (yield).get_result()
    if isinstance(item, CaseItem) and call.when == "teardown":
        # The result went out on its report as JSON: the item (which pytest keeps to the end) lets go of its
        # exchanges, so that what a run holds grows by the JSON of each case, not by its bytes and objects.
        item.result, item.attempts = None, []
        return
    if not isinstance(item, CaseItem):
        fuzz_items = sys.modules.get(FUZZ_ITEMS_MODULE)   # fuzz items exist only once it was imported
        if fuzz_items is not None and isinstance(item, fuzz_items.FuzzItem):
            attached = fuzz_items.attach_results(item, report, call, RESULT_ATTRIBUTE)
            if attached:
                setattr(report, OUTCOME_ATTRIBUTE, attached[0]["outcome"])
            if attached and report.failed:
                report.extras = [*getattr(report, "extras", []), *failure_extras(attached[0])]
        return
    # The result rides on the report that decides the outcome: the call's, or the setup's if that failed.
    if not (call.when == "call" or (call.when == "setup" and report.failed)):
        return
    result = item.result
    if result is None or (report.failed and result.outcome == Outcome.PASSED):
        result = _error_result(item, report)
    _remember_run_fixtures(item)
    record = _result_json(item, result)
    if result.failure is not None and result.exchanges:
        replay = _replay_record(item, result)
        if replay is not None:
            record[reproduction.REPLAY_KEY] = replay
    text = scrubbed_text(record, redactor(tokens_from_environment().values()), json.dumps)
    setattr(report, RESULT_ATTRIBUTE, text)
    setattr(report, OUTCOME_ATTRIBUTE, result.outcome.value)
    if result.outcome in (Outcome.FAILED, Outcome.ERROR):
        report.sections.append(("dxconform: reproduce", _reproduce_text(item, json.loads(text))))
    if result.outcome == Outcome.XPASSED:
        report.wasxfail = result.message   # pytest's face of an unexpected pass: XPASS, not failing
    if result.outcome in (Outcome.FAILED, Outcome.ERROR):
        report.extras = [*getattr(report, "extras", []), *failure_extras(json.loads(text))]


def _replay_record(item: CaseItem, result: Result) -> dict[str, Any] | None:
    """results.json `replay` of a case (reporting/reproduction.py): who sent each exchange, read from the case
    files, and the setup of the `scope: run` fixtures it used that an earlier case of this process set up."""
    suite = state_of(item.config).loaded().suite
    senders = reproduction.senders_of(result.exchange_steps, item.case, suite.fixtures)
    if senders is None or len(senders) != len(result.exchanges):
        return None
    present = set(reproduction.run_fixture_names(result.exchange_steps))
    setups = item.config.stash.get(RUN_FIXTURE_SETUPS, {})
    before = [entry for fixture in suite.fixture_order(item.case)
              if fixture.scope == "run" and fixture.name not in present for entry in setups.get(fixture.name, [])]
    return reproduction.replay_record(senders, before)


def _remember_run_fixtures(item: CaseItem) -> None:
    """Keep the exchanges that set up a `scope: run` fixture (from the first case of this process that did)."""
    setups = item.config.stash.setdefault(RUN_FIXTURE_SETUPS, {})
    suite = state_of(item.config).loaded().suite
    for attempt in item.attempts or ([item.result] if item.result is not None else []):
        for name in reproduction.run_fixture_names(attempt.exchange_steps):
            if name in setups:
                continue
            prefix = f"run fixture {name} step "
            pairs = [(exchange, key) for exchange, key in zip(attempt.exchanges, attempt.exchange_steps, strict=False)
                     if key.startswith(prefix)]
            senders = reproduction.senders_of([key for _, key in pairs], item.case, suite.fixtures)
            if senders is not None:
                setups[name] = [{"exchange": exchange.to_json(), "sender": sent}
                                for (exchange, _), sent in zip(pairs, senders, strict=True)]


def _reproduce_text(item: CaseItem, record: dict[str, Any]) -> str:
    """The terminal's lines under a failure: its reproduction script, and the run line that keeps its objects."""
    options = state_of(item.config).options
    server = options.server or ""
    lines = []
    try:
        users = reproduction.plan(record, server)["users"]
    except reproduction.NoScript as why:
        lines.append(f"no reproduction script: {why}")
    else:
        where = (options.out / reproduction.REPRO_DIR) if options.out else Path(reproduction.REPRO_DIR)
        env = " ".join(f"{reproduction.token_variable(u)}=..." for u in users)
        lines.append(f"script: {env + ' ' if env else ''}python3 {where / reproduction.script_name(record['id'])}"
                     "   (exit 1: the failure reproduces)")
    lines.append(f"rerun, keeping what it creates: "
                 f"{reproduction.rerun_command(record['id'], server, options.embedded)}")
    return "\n".join(lines)


# pytest's face of our outcomes that it has no word for: its final line then reads in the report's words.
_TEST_STATUS = {Outcome.UNSUPPORTED.value: ("unsupported", "u", "UNSUPPORTED"),
                Outcome.FLAKY.value: ("flaky", "f", "FLAKY")}


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """An unsupported case shows as `unsupported` (not `skipped`), a flaky one as `flaky` (not `passed`), so
    pytest's closing line counts cases in the words results.json, junit.xml and report.html use."""
    outcome = getattr(report, OUTCOME_ATTRIBUTE, None)   # set with the result (which the gatherer then takes)
    if outcome is None or report.when not in ("call", "setup"):
        return None
    return _TEST_STATUS.get(outcome)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Every process cleans up what it created (also after a failure or Ctrl-C), then hands on its ledger."""
    config = session.config
    state = state_of(config)
    try:
        state.close()
    finally:
        output = {LEDGER_KEY: state.ledger_json, CLEANUP_KEY: list(state.cleanup_failures),
                  KEPT_KEY: _kept(state), STOPPED_KEY: state.stopped_json}
        if _is_worker(config):
            config.workeroutput.update(output)
        else:
            config.stash[GATHERER_KEY].add_worker_output(output)


def written_document(config: pytest.Config) -> dict[str, Any] | None:
    """The results document this process (the controller) wrote to results.json, as data; None if it wrote
    none. `dxconform run` takes its exit code and badges from it, rather than reading the file back."""
    controller = config.pluginmanager.get_plugin(CONTROLLER_NAME)
    if controller is None or controller.results_path is None:
        return None
    return controller.gatherer.document()


def _kept(state: ProcessState) -> dict[str, Any] | None:
    """What this process left on the server under --keep (its cleanup report's `kept`), else None."""
    session = getattr(state, "_session", None)   # None: this process never ran a case
    report = getattr(session, "cleanup_report", None)
    return getattr(report, "kept", None)


class ControllerHooks:
    """The hooks only the controller runs: gather results, write results.json, print the summary."""

    def __init__(self, config: pytest.Config, gatherer: Gatherer):
        self.config = config
        self.gatherer = gatherer
        self.results_path: Path | None = None
        self.progress = Progress(lambda: len(self.gatherer.failed_ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.gatherer.add_report(report)
        if report.when == "teardown":
            self.progress.finished(report.nodeid)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.progress.expect(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.progress.expect(len(ids))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.gatherer.add_worker_output(getattr(node, "workeroutput", None) or {})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        out = state_of(self.config).options.out
        if out is not None and not self.config.option.collectonly:
            add_shard_section(self.config, self.gatherer.extra, self.gatherer.ledger.to_json())
            self.results_path = self.gatherer.write(out)
        if state_of(self.config).options.quiet and not self.config.option.collectonly:
            # No terminal reporter (-p no:terminal): the short account goes straight to stdout.
            for line in quiet_lines(self.gatherer.document(), self._files()) + self._repro_and_kept_lines():
                print(line, flush=True)

    def _repro_and_kept_lines(self) -> list[str]:
        """Where the reproduction scripts are, and (with --keep) what the run left and how to delete it."""
        lines = []
        written = self.gatherer.repro_written
        if written:
            directory, count = written
            lines.append(f"reproduction scripts: {count} in {directory}/ (one per failed case; e.g. "
                         f"`python3 {directory}/<case>.py`, tokens in $DX_TOKEN_ALICE / $DX_TOKEN_BOB; exit 1 "
                         "when the failure reproduces)")
        options = state_of(self.config).options
        if options.keep:
            document = self.gatherer.document()
            lines += reproduction.kept_lines(self.gatherer.kept, options.server or "", options.embedded,
                                             reproduction.objects_by_project(document["results"]))
        return lines

    def _files(self) -> dict[str, str]:
        out = self.results_path.parent if self.results_path else None
        return {"results": str(self.results_path or ""), "junit": str(out / JUNIT_FILE) if out else "",
                "report": str(out / REPORT_FILE) if out else ""}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.config.option.collectonly or not self.gatherer.case_results and not self.results_path:
            return
        terminalreporter.section("dxconform")
        for line in terminal_lines(self.gatherer.document(), self._files()):
            terminalreporter.write_line(line)
        for line, color in gate_lines(self.gatherer.document()["results"], self.gatherer.expectations,
                                      state_of(self.config).options):
            terminalreporter.write_line(line, **({color: True} if color else {}))
        for line in self.gatherer.lost:
            terminalreporter.write_line(f"no result: {line}", yellow=True)
        for failure in self.gatherer.cleanup_failures:
            terminalreporter.write_line(f"cleanup could not remove: {failure}", red=True)
        for line in self._repro_and_kept_lines():
            terminalreporter.write_line(line)
