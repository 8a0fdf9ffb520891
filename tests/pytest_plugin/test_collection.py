"""The plugin collects case files as items: ids, -k on ids and titles, -m on area/level markers, broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

from .support import BROKEN_CASES, GOOD_CASES, TINY_CASES, run_pytest


def collected(args: list[str], cwd: Path) -> list[str]:
    proc = run_pytest(["--collect-only", "-q", *args], cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_collects_the_example_files_one_item_per_case(tmp_path: Path) -> None:
    ids = collected(["--rootdir", str(GOOD_CASES.parent.parent), str(GOOD_CASES)], tmp_path)
    names = {line.split("::", 1)[1] for line in ids}
    assert {"close-moves-to-closed", "tags-add-remove", "malformed-json-is-rejected", "bad-token"} <= names
    assert all(line.split("::")[0].endswith(".yaml") for line in ids)


def test_k_selects_by_id_and_by_title(tmp_path: Path) -> None:
    by_id = collected([str(TINY_CASES), "-k", "malformed"], tmp_path)
    assert [line.rsplit("::", 1)[1] for line in by_id] == ["malformed-json"]
    by_title = collected([str(TINY_CASES), "-k", "timestamp"], tmp_path)   # only in a title
    assert [line.rsplit("::", 1)[1] for line in by_title] == ["project-created-is-int"]


def test_m_selects_by_area_level_and_profile(tmp_path: Path) -> None:
    auth_must = collected([str(TINY_CASES), "-m", "area_auth and MUST"], tmp_path)
    assert [line.rsplit("::", 1)[1] for line in auth_must] == ["no-token"]
    should = collected([str(TINY_CASES), "-m", "SHOULD"], tmp_path)
    assert [line.rsplit("::", 1)[1] for line in should] == ["get-refused"]
    optional = collected([str(TINY_CASES), "-m", "not profile_core"], tmp_path)
    assert [line.rsplit("::", 1)[1] for line in optional] == ["dbcluster-new-optional"]


def test_profile_option_deselects_other_optional_profiles(tmp_path: Path) -> None:
    ids = collected([str(TINY_CASES), "--dx-profile", "orgs-users"], tmp_path)
    names = [line.rsplit("::", 1)[1] for line in ids]
    assert "dbcluster-new-optional" not in names and "whoami-names-a-user" in names


def test_a_broken_case_file_fails_collection_with_file_and_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(BROKEN_CASES / "unknown-key.yaml", cases / "unknown-key.yaml")
    proc = run_pytest(["--rootdir", str(tmp_path), "--dx-server", "http://127.0.0.1:9", str(cases)], tmp_path,
                      tokens={"DXCONFORM_TOKEN": "t"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cases/unknown-key.yaml:" in proc.stdout and "unknown key" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_other_yaml_outside_a_cases_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "workflow.yaml").write_text("on: push\n")
    proc = run_pytest(["--collect-only", "-q", "--rootdir", str(tmp_path), str(tmp_path)], tmp_path)
    assert "workflow.yaml" not in proc.stdout
    assert proc.returncode == 5, proc.stdout + proc.stderr     # nothing collected, nothing broken


def test_running_without_a_server_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_pytest([str(TINY_CASES)], tmp_path, tokens={"DXCONFORM_TOKEN": "t"})
    assert proc.returncode == 4
    assert "--dx-server" in proc.stderr
