"""`python -m conformance.engine`: the developer tool runs case files against a server, one line per case."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.engine.__main__ import main

GOOD = Path(__file__).resolve().parents[1] / "data" / "cases" / "good"


def test_the_tool_runs_case_files_and_prints_a_line_per_case(refserver, capsys, tmp_path):
    out = tmp_path / "results.json"
    code = main([str(GOOD / "protocol.yaml"), str(GOOD / "for-each.yaml"), "--server", refserver.url,
                 "--json", str(out)])
    printed = capsys.readouterr().out.splitlines()
    case_lines = [line for line in printed if "::" in line and not line.split()[1].startswith("checks/")]
    assert len(case_lines) == 6
    assert all(line.startswith("passed") for line in case_lines), printed
    assert any("absent-data-object[/record-xxxx/describe]" in line for line in case_lines)
    assert printed[-1].startswith("6 cases: 6 passed;")
    assert code == 0
    written = out.read_text()
    assert "alice-token" not in written and "bob-token" not in written
    ids = [r["id"] for r in json.loads(written)["results"]]
    assert any(i.startswith("checks/json_parses::") for i in ids)


def test_the_tool_exits_1_when_a_must_case_fails(refserver, capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("defaults: {area: auth, topic: t, level: MUST, source: s}\n"
                      "cases:\n  - id: wrong\n    title: t\n    steps:\n"
                      "      - route: /system/whoami\n        expect: {status: 401}\n")
    assert main([str(broken), "--server", refserver.url]) == 1
    assert capsys.readouterr().out.startswith("failed")


def test_broken_case_files_exit_2_with_file_and_line(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("cases:\n  - id: x\n    title: t\n    stepz: []\n")
    assert main([str(broken), "--server", "http://127.0.0.1:9"]) == 2
    assert "broken.yaml:" in capsys.readouterr().err
