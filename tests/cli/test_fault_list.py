"""`dxconform serve --fault list`: the catalogue, fuzzing-only and differential-only faults apart, in aligned columns."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from conformance.cli.main import main
from conformance.refserver.faults import DIFF_FAULTS, FAULTS, FUZZ_FAULTS
from conformance.selftest import CATALOGUE

HEADING = re.compile(r"^(?P<title>[A-Z][^,]*), (?P<count>\d+) faults? \(.*\):$")


@pytest.fixture(scope="module")
def groups() -> dict[str, list[str]]:
    """{group title: its lines after the heading (header row first)}, from the command's own output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["serve", "--fault", "list"]) == 0
    found: dict[str, list[str]] = {}
    for block in out.getvalue().strip("\n").split("\n\n"):
        heading, *lines = block.split("\n")
        match = HEADING.match(heading)
        assert match, f"not a group heading: {heading!r}"
        assert int(match["count"]) == len(lines) - 1, heading      # the header row is not a fault
        found[match["title"]] = lines
    return found


def names(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines[1:]]


def test_the_three_groups_are_there(groups):
    assert list(groups)[:3] == ["Self-test catalogue", "Fuzzing only", "Differential only"]


def test_each_fault_is_listed_once_in_its_group(groups):
    listed = [name for lines in groups.values() for name in names(lines)]
    assert sorted(listed) == sorted(FAULTS)
    swept = {e.fault for e in CATALOGUE}
    assert names(groups["Self-test catalogue"]) == [e.fault for e in CATALOGUE]
    assert set(names(groups["Fuzzing only"])) == FUZZ_FAULTS - swept
    assert set(names(groups["Differential only"])) == DIFF_FAULTS - swept
    rest = set(FAULTS) - swept - FUZZ_FAULTS - DIFF_FAULTS
    assert set(names(groups.get("In no sweep", [""]))) == rest


def test_every_column_of_a_group_starts_at_one_offset(groups):
    for title, lines in groups.items():
        header = lines[0]
        starts = [m.start() for m in re.finditer(r"(?<=  )\S", header)]   # columns after the first
        assert starts, title
        for line in lines:
            for start in starts:
                assert line[start - 2:start] == "  " and line[start] != " ", (title, line)


def test_the_rule_column_holds_each_faults_rule(groups):
    for lines in groups.values():
        offset = lines[0].index("rule it breaks")
        for line in lines[1:]:
            assert line[offset:] == FAULTS[line.split()[0]].rule
