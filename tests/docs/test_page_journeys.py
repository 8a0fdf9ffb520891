"""Every docs page with shell commands, followed literally: each page's `sh` blocks run top to bottom in a fresh
directory and a fresh environment (tests/docs/shell.py), exiting as the page says (`# exits 1`; else 0).

A page starts its own servers and sets its own tokens: no page leans on another's environment. Fixed ports
are swapped for free ones (the same swap everywhere on the page); `pip install` lines are skipped (the package
under test is installed already). What each journey costs, measured with `-n 2` on the project's 2-CPU machine
while the rest of the test run shared it, is in JOURNEYS; the slow ones carry the `slow` marker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from .shell import DOCS, Shell, page_commands, sh_blocks

# certify.md: the failure the page explains, as it names it.
EXPLAINED_ID = "cases/semantics/metadata/tags-types.yaml::tags-keep-insertion-order"
GITHUB_RECIPE = DOCS / "ci" / "github-actions.yml"


@dataclass(frozen=True)
class Journey:
    page: str
    cost: str                                                # what following the page runs, and how long
    check: Callable[[Shell], None] = lambda shell: None     # what must hold once the page has run
    then: Callable[[Shell], None] = lambda shell: None      # what the reader does next, off the page
    # Files the page asks the reader to save (path in the page's directory -> where the content comes from).
    saves: dict[str, Path] = field(default_factory=dict)
    slow: bool = False


def output_of(shell: Shell, prefix: str) -> str:
    """The standard output of the page's (last) command that starts with `prefix`."""
    matches = [out for line, out in shell.outputs if line.startswith(prefix)]
    assert matches, f"the page ran no command starting with {prefix!r}"
    return matches[-1]


def results(shell: Shell, out: str) -> dict:
    return json.loads((shell.cwd / out / "results.json").read_text())


def case_outcomes(shell: Shell, out: str) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in results(shell, out)["results"] if r["kind"] == "case"}


# --- what each page leaves behind ----------------------------------------------------------------------------

def check_certify(shell: Shell) -> None:
    lines = [c.line for c in page_commands(DOCS / "certify.md")]
    order = ["pip install", "dxconform serve", "dxconform run", "--fault", "dxconform certify", "dxconform verify"]
    positions = [next(i for i, line in enumerate(lines) if word in line) for word in order]
    assert positions == sorted(positions), lines
    # The failure the page explains is the only case its -k selects, and fails with the message it quotes.
    broken = case_outcomes(shell, "reports/broken")
    assert broken == {EXPLAINED_ID: "failed"}
    failed = next(r for r in results(shell, "reports/broken")["results"] if r["id"] == EXPLAINED_ID)
    page = (DOCS / "certify.md").read_text(encoding="utf-8")
    quoted = re.search(r"\(cases/semantics/metadata/tags-types\.yaml:\d+\): (\$\.tags: expected 3 elements, got 0)",
                       page)
    assert quoted and quoted.group(1) in failed["message"]
    assert f"{EXPLAINED_ID}:" in page
    # The certification passed and left its bundle where the page says.
    assert (shell.cwd / "reports/certify/certification.tar.gz").is_file()
    smoke = results(shell, "reports/smoke")
    assert smoke["summary"]["passed"] > 0 and smoke["summary"]["failed"] == 0


def run_github_recipe(shell: Shell) -> None:
    """The pipeline, once the page's expectations file is committed: every `run:` step of the GitHub recipe but
    the install, in order, with the job's environment, in the same directory."""
    job = yaml.safe_load(GITHUB_RECIPE.read_text(encoding="utf-8"))["jobs"]["conformance"]
    shell.env.update({name: shell.ports(str(value)) for name, value in job["env"].items()})
    ran = []
    try:
        for step in job["steps"]:
            if "run" in step and "pip install" not in step["run"]:
                shell.run_script(step["run"])
                ran.append(step["name"])
    finally:
        pid_file = shell.cwd / "server.pid"
        if pid_file.is_file() and "Stop the server" not in ran:
            shell.run_script('kill "$(cat server.pid)" || true')
    assert ran == ["Start the server under test", "Conformance gate", "Stop the server"]


def check_ci(shell: Shell) -> None:
    assert yaml.safe_load((shell.cwd / "conformance-expectations.yaml").read_text())["format"] == \
        "dxconform-expectations/1"
    out = shell.cwd / "reports" / "conformance"
    for name in ("report.html", "junit.xml", "results.json"):
        assert (out / name).is_file(), name
    document = json.loads((out / "results.json").read_text())
    assert document["server"]["embedded"] is False and document["summary"]["failed"] == 0


def check_compare(shell: Shell) -> None:
    before, after = case_outcomes(shell, "reports/server-a"), case_outcomes(shell, "reports/server-b")
    assert EXPLAINED_ID in before and before[EXPLAINED_ID] == "passed" and after[EXPLAINED_ID] == "failed"
    comparison = json.loads((shell.cwd / "reports/compare.json").read_text())
    assert comparison["format"] == "dxconform-compare/1"
    assert (shell.cwd / "reports/compare.html").is_file()


