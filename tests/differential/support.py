"""Helpers of the differential tests: `dxconform` in a subprocess, and reading what a diff found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# A small case set that still meets every kind of volatile value: IDs in paths, bodies and keys, timestamps,
# the run prefix, upload/download URLs, paging over ID-ordered listings, the Host echo, run fixtures.
SMALL_SET = ("cases/auth/identity.yaml::", "cases/json-output/errors.yaml::", "cases/semantics/search/paging.yaml::",
             "cases/json-output/files.yaml::", "cases/json-output/system.yaml::",
             "cases/semantics/search/find-data-objects.yaml::filter-created-and-modified",
             "cases/url-forms/malformed-ids.yaml::real-id-wrong-length", "cases/semantics/files/download.yaml::")
WHOAMI = "cases/auth/identity.yaml::whoami-stable"
NOT_FOUND = "cases/json-output/errors.yaml::error-not-found-envelope"


def dxconform(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)


def case_options(cases) -> list[str]:
    return [option for case in cases for option in ("--case", case)]


def findings(out_dir: Path) -> set[tuple[str, str, str]]:
    """(case id, kind, path) of every difference the diff reported."""
    document = json.loads((out_dir / "results.json").read_text())
    return {(r["id"], f["title"], f["path"]) for r in document["results"] for f in r["findings"]}
