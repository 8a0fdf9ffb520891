"""Writing a certification bundle: a run's outputs, its configuration and suite identity, and a SHA-256 manifest."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..redaction import redactor

# /2: suite.json records the scope (full or partial), the suite digest, the case counts, seed and fuzz budget.
BUNDLE_FORMAT = "dxconform-certification/2"
RUN_FILES = ("results.json", "report.html", "junit.xml")
CONFIG_FILE, SUITE_FILE, MANIFEST_FILE = "config.json", "suite.json", "MANIFEST.sha256"
REQUIRED_FILES = (*RUN_FILES, CONFIG_FILE, SUITE_FILE)


class BundleError(Exception):
    """The bundle cannot be written (a run output is missing, or a secret would end up in it)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: Mapping[str, bytes]) -> str:
    """`sha256sum` format (`<hex>  <name>`, sorted by name), so `sha256sum -c MANIFEST.sha256` checks it too."""
    return "".join(f"{sha256_hex(files[name])}  {name}\n" for name in sorted(files))


def _json_bytes(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def bundle_files(run_dir: Path, config: Mapping[str, Any], suite: Mapping[str, Any],
                 secrets: Iterable[str] = ()) -> dict[str, bytes]:
    """Every file of the bundle by name, MANIFEST.sha256 last; no secret survives in any of them."""
    files: dict[str, bytes] = {}
    for name in RUN_FILES:
        path = run_dir / name
        if not path.is_file():
            raise BundleError(f"{path} is missing: the run did not write it")
        files[name] = path.read_bytes()
    files[CONFIG_FILE] = _json_bytes(config)
    files[SUITE_FILE] = _json_bytes({"format": BUNDLE_FORMAT, **suite})
    secrets = [s for s in secrets if s]
    for name, data in files.items():
        # The run scrubbed its outputs already; this is the guard that a bundle can never carry a token.
        files[name] = redactor(secrets).scrub(data)
    files[MANIFEST_FILE] = manifest_text(files).encode("ascii")
    return files


def write_archive(path: Path, files: Mapping[str, bytes], mtime: int) -> Path:
    """A .tar.gz of `files` at its top level, byte-for-byte reproducible from the same files and mtime."""
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=mtime) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), mtime, 0o644
            archive.addfile(info, io.BytesIO(files[name]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw.getvalue())
    return path


def write_bundle(path: Path, run_dir: Path, config: Mapping[str, Any], suite: Mapping[str, Any],
                 secrets: Iterable[str] = ()) -> Path:
    """Bundle the run in `run_dir` (results.json, report.html, junit.xml) with its config and suite identity."""
    files = bundle_files(run_dir, config, suite, secrets)
    try:
        finished_ms = int(json.loads(files["results.json"]).get("finished", 0))
    except (ValueError, AttributeError):
        finished_ms = 0
    return write_archive(path, files, mtime=finished_ms // 1000)
