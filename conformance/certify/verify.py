"""Verifying a certification bundle offline: every hash, the manifest's coverage, the scope and the verdict."""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gate import gate_failures
from ..model import Outcome
from .bundle import BUNDLE_FORMAT, MANIFEST_FILE, REQUIRED_FILES, SUITE_FILE, sha256_hex
from .scope import SCOPE_FULL, SCOPE_PARTIAL, scope_problems

# Any version of results.json: verify reads only its results' ids, kinds, outcomes, levels and profiles.
RESULTS_FORMAT = re.compile(r"^dxconform-results/\d+$")
MANIFEST_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")
MAX_MEMBER_BYTES = 1 << 30
# A certification counts expected failures too: a listed failure is still a failure of the server.
CERTIFICATION_FAILING = frozenset({Outcome.FAILED.value, Outcome.ERROR.value, Outcome.XFAILED.value})
PASS, PARTIAL, FAIL = "PASS", "PARTIAL", "FAIL"


@dataclass
class Verification:
    """What verify found: integrity problems (any one means the bundle cannot be trusted), the profile's
    failures, the scope suite.json records, and from them the verdict: PASS, PARTIAL or FAIL."""

    profile: str
    problems: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    counted: int = 0          # MUST results of the profile in the bundle
    suite: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def profile_passed(self) -> bool:
        """Every MUST result of the profile in the bundle passes (and there is at least one)."""
        return self.intact and self.counted > 0 and not self.failures

    @property
    def full(self) -> bool:
        """The bundle records a run of the whole suite: scope full, and every case of the suite selected."""
        selected, in_suite = self.suite.get("cases_selected"), self.suite.get("cases_in_suite")
        return self.intact and self.suite.get("scope") == SCOPE_FULL and bool(selected) and selected == in_suite

    @property
    def partial(self) -> bool:
        return self.intact and self.suite.get("scope") == SCOPE_PARTIAL

    @property
    def verdict(self) -> str:
        """PASS: the full suite, and the profile passes; PARTIAL: a partial run whose profile passes; else FAIL."""
        if self.profile_passed and self.full:
            return PASS
        return PARTIAL if self.profile_passed and self.partial else FAIL

    @property
    def passed(self) -> bool:
        return self.verdict == PASS


def read_members(path: Path) -> tuple[dict[str, bytes], list[str]]:
    """The archive's regular files by name, and what is wrong with its layout (links, dirs, odd names ...)."""
    files: dict[str, bytes] = {}
    problems: list[str] = []
    with tarfile.open(path, mode="r:*") as archive:
        for member in archive:
            name = member.name
            if not member.isfile():
                problems.append(f"{name}: not a regular file (links and directories do not belong in a bundle)")
            elif "/" in name or "\\" in name or name in ("", ".", ".."):
                problems.append(f"{name}: not a plain file name at the top of the bundle")
            elif name in files:
                problems.append(f"{name}: appears twice in the archive")
            elif member.size > MAX_MEMBER_BYTES:
                problems.append(f"{name}: {member.size} bytes, more than a bundle file may hold")
            else:
                handle = archive.extractfile(member)
                files[name] = handle.read() if handle is not None else b""
    return files, problems


def check_manifest(files: dict[str, bytes]) -> list[str]:
    """Every file listed with the right hash, every file (but the manifest) listed, nothing else listed."""
    if MANIFEST_FILE not in files:
        return [f"{MANIFEST_FILE} is missing"]
    problems, listed = [], {}
    try:
        text = files[MANIFEST_FILE].decode("ascii")
    except UnicodeDecodeError:
        return [f"{MANIFEST_FILE} is not ASCII text"]
    for number, line in enumerate(text.splitlines(), 1):
        match = MANIFEST_LINE.match(line)
        if not match:
            problems.append(f"{MANIFEST_FILE}:{number}: not `<sha256>  <name>`: {line[:80]!r}")
        elif match.group(2) in listed:
            problems.append(f"{MANIFEST_FILE}:{number}: {match.group(2)} listed twice")
        else:
            listed[match.group(2)] = match.group(1)
    for name, digest in listed.items():
        if name not in files:
            problems.append(f"{name}: listed in {MANIFEST_FILE} but not in the bundle")
        elif sha256_hex(files[name]) != digest:
            problems.append(f"{name}: SHA-256 {sha256_hex(files[name])} differs from the manifest's {digest}")
    for name in sorted(set(files) - set(listed) - {MANIFEST_FILE}):
        problems.append(f"{name}: in the bundle but not in {MANIFEST_FILE}")
    return problems


def _json(files: dict[str, bytes], name: str, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(files[name].decode("utf-8"))
    except (KeyError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{name}: not a JSON document ({exc.__class__.__name__})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{name}: not a JSON object")
        return {}
    return data


def check_documents(files: dict[str, bytes], verification: Verification) -> dict[str, Any]:
    """The bundle's documents agree with each other; returns results.json (empty if unusable)."""
    problems = verification.problems
    problems.extend(f"{name} is missing" for name in REQUIRED_FILES if name not in files)
    suite = verification.suite = _json(files, SUITE_FILE, problems) if SUITE_FILE in files else {}
    verification.config = _json(files, "config.json", problems) if "config.json" in files else {}
    results = _json(files, "results.json", problems) if "results.json" in files else {}
    if suite and suite.get("format") != BUNDLE_FORMAT:
        problems.append(f"{SUITE_FILE}: format {suite.get('format')!r}, expected {BUNDLE_FORMAT!r}")
    if not results:
        return {}
    if not RESULTS_FORMAT.match(str(results.get("format"))) or not isinstance(results.get("results"), list):
        problems.append("results.json: not a dxconform-results document")
        return {}
    if suite.get("format") == BUNDLE_FORMAT:
        problems.extend(scope_problems(suite, results))
    for key in ("version", "schemas_sha256"):
        if suite and (results.get("suite") or {}).get(key) != suite.get(key):
            problems.append(f"results.json: suite {key} {(results.get('suite') or {}).get(key)!r} differs from "
                            f"{SUITE_FILE}'s {suite.get(key)!r}")
    recount: dict[str, int] = {}
    for result in results["results"]:
        recount[result.get("outcome")] = recount.get(result.get("outcome"), 0) + 1
    if {k: v for k, v in (results.get("summary") or {}).items() if v} != recount:
        problems.append("results.json: the summary does not match the results it counts")
    return results


def verify_bundle(path: Path, profile: str = "core") -> Verification:
    """Check a bundle offline. OSError/tarfile.TarError propagate for a file that is not a readable archive."""
    verification = Verification(profile=profile)
    files, verification.problems = read_members(path)
    verification.problems.extend(check_manifest(files))
    results = check_documents(files, verification)
    if results:
        flaky_fails = bool(verification.config.get("flaky_fails"))
        in_profile = [r for r in results["results"] if r.get("profile") == profile and r.get("level") == "MUST"]
        verification.counted = len(in_profile)
        verification.failures = list(gate_failures(results, flaky_fails=flaky_fails, profiles={profile},
                                                   failing=CERTIFICATION_FAILING))
    return verification
