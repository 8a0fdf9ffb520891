"""The generated pages match the code: regenerating docs/ and README changes nothing; each page covers its registry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conformance.checks import CHECKS, CLIENT_CHECKS
from conformance.cli.main import build_parser
from conformance.differential.traffic_score import RECORD_PATH as TRAFFIC_RECORD_PATH
from conformance.docgen import DEFAULT_DOCS, DEFAULT_ROOT, generate, stale_pages
from conformance.docgen.case_format import load_case_schema
from conformance.docgen.cli_reference import documented_actions, subcommands
from conformance.docgen.performance import FIGURES_PATH as PERFORMANCE_FIGURES
from conformance.docgen.regions import RegionError, begin_marker, end_marker, fill_region
from conformance.resources import schemas_dir
from conformance.selftest.record import RECORD_PATH


def test_regenerating_changes_nothing():
    stale = stale_pages()
    assert not stale, (f"out of date: {[str(p.relative_to(DEFAULT_ROOT)) for p in stale]}; "
                       "run `python -m conformance.docgen`")


def copy_of_the_sources(root):
    """A repository root holding what docgen reads besides the code: the included files and the recorded scores."""
    for source in [*(DEFAULT_DOCS / "ci").rglob("*"), *(DEFAULT_DOCS / "examples").rglob("*"),
                   DEFAULT_ROOT / RECORD_PATH, DEFAULT_ROOT / TRAFFIC_RECORD_PATH,
                   DEFAULT_ROOT / PERFORMANCE_FIGURES]:
        if source.is_file() and "__pycache__" not in source.parts:
            copy = root / source.relative_to(DEFAULT_ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source.read_bytes())


def test_check_mode_exit_codes(tmp_path):
    # A copy of the generated pages with one generated region edited by hand: --check names it and exits 1.
    for path, text in generate().items():
        target = tmp_path / path.relative_to(DEFAULT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    copy_of_the_sources(tmp_path)
    check = [sys.executable, "-m", "conformance.docgen", "--check", "--root", str(tmp_path)]
    assert subprocess.run(check, capture_output=True).returncode == 0
    contract = tmp_path / "docs" / "contract.md"
    contract.write_text(contract.read_text().replace("| `--server URL` |", "| `--server ADDRESS` |", 1))
    done = subprocess.run(check, capture_output=True, text=True)
    assert done.returncode == 1 and "contract.md" in done.stderr


def test_generated_pages_include_the_readme():
    assert DEFAULT_ROOT / "README.md" in generate()


def test_regions_are_filled_in_place_and_idempotent():
    page = f"intro\n{begin_marker('x')}\nold\n{end_marker('x')}\noutro\n"
    once = fill_region(page, "x", "new")
    assert once.startswith("intro\n") and once.endswith("\noutro\n") and "old" not in once and "new" in once
    assert fill_region(once, "x", "new") == once
    with pytest.raises(RegionError):
        fill_region("no markers", "x", "new")


def test_case_format_page_names_every_key_of_the_schema():
    schema = load_case_schema()
    page = (DEFAULT_DOCS / "case-format.md").read_text(encoding="utf-8")
    keys = set(schema["properties"])
    for name in ("case", "for_each", "fixture", "step", "expect", "operator"):
        keys |= set(schema["$defs"][name]["properties"])
    keys |= set(schema["properties"]["defaults"]["properties"])
    missing = sorted(k for k in keys if f"| `{k}` |" not in page)
    assert not missing


def test_checks_page_lists_every_registered_check_with_its_level_and_area():
    page = (DEFAULT_DOCS / "checks.md").read_text(encoding="utf-8")
    assert CLIENT_CHECKS, "the client-side checks are registered with the server-side ones"
    for info in [*CHECKS.values(), *CLIENT_CHECKS.values()]:
        assert f"| `{info.name}` | {info.level.value} | {info.area.value} |" in page


def test_routes_page_lists_all_routes():
    page = (DEFAULT_DOCS / "routes.md").read_text(encoding="utf-8")
    routes = json.loads((schemas_dir() / "routes.json").read_text())["routes"]
    assert len(routes) == 208
    assert all(f"| `{entry['route']}` |" in page for entry in routes)


def test_contract_lists_every_command_and_option():
    page = (DEFAULT_DOCS / "contract.md").read_text(encoding="utf-8")
    for name, _, parser in subcommands(build_parser()):
        assert f"### dxconform {name}" in page
        for action in documented_actions(parser):
            if action.option_strings:
                assert any(f"`{', '.join(action.option_strings)}" in line for line in page.splitlines()), \
                    (name, action.option_strings)
