"""Helpers of the report tests: running `dxconform run` on the tiny suite, and reading numbers out of HTML."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from conformance.refserver.context import TOKEN_PREFIX

from ..pytest_plugin.support import TINY_CASES

# Every token of the embedded server starts with it: no output file may hold one.
EMBEDDED_TOKEN_PREFIX = TOKEN_PREFIX


def dxconform(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def run_tiny(tmp_path: Path, name: str, *faults: str) -> Path:
    """`dxconform run` of the tiny suite on the embedded server (with these faults); its output directory."""
    out = tmp_path / name
    args = ["run", "--cases", str(TINY_CASES), "--out", str(out), "--reruns", "0"]
    for fault in faults:
        args += ["--embedded-fault", fault]
    proc = dxconform(*args, cwd=tmp_path)
    assert proc.returncode == (1 if faults else 0), proc.stdout[-3000:] + proc.stderr
    return out


class Cells(HTMLParser):
    """Every <td>/<th> and <tr> with its attributes and text, and every element's id -> text."""

    def __init__(self, html: str):
        super().__init__()
        self.cells: list[tuple[dict[str, str], dict[str, str], str]] = []   # (row attrs, cell attrs, text)
        self.by_id: dict[str, str] = {}
        self._row: dict[str, str] = {}
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self._row = attributes
        if tag in ("td", "th") or "id" in attributes:
            self._open.append((tag, attributes, []))

    def handle_data(self, data):
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                _, attributes, text = self._open.pop(index)
                joined = "".join(text).strip()
                if tag in ("td", "th"):
                    self.cells.append((self._row, attributes, joined))
                if "id" in attributes:
                    self.by_id[attributes["id"]] = joined
                return

    def find(self, **wanted: str | None) -> list[str]:
        """Texts of the cells whose own (or row's) attributes have these values (data_x= for data-x; None:
        the attribute is absent)."""
        keys = {k.replace("_", "-"): v for k, v in wanted.items()}
        return [text for row, cell, text in self.cells
                if all(cell.get(k, row.get(k)) == v for k, v in keys.items())]
