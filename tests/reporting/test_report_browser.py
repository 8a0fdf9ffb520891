"""report.html in headless Chromium with the network off: the numbers it shows are results.json's.

The screenshot is kept under tests/artifacts/ (git-ignored) and its path printed, for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from .support import EMBEDDED_TOKEN_PREFIX, Cells, run_tiny

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Any request the page tried would go to a dead proxy, and no name resolves: the network is off for it.
NETWORK_OFF = ("--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--disable-default-apps")


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("headless Chromium is required in CI (apt-get install chromium; .ci/run does it)")
    pytest.skip("no chromium on PATH (apt-get install chromium); this test renders report.html in it")


def headless(browser: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                           *NETWORK_OFF, "--window-size=1400,2000", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory) -> Path:
    """A run with a failure to show: the embedded server accepts malformed JSON."""
    return run_tiny(tmp_path_factory.mktemp("browser"), "out", "accepts-invalid-json")


def expected_numbers(document: dict) -> dict:
    """The numbers report.html must show, counted here straight from results.json."""
    results = document["results"]
    statuses = {name: entry["status"] for name, entry in document["profiles"].items()}
    # A profile neither claimed nor detected shows as one row (level "all"), with no score.
    level = {name: "all" if status == "not-implemented" else None for name, status in statuses.items()}
    return {"profile_level": Counter((r["profile"], level.get(r["profile"]) or r["level"], r["outcome"])
                                     for r in results),
            "area": Counter((r["area"], r["outcome"]) for r in results),
            "failures": sum(1 for r in results if r["outcome"] in ("failed", "error")),
            "whoami_exchanges": sum(1 for r in results for e in r["exchanges"] if e.get("route") == "/system/whoami")}


def test_report_renders_in_chromium_with_the_numbers_of_results_json(failing_run: Path, tmp_path: Path) -> None:
    browser = chromium()
    report = failing_run / "report.html"
    document = json.loads((failing_run / "results.json").read_text())
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    shot = headless(browser, report, tmp_path / "profile-shot", f"--screenshot={screenshot}")
    assert screenshot.is_file() and screenshot.stat().st_size > 20_000, shot.stderr[-2000:]
    print(f"\nscreenshot of report.html: {screenshot}")
    dom = headless(browser, report, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0 and "dxconform-report" in dom.stdout, dom.stderr[-2000:]
    page = Cells(dom.stdout)
    expected = expected_numbers(document)

    for outcome, count in document["summary"].items():
        assert page.by_id[f"dx-total-{outcome}"] == str(count), outcome
    shown_rows = {(r.get("data-profile"), r.get("data-level")) for r, _, _ in page.cells if "data-level" in r}
    not_implemented = {(name, "all") for name, entry in document["profiles"].items()
                       if entry["status"] == "not-implemented"}
    assert shown_rows == {(p, lv) for p, lv, _ in expected["profile_level"]} | not_implemented
    for (profile, level, outcome), count in expected["profile_level"].items():
        assert page.find(data_profile=profile, data_level=level, data_outcome=outcome) == [str(count)]
    for (area, outcome), count in expected["area"].items():
        assert page.find(data_area=area, data_topic=None, data_outcome=outcome) == [str(count)]
    assert page.by_id["dx-failure-count"] == str(expected["failures"]) and expected["failures"] >= 1
    route_rows = {r["data-route"] for r, _, _ in page.cells if "data-route" in r}
    assert len(route_rows) == 208 and "/system/whoami" in route_rows
    assert page.find(data_route="/system/whoami", data_col="exchanges") == [str(expected["whoami_exchanges"])]
    # every result is listed (grouped by file), and the failing case links to its evidence
    assert "cases/tiny.yaml" in dom.stdout and "malformed-json" in dom.stdout


def test_report_loads_nothing_and_holds_no_token(failing_run: Path) -> None:
    html = (failing_run / "report.html").read_text()
    loads = re.findall(r"<(?:script|link|img|source|iframe|video|audio)\b[^>]*?(?:src|href)=[\"']([^\"']*)", html)
    assert all(url == "" or url.startswith("data:") for url in loads), loads
    assert "@import" not in html and "url(http" not in html
    files = [p for p in failing_run.rglob("*") if p.is_file()]
    assert {"results.json", "junit.xml", "report.html", "core-MUST.svg"} <= {p.name for p in files}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert EMBEDDED_TOKEN_PREFIX not in text, f"an embedded server's token in {path}"
    # the failure's evidence: the diff at the failing path, and commands that read the token of the step's
    # user from the environment ($DX_TOKEN_ALICE)
    assert "dx-failure-cases_tiny.yaml__malformed-json" in html
    assert 'os.environ[&quot;DX_TOKEN_ALICE&quot;]' in html and "$DX_TOKEN_ALICE" in html
