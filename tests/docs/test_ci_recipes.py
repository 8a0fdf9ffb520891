"""docs/ci/*.yml: valid YAML, the same dxconform commands in both, and the GitHub steps run as written."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import yaml

from .shell import DOCS, Shell, sh_blocks

GITHUB = DOCS / "ci" / "github-actions.yml"
GITLAB = DOCS / "ci" / "gitlab-ci.yml"
# Steps the test cannot run (they belong to GitHub); each one's inputs are checked instead.
KNOWN_ACTIONS = ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@",
                 "mikepenz/action-junit-report@")


def github_job() -> dict:
    return yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["jobs"]["conformance"]


def gitlab_job() -> dict:
    return yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["conformance"]


def dxconform_lines(scripts: list[str]) -> list[str]:
    return [line.strip() for script in scripts for line in script.splitlines()
            if line.strip().startswith("dxconform ")]


def github_scripts() -> list[str]:
    return [step["run"] for step in github_job()["steps"] if "run" in step]


def gitlab_scripts() -> list[str]:
    job = gitlab_job()
    return job["before_script"] + job["script"] + job["after_script"]


def test_both_recipes_run_the_same_dxconform_commands():
    github, gitlab = dxconform_lines(github_scripts()), dxconform_lines(gitlab_scripts())
    assert github == gitlab
    assert any(line.startswith("dxconform run ") and "--expectations" in line for line in github)


def test_both_recipes_publish_the_same_outputs_and_variables():
    github, gitlab = github_job(), gitlab_job()
    uploads = [step["with"]["path"] for step in github["steps"] if step.get("uses", "").startswith(KNOWN_ACTIONS[2])]
    junit = [step["with"]["report_paths"] for step in github["steps"]
             if step.get("uses", "").startswith(KNOWN_ACTIONS[3])]
    assert uploads == gitlab["artifacts"]["paths"]
    assert junit == [gitlab["artifacts"]["reports"]["junit"]]
    assert gitlab["artifacts"]["when"] == "always"
    assert github["env"] == gitlab["variables"]
    assert all(step.get("uses", "").startswith(KNOWN_ACTIONS) for step in github["steps"] if "run" not in step)


def _kill_recorded_server(directory: Path) -> None:
    pid_file = directory / "server.pid"
    if pid_file.is_file():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


@pytest.mark.slow
def test_github_recipe_runs_as_written(tmp_path: Path):
    """Every `run:` step but the install, in order, with the job's environment; the adoption commands of
    docs/ci.md run once the server is up (they write the expectations file the gate reads)."""
    job = github_job()
    shell = Shell.fresh(tmp_path)
    shell.env.update({name: shell.ports(str(value)) for name, value in job["env"].items()})
    adoption = [c for block in sh_blocks((DOCS / "ci.md").read_text(encoding="utf-8")) for c in block]
    assert any("dxconform expectations" in c.line for c in adoption)
    ran = []
    try:
        for step in job["steps"]:
            if "run" not in step or "pip install" in step["run"]:
                continue
            shell.run_script(step["run"])
            ran.append(step["name"])
            if step["name"] == "Start the server under test":
                for command in adoption:
                    shell.run(command)
    finally:
        _kill_recorded_server(tmp_path)
        shell.stop_all()

    assert ran == ["Start the server under test", "Conformance gate", "Stop the server"]
    out = tmp_path / "reports" / "conformance"
    for name in ("report.html", "junit.xml", "results.json"):
        assert (out / name).is_file(), name
    document = json.loads((out / "results.json").read_text())
    assert document["server"]["embedded"] is False and document["summary"]["failed"] == 0
    assert yaml.safe_load((tmp_path / "conformance-expectations.yaml").read_text())["format"] == \
        "dxconform-expectations/1"
