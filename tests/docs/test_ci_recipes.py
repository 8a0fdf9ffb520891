"""docs/ci/*.yml: valid YAML, the same dxconform commands in both, and the same gate as docs/ci.md describes.

The GitHub recipe's steps run as written after docs/ci.md's own commands, in tests/docs/test_page_journeys.py.
"""

from __future__ import annotations

import yaml

from .shell import DOCS, page_commands

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


def test_the_page_makes_the_expectations_file_the_recipes_read():
    """docs/ci.md's commands write the file the gate reads, before the page shows the gate."""
    gate = next(line for line in dxconform_lines(github_scripts()) if "--expectations" in line)
    expectations = gate.split("--expectations ", 1)[1].split()[0]
    made = [c.line for c in page_commands(DOCS / "ci.md") if c.line.startswith("dxconform expectations ")]
    assert made and made[0].endswith(f"--out {expectations}")
    page = (DOCS / "ci.md").read_text(encoding="utf-8")
    assert page.index(made[0]) < page.index("<!-- generated: github-actions")
