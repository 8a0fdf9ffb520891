"""Running pytest with the dxconform plugin in a child process, and where the test case files live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

from conformance.resources import schemas_dir

TINY_CASES = Path(__file__).resolve().parent / "cases"
GOOD_CASES = Path(__file__).resolve().parents[1] / "data" / "cases" / "good"
BROKEN_CASES = Path(__file__).resolve().parents[1] / "data" / "cases" / "broken"
PLUGIN_ARGS = ["-p", "conformance.pytest_plugin.plugin", "-p", "no:cacheprovider", "-c", os.devnull]


def run_pytest(args: list[str], cwd: Path, tokens: dict[str, str] | None = None,
               timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXCONFORM_")}
    for name, value in (tokens or {}).items():
        env[name] = value
    return subprocess.run([sys.executable, "-m", "pytest", *PLUGIN_ARGS, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def results_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "meta" / "results.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def assert_valid_results(document: dict) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in results_validator().iter_errors(document)]
    assert not errors, errors[:5]
