"""Run a fuzzed example (one or more steps) and check every exchange: the runner's protocol checks (one
implementation, conformance.checks) plus the fuzz-only rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..checks import CheckContext, run_checks
from ..model import Exchange, Finding
from ..spec import Spec
from .bridge import documented_errors
from .executables import takes_current_edit_version, with_edit_version
from .rules import fuzz_rule_findings
from .session import Session, dumps
from .steps import Step, Steps, Unbound

DESCRIBE_EDIT_VERSION = {"fields": {"editVersion": True}}


@dataclass
class Outcome:
    """What an example did: one exchange per step (None where a step could not be sent) and the findings,
    each with the index of the step it hit."""

    steps: Steps
    exchanges: list[Exchange | None] = field(default_factory=list)
    findings: list[tuple[int, Finding]] = field(default_factory=list)

    def rules(self) -> set[tuple[str, str]]:
        """(route, rule) pairs this example broke."""
        return {(self.steps[index].route, finding.check) for index, finding in self.findings}

    def hit(self, route: str, rule: str) -> tuple[int, list[Finding]] | None:
        """(index of the exchange, findings) of the first step that broke `rule` on `route`."""
        for index, finding in self.findings:
            if finding.check == rule and self.steps[index].route == route:
                return index, [f for i, f in self.findings if i == index and f.check == rule]
        return None


class Executor:
    def __init__(self, session: Session, spec: Spec):
        self.session = session
        self.spec = spec

    def run(self, steps: Steps, bindings: Mapping[str, str]) -> Outcome:
        local = dict(bindings)
        outcome = Outcome(steps)
        for index, step in enumerate(steps):
            try:
                exchange = self.session.send(self.as_client(step, local), local)
            except Unbound:
                # The object it names was never made (its */new was refused): nothing to call.
                outcome.exchanges.append(None)
                continue
            outcome.exchanges.append(exchange)
            outcome.findings.extend((index, f) for f in self.check(step, exchange))
        return outcome

    def as_client(self, step: Step, bindings: Mapping[str, str]) -> Step:
        """`step` as a client sends it: a workflow edit with the workflow's current edit version, read from
        its describe just before (executables.py says why); any other step as it is."""
        if not takes_current_edit_version(step):
            return step
        path = step.path(bindings)
        exchange = self.session.call(path.rsplit("/", 1)[0] + "/describe", dumps(DESCRIBE_EDIT_VERSION),
                                     "/workflow-xxxx/describe")
        answer = exchange.response.json if exchange.response is not None else None
        version = answer.get("editVersion") if isinstance(answer, dict) else None
        return with_edit_version(step, version) if type(version) is int else step

    def check(self, step: Step, exchange: Exchange) -> list[Finding]:
        valid = step.violation is None and step.raw is None
        context = CheckContext(spec=self.spec, route=step.route, valid_input=valid)
        findings = run_checks(context, exchange)
        findings.extend(fuzz_rule_findings(step, exchange, documented_errors(self.spec, step.route)))
        return findings
