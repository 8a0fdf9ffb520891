"""docs/certify.md, followed literally: every command of its `sh` blocks runs and exits as the page says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .shell import DOCS, Shell, sh_blocks

PAGE = DOCS / "certify.md"
# The failure the page explains, as it names it.
EXPLAINED_ID = "cases/semantics/metadata/tags-types.yaml::tags-keep-insertion-order"


def page_commands():
    return [command for block in sh_blocks(PAGE.read_text(encoding="utf-8")) for command in block]


def test_the_page_has_the_journey_in_order():
    lines = [c.line for c in page_commands()]
    order = ["pip install", "dxconform serve", "dxconform run", "--fault", "dxconform certify", "dxconform verify"]
    positions = [next(i for i, line in enumerate(lines) if word in line) for word in order]
    assert positions == sorted(positions), lines
    assert [c.exits for c in page_commands() if "--fault" not in c.line and "reports/broken" in c.line] == \
        [frozenset({1})]


@pytest.mark.slow
def test_following_the_page_literally(tmp_path: Path):
    shell = Shell.fresh(tmp_path)
    try:
        for command in page_commands():
            if "pip install" in command.line:
                continue  # the package under test is already installed in this interpreter
            shell.run(command)
    finally:
        shell.stop_all()

    # The failure the page explains is the one the broken server gives, with the message the page quotes.
    broken = json.loads((tmp_path / "reports/broken/results.json").read_text())
    failed = {r["id"]: r for r in broken["results"] if r["outcome"] == "failed"}
    assert EXPLAINED_ID in failed
    page = PAGE.read_text(encoding="utf-8")
    quoted = re.search(r"\(cases/semantics/metadata/tags-types\.yaml:\d+\): (\$\.tags: expected 3 elements, got 0)",
                       page)
    assert quoted and quoted.group(1) in failed[EXPLAINED_ID]["message"]
    assert f"{EXPLAINED_ID}:" in page

    # The certification passed and left its bundle where the page says.
    assert (tmp_path / "reports/certify/certification.tar.gz").is_file()
    smoke = json.loads((tmp_path / "reports/smoke/results.json").read_text())
    assert smoke["summary"]["passed"] > 0 and smoke["summary"]["failed"] == 0
