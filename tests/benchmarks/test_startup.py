"""Start-up stays cheap: importing the plugin and loading the shipped suite never import jsonschema (0.8 s)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import conformance.pytest_plugin.plugin
from conformance.cases import load_suite
from conformance.checks import CHECKS
from conformance.resources import cases_dir
from conformance.spec import load_spec
cases = cases_dir()
suite = load_suite([cases], base=cases.parent, known_checks=CHECKS)
spec = load_spec()
validator = spec.validator("/system/whoami", "output")
assert validator.is_valid({"id": "user-alice"})
print(len(suite.cases), "jsonschema" in sys.modules)
"""


def test_plugin_import_and_suite_load_do_not_import_jsonschema():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    count, imported = out.stdout.split()
    assert int(count) >= 900
    assert imported == "False", "something on the start-up path imports jsonschema at module level again"


def test_the_readable_errors_still_come_when_an_answer_is_invalid():
    from conformance.spec import load_spec

    validator = load_spec().validator("/system/whoami", "output")
    assert not validator.is_valid({"id": 7})
    assert validator.errors({"id": 7}) and all(path.startswith("$") for path, _ in validator.errors({"id": 7}))
