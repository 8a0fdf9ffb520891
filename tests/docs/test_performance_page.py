"""docs/performance.md's generated regions: rendered from the recorded figures as data, never typed in."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conformance.docgen.performance import (
    BENCHMARKS,
    FIGURES_PATH,
    FORMAT,
    FiguresError,
    number,
    read_figures,
    render_benchmark,
    render_summary,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import figures  # noqa: E402


def fuzz_entry(met: bool) -> dict:
    return figures.entry("fuzz", "Fuzzing", target=">= 3x the examples/s of the schemathesis CLI",
                         measured="3.40x (250.0 vs 73.5 examples/s)", met=met,
                         tables=[figures.table("Both sides", ["", "ours", "st run"],
                                               [["examples/s", 250.04, 73.5], ["requests", 12345, 800]])],
                         raw={"ours": {"examples": 1}}, notes=["Timed from outside."],
                         argv=["--examples", "8", "--record", "/tmp/x.json"])


def test_a_recorded_entry_renders_its_target_figures_and_tables(tmp_path):
    (tmp_path / "docs").mkdir()
    figures.record(fuzz_entry(met=False), tmp_path / FIGURES_PATH)
    summary = render_summary(tmp_path)
    assert "| 3 | Fuzzing | >= 3x the examples/s of the schemathesis CLI | 3.40x (250.0 vs 73.5 examples/s) | **no** |" \
        in summary
    assert "`overhead`" in summary and "not recorded" in summary
    section = render_benchmark("fuzz")(tmp_path)
    assert "`python benchmarks/fuzz.py --examples 8`" in section            # --record and its file left out
    assert "| examples/s | 250.0 | 73.50 |" in section and "| requests | 12,345 | 800 |" in section
    assert "Timed from outside." in section
    assert "Not recorded yet" in render_benchmark("scale")(tmp_path)


def test_recording_again_replaces_one_benchmark_and_keeps_the_others(tmp_path):
    path = tmp_path / "figures.json"
    figures.record(fuzz_entry(met=False), path)
    other = figures.entry("proxy", "Validating proxy", target=None, measured="x", met=None, tables=[], raw={}, argv=[])
    figures.record(other, path)
    figures.record(fuzz_entry(met=True), path)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and list(data["benchmarks"]) == ["fuzz", "proxy"]
    assert data["benchmarks"]["fuzz"]["met"] is True


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"format": "other", "benchmarks": {}}', FORMAT),
    (json.dumps({"format": FORMAT, "benchmarks": {"warp": {}}}), "no place for: warp"),
])
def test_a_broken_figures_file_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "docs").mkdir()
    (tmp_path / FIGURES_PATH).write_text(text)
    with pytest.raises(FiguresError, match=message):
        read_figures(tmp_path)


def test_no_figures_file_says_how_to_record_them(tmp_path):
    assert "run `python benchmarks/run_all.py --record`" in render_summary(tmp_path)


def test_numbers_are_formatted_by_size():
    assert [number(v) for v in (12345, 1234.5, 123.45, 1.2345, 0.01234, True, None, "x")] == \
        ["12,345", "1,234", "123.5", "1.23", "0.012", "True", "", "x"]


def test_every_benchmark_script_has_a_section_and_records_under_its_own_name():
    scripts = {p.stem for p in (Path(figures.__file__).parent).glob("*.py")}
    assert set(BENCHMARKS) <= scripts
    for name in BENCHMARKS:
        assert f'"{name}"' in (Path(figures.__file__).parent / f"{name}.py").read_text(), name
