"""`dxconform routes` and `dxconform openapi` from the command line entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from conformance.cli.main import main
from conformance.spec import Spec


def test_routes_json_lists_every_route(spec: Spec, capsys) -> None:
    assert main(["routes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["route"] for r in rows] == [r.route for r in spec.routes]
    close = next(r for r in rows if r["route"] == "/file-xxxx/close")
    assert close["url_form"] == "/{file_id}/close" and close["profile"] == "core"
    assert close["has_input_schema"] is spec.route("/file-xxxx/close").has_input_schema
    assert all(isinstance(r["cases"], int) and r["cases"] >= 0 for r in rows)


def test_routes_table_is_aligned_with_a_footer_per_profile(spec: Spec, capsys) -> None:
    assert main(["routes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, body = lines[0], lines[1:1 + len(spec.routes)]
    assert header.split()[:4] == ["ROUTE", "URL", "FORM", "KIND"]
    profile_column = header.index("PROFILE")
    assert all(line[profile_column:].split()[0] == r.profile for line, r in zip(body, spec.routes, strict=True))
    footer = lines[1 + len(spec.routes):]
    core_line = next(line for line in footer if line.startswith("core "))
    assert "62 routes" in core_line
    assert next(line for line in footer if line.startswith("total")).split()[1] == "208"


def test_openapi_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "core.json"
    assert main(["openapi", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    validate(document)
    assert sum(len(item) for item in document["paths"].values()) == 62


def test_openapi_to_stdout(capsys) -> None:
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out)["openapi"] == "3.1.0"


@pytest.mark.parametrize("argv", [["routes", "--bogus"], ["openapi", "--out"], ["routes", "extra"]])
def test_bad_options_exit_2_with_one_line(argv, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error" in err and "Traceback" not in err


def test_an_unwritable_out_file_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    assert main(["openapi", "--out", str(tmp_path / "no" / "such" / "dir.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dxconform: error: cannot write") and len(err.strip().splitlines()) == 1


def test_python_dash_m_maps_usage_errors_too(tmp_path: Path) -> None:
    # under `python -m` the entry module is __main__; a usage error must still be one line and exit 2
    done = subprocess.run([sys.executable, "-m", "conformance.cli.main", "openapi", "--out",
                           str(tmp_path / "no" / "dir.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
