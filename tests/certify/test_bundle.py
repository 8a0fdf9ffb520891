"""Certification bundles: `certify` writes one, `verify` checks it offline and catches any changed byte."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from conformance.certify import MANIFEST_FILE, verify_bundle
from conformance.certify.bundle import write_archive

from ..gate.support import assert_no_token_in, dxconform
from ..pytest_plugin.support import TINY_CASES

BUNDLE_FILES = ["MANIFEST.sha256", "config.json", "junit.xml", "report.html", "results.json", "suite.json"]


def certify(workdir: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    """A certification of the tiny case suite: a PARTIAL bundle (--cases narrows the suite), quick to make."""
    out = workdir / "out"
    proc = dxconform(workdir, "certify", "--partial", "--cases", str(TINY_CASES), "--out", str(out), *args)
    return proc, out / "certification.tar.gz"


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    return certify(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    return certify(tmp_path_factory.mktemp("faulty"), "--embedded-fault", "ignores-token", "--reruns", "0")


def members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive}


def verify(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    return dxconform(bundle.parent, "verify", str(bundle), *args)


def test_certify_writes_a_bundle_that_verifies(clean) -> None:
    proc, bundle = clean
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert f"certification bundle: {bundle}" in proc.stdout and "\nPARTIAL (" in proc.stdout
    files = members(bundle)
    assert sorted(files) == BUNDLE_FILES
    results = json.loads(files["results.json"])
    suite = json.loads(files["suite.json"])
    assert suite["format"] == "dxconform-certification/2"
    assert suite["scope"] == "partial" and suite["narrowed_by"] == [f"--cases {TINY_CASES}"]
    assert suite["version"] == results["suite"]["version"] and suite["schemas_sha256"] == results["suite"]["schemas_sha256"]
    config = json.loads(files["config.json"])
    assert config["embedded"] is True and config["reruns"] == 2 and config["embedded_faults"] == []
    assert not any("token" in key and key != "tokens_given" for key in config)
    checked = verify(bundle)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "bundle intact" in checked.stdout and "profile core: " in checked.stdout
    assert checked.stdout.splitlines()[-1].startswith(f"PARTIAL ({suite['cases_selected']}/")


def test_the_manifest_is_sha256sum_format_and_covers_every_other_file(clean, tmp_path: Path) -> None:
    files = members(clean[1])
    lines = files[MANIFEST_FILE].decode().splitlines()
    assert lines == [f"{hashlib.sha256(files[name]).hexdigest()}  {name}" for name in BUNDLE_FILES[1:]]
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert subprocess.run(["sha256sum", "-c", "--quiet", MANIFEST_FILE], cwd=tmp_path).returncode == 0


def test_no_file_of_a_bundle_holds_a_token(clean, faulty, tmp_path: Path) -> None:
    for index, (_, bundle) in enumerate((clean, faulty)):
        for name, data in members(bundle).items():
            (tmp_path / f"{index}-{name}").write_bytes(data)
        assert_no_token_in([bundle, *(p for p in bundle.parent.rglob("*") if p.is_file())])
    assert_no_token_in(tmp_path.iterdir())


@pytest.mark.parametrize("name", BUNDLE_FILES)
def test_verify_detects_a_one_byte_change_in_any_file(clean, tmp_path: Path, name: str) -> None:
    files = members(clean[1])
    data = bytearray(files[name])
    position = len(data) // 2
    data[position] = (data[position] + 1) % 256 if data[position] != ord("\n") else ord("x")
    files[name] = bytes(data)
    tampered = write_archive(tmp_path / "tampered.tar.gz", files, mtime=0)
    verification = verify_bundle(tampered)
    assert not verification.intact and not verification.passed
    # A changed manifest line shows as the mismatch (or the malformed line) of the file it lists.
    if name != MANIFEST_FILE:
        assert any(problem.startswith(f"{name}: SHA-256") for problem in verification.problems), verification.problems
    proc = verify(tampered)
    assert proc.returncode == 1 and "FAIL" in proc.stdout and "not intact" in proc.stdout


def test_verify_detects_a_changed_byte_of_the_archive_itself(clean, tmp_path: Path) -> None:
    data = bytearray(clean[1].read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "corrupt.tar.gz").write_bytes(bytes(data))
    proc = verify(tmp_path / "corrupt.tar.gz")
    # Either the archive no longer reads, or a member's bytes changed: both fail.
    assert proc.returncode == 1 and "FAIL" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.parametrize("change", ["extra file", "missing file", "unlisted file", "nested path"])
def test_verify_wants_exactly_the_manifest_s_files(clean, tmp_path: Path, change: str) -> None:
    files = members(clean[1])
    if change == "extra file":
        files["notes.txt"] = b"added later\n"
    elif change == "missing file":
        del files["junit.xml"]
    elif change == "unlisted file":
        lines = files[MANIFEST_FILE].decode().splitlines(keepends=True)
        files[MANIFEST_FILE] = "".join(line for line in lines if not line.endswith("  report.html\n")).encode()
    else:
        files["sub/results.json"] = files["results.json"]
    verification = verify_bundle(write_archive(tmp_path / "changed.tar.gz", files, mtime=0))
    assert not verification.intact, change


def test_a_consistent_rewrite_of_results_is_still_caught_by_the_summary(clean, tmp_path: Path) -> None:
    # Someone turns a failure into a pass and regenerates the manifest: the summary no longer adds up.
    files = members(clean[1])
    document = json.loads(files["results.json"])
    document["results"][0]["outcome"] = "failed" if document["results"][0]["outcome"] != "failed" else "passed"
    files["results.json"] = json.dumps(document).encode()
    from conformance.certify.bundle import manifest_text
    files[MANIFEST_FILE] = manifest_text({k: v for k, v in files.items() if k != MANIFEST_FILE}).encode()
    verification = verify_bundle(write_archive(tmp_path / "rewritten.tar.gz", files, mtime=0))
    assert verification.problems == ["results.json: the summary does not match the results it counts"]


def test_a_server_with_a_must_failure_gets_a_bundle_that_fails_core(faulty) -> None:
    proc, bundle = faulty
    assert bundle.is_file(), proc.stdout[-2000:] + proc.stderr
    assert proc.returncode == 1 and "\nFAIL (partial run, " in proc.stdout
    config = json.loads(members(bundle)["config.json"])
    assert config["embedded_faults"] == ["ignores-token"]
    checked = verify(bundle)
    assert checked.returncode == 1 and "bundle intact" in checked.stdout
    assert "failed: cases/tiny.yaml::no-token" in checked.stdout and "faults ignores-token" in checked.stdout
    assert checked.stdout.splitlines()[-1].startswith("FAIL (partial run, ") and "failing" in checked.stdout
    # A profile with no results in the bundle passes nothing.
    other = verify(bundle, "--profile", "no-such-profile")
    assert other.returncode == 1 and "no MUST result of profile 'no-such-profile'" in other.stdout


def test_verify_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    proc = verify(tmp_path / "absent.tar.gz")
    assert proc.returncode == 2 and "is not a file" in proc.stderr


def test_the_archive_is_reproducible(clean, tmp_path: Path) -> None:
    files = members(clean[1])
    first = write_archive(tmp_path / "a.tar.gz", files, mtime=1_700_000_000).read_bytes()
    second = write_archive(tmp_path / "b.tar.gz", files, mtime=1_700_000_000).read_bytes()
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(first)) as archive:
        assert all(m.isfile() and m.uid == 0 and m.mode == 0o644 for m in archive)
