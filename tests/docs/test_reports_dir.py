"""reports/: a README that names every default output path of the commands, and run outputs stay git-ignored."""

from __future__ import annotations

from pathlib import Path

from conformance.cli import compare_cmd, diff_cmds, gate_cmds, proxy_cmd, run_cmd

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_names_every_default_output():
    readme = (ROOT / "reports" / "README.md").read_text(encoding="utf-8")
    defaults = {run_cmd.DEFAULT_OUT, gate_cmds.CERTIFY_OUT, diff_cmds.DEFAULT_DIFF_OUT, diff_cmds.DEFAULT_MERGE_OUT,
                proxy_cmd.DEFAULT_PROXY_OUT, proxy_cmd.DEFAULT_VALIDATE_OUT, compare_cmd.DEFAULT_OUT}
    for default in defaults:
        assert default.startswith("reports/"), default
        name = default.removeprefix("reports/")
        assert f"| `{name}/` |" in readme or f"| `{name}` |" in readme, default


def test_run_outputs_are_ignored_and_the_readme_is_not():
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "reports/*" in lines and "!reports/README.md" in lines
    assert lines.index("reports/*") < lines.index("!reports/README.md")