def check_write_a_case(shell: Shell) -> None:
    mine = f"{shell.cwd / 'my-cases' / 'semantics' / 'record-tags.yaml'}::added-tag-shows-then-goes"
    assert case_outcomes(shell, "reports/example") == {mine: "passed"}
    assert case_outcomes(shell, "reports/example-broken") == {mine: "failed"}
    only_mine = case_outcomes(shell, "reports/mine")
    assert sorted(only_mine.values()) == ["passed", "passed"]
    assert all(uid.startswith("my-cases/semantics/record-tags.yaml::") for uid in only_mine)


def check_emulator(shell: Shell) -> None:
    assert output_of(shell, "dx whoami").strip() == "alice"
    assert output_of(shell, "dx cat").strip() == "42 samples passed"
    assert "/reports/report.txt" in output_of(shell, "dx find data")
    assert json.loads(output_of(shell, "dx api user-carol describe"))["handle"] == "carol"
    # The applet built from the page's dxapp.json ran for real: its log streamed by `dx run --watch`, its
    # output, and the job found by `dx find jobs`.
    watched = output_of(shell, "dx run hello")
    assert "saying hello to world" in watched and 'greeting = "hello, world"' in watched
    assert "hello (done)" in output_of(shell, "dx find jobs")


def check_proxy(shell: Shell) -> None:
    assert "through-the-proxy" in output_of(shell, "dx find projects")
    proxied = results(shell, "reports/proxy")
    assert proxied["traffic"]["api"] == 2 and proxied["traffic"]["mode"] == "proxy"
    checked = results(shell, "reports/validate")
    assert checked["traffic"]["mode"] == "validate" and checked["traffic"]["api"] == proxied["traffic"]["api"]


def check_differential(shell: Shell) -> None:
    golden = json.loads((shell.cwd / "golden.json").read_text())
    assert golden["format"] == "dxconform-golden/1" and golden["cases"]
    diff = case_outcomes(shell, "reports/diff")
    assert "failed" in diff.values()
    merged = results(shell, "reports/merged")
    shards = [results(shell, f"reports/shard-{k}") for k in (1, 2)]
    assert len([r for r in merged["results"] if r["kind"] == "case"]) == \
        sum(len([r for r in s["results"] if r["kind"] == "case"]) for s in shards)


def check_fuzzing(shell: Shell) -> None:
    found = results(shell, "reports/fuzz")
    finding = "fuzz/negative//file-xxxx/addTags::rejects_invalid_input"
    assert finding in {r["id"] for r in found["results"] if r["outcome"] == "failed"}
    assert any(line.startswith("reproduced: ") for line in output_of(shell, "dxconform replay").splitlines())


JOURNEYS = [
    Journey("certify.md", "a whole-suite certify, four short runs and verifies: ~50 s", check_certify, slow=True),
    Journey("ci.md", "a whole-suite baseline, then the GitHub recipe's whole-suite gate: ~70 s", check_ci,
            then=run_github_recipe, slow=True),
    Journey("compare.md", "two `-k tags-types` runs and two compares: ~14 s", check_compare),
    Journey("write-a-case.md", "three runs of the worked example: ~9 s", check_write_a_case,
            saves={"my-cases/semantics/record-tags.yaml":
                   DOCS / "examples" / "cases" / "semantics" / "record-tags.yaml"}),
    Journey("emulator.md", "a server, ten `dx` commands, an applet built, run and watched: ~10 s", check_emulator),
    Journey("proxy.md", "a server, the proxy, two `dx` commands, a validate: ~5 s", check_proxy),
    Journey("differential.md", "a record, a diff and two shards of small selections, a merge: ~25 s",
            check_differential),
    Journey("fuzzing.md", "fuzzing one route (20 examples) against a broken server, a replay: ~12 s",
            check_fuzzing),
]


# Pages whose commands are measurements that take minutes, not journeys: followed elsewhere, or not at all.
NOT_JOURNEYS = {
    "selftest.md": "the whole self-test sweep (minutes); tests/suite/test_selftest.py covers the sweep's logic",
    "performance.md": "the benchmarks (minutes each), which print figures, not pass or fail: tox -e bench",
}


def test_every_page_with_shell_commands_is_followed():
    with_commands = {page.name for page in DOCS.glob("*.md") if any(sh_blocks(page.read_text(encoding="utf-8")))}
    assert with_commands - set(NOT_JOURNEYS) == {journey.page for journey in JOURNEYS}


@pytest.mark.parametrize("journey", [pytest.param(j, id=j.page.removesuffix(".md"),
                                                  marks=[pytest.mark.slow] if j.slow else [])
                                     for j in JOURNEYS])
def test_page_runs_as_written(journey: Journey, tmp_path: Path):
    page = DOCS / journey.page
    text = page.read_text(encoding="utf-8")
    shell = Shell.fresh(tmp_path)
    for target, source in journey.saves.items():
        assert f"`{target}`" in text, f"{journey.page} does not ask the reader to save {target}"
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / target).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    try:
        for command in page_commands(page):
            if "pip install" in command.line:
                continue  # the package under test is already installed in this interpreter
            shell.run(command)
        journey.then(shell)
    finally:
        shell.stop_all()
    journey.check(shell)
