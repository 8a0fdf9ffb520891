"""`dxconform run` does each piece of work once: the suite is loaded once, results.json is not read back, and a
run that does not fuzz imports neither the fuzz items nor the fuzzer (hypothesis, schemathesis)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from conformance.gate import gate_failures
from conformance.reporting.badges import badges

from ..pytest_plugin.support import TINY_CASES

# Runs `dxconform run ARGS` in a child process, counting the suite loads and the reads of results.json.
COUNTING_RUN = textwrap.dedent("""
    import json, sys
    import conformance.cases, conformance.cases.loader, conformance.pytest_plugin.suite as suite
    import conformance.reporting.results_json as results_json
    counts = {"load_suite": 0, "read_document": 0}
    def counting(name, function):
        def counted(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)
        return counted
    conformance.cases.load_suite = suite.load_suite = counting("load_suite", conformance.cases.load_suite)
    results_json.read_document = counting("read_document", results_json.read_document)
    from conformance.cli.main import main
    code = main(sys.argv[1:])
    counts["fuzzer_imported"] = any(name in sys.modules for name in (
        "conformance.pytest_plugin.fuzz_items", "conformance.fuzz.engine", "hypothesis", "schemathesis"))
    print("COUNTS " + json.dumps(counts))
    sys.exit(code)
""")


def counted_run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
    proc = subprocess.run([sys.executable, "-c", COUNTING_RUN, "run", "--out", str(tmp_path / "out"), "-q", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    line = next(line for line in proc.stdout.splitlines() if line.startswith("COUNTS "))
    return proc, json.loads(line.removeprefix("COUNTS "))


def test_the_suite_is_loaded_once_and_results_json_not_read_back(tmp_path: Path) -> None:
    proc, counts = counted_run(tmp_path, "--cases", str(TINY_CASES), "--embedded-fault", "accepts-invalid-json")
    assert counts == {"load_suite": 1, "read_document": 0, "fuzzer_imported": False}, proc.stderr[-2000:]
    # The exit code and the badges, made from the document in memory, are those results.json implies.
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert proc.returncode == (1 if gate_failures(document) else 0) == 1
    written = {path.name: path.read_text() for path in (tmp_path / "out" / "badges").glob("*.svg")}
    assert written and written == badges(document)


def test_with_added_cases_the_plugin_loads_the_run_as_one_suite(tmp_path: Path) -> None:
    """Two case directories are checked one by one (their ids must not collide) and run as one suite: the
    plugin loads that itself, and runs the cases of both."""
    added = tmp_path / "added"
    added.mkdir()
    text = (TINY_CASES / "tiny.yaml").read_text()
    ids = [line.split("id:", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("- id:")]
    for case_id in ids:
        text = text.replace(f"id: {case_id}", f"id: added-{case_id}", 1)
    (added / "more.yaml").write_text(text)
    proc, counts = counted_run(tmp_path, "--cases", str(TINY_CASES), "--add-cases", str(added))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert counts == {"load_suite": 3, "read_document": 0, "fuzzer_imported": False}
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    case_ids = {r["id"].split("::", 1)[1] for r in document["results"] if r["kind"] == "case"}
    assert {i.split("[", 1)[0] for i in case_ids} >= set(ids) | {f"added-{i}" for i in ids}
