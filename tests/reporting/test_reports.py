"""results.json building and exit codes, the terminal and HTML summaries, failure evidence, curl commands."""

from __future__ import annotations

import json
import shlex

from conformance.model import Area, Exchange, Headers, Level, Outcome, Request, Response, Result
from conformance.redaction import redactor
from conformance.reporting.curl import curl_command
from conformance.reporting.failure_section import failure_html
from conformance.reporting.html_report import summary_html
from conformance.reporting.results_json import (
    SUMMARY_KEYS,
    build_document,
    exit_code,
    summarize,
    write_document,
)
from conformance.reporting.summary import count_by, terminal_lines

from ..pytest_plugin.support import assert_valid_results

SECRET = "s3cret-token-value"


def result(id_: str, outcome: Outcome, level: Level = Level.MUST, area: Area = Area.SEMANTICS) -> dict:
    exchange = Exchange(request=Request("POST", "http://127.0.0.1:1/system/whoami", "/system/whoami",
                                        Headers({"Authorization": f"Bearer {SECRET}",
                                                 "Content-Type": "application/json"}), b'{"a": "<b>"}'),
                        response=Response(404, Headers({"Content-Type": "application/json"}),
                                          b'{"error": {"type": "ResourceNotFound", "message": "x"}}'),
                        elapsed_ms=3, route="/system/whoami")
    return Result(id=id_, title=f"title of {id_}", area=area, topic="t", level=level, profile="core",
                  outcome=outcome, source="https://documentation.dnanexus.com/x", routes=["/system/whoami"],
                  message="step 1 POST /system/whoami (f.yaml:3): status 404, expected 200",
                  exchanges=[exchange]).to_json()


def document(*results: dict, checks: tuple = ()) -> dict:
    return build_document(suite_version="0.1.0", schemas_sha256="0" * 64, server_url="http://127.0.0.1:1",
                          embedded=True, started_ms=1764150000000, finished_ms=1764150000500,
                          case_results=results, check_results=checks)


def test_summary_has_every_outcome_key_and_counts() -> None:
    summary = summarize([result("a", Outcome.PASSED), result("b", Outcome.UNSUPPORTED), result("c", Outcome.PASSED)])
    assert tuple(summary) == SUMMARY_KEYS and SUMMARY_KEYS == tuple(o.value for o in Outcome)
    assert summary["passed"] == 2 and summary["unsupported"] == 1 and summary["failed"] == 0


def test_document_matches_the_schema_and_keeps_cases_before_checks() -> None:
    check = dict(result("checks/json_content_type::/system/whoami", Outcome.PASSED), topic="checks")
    doc = document(result("z", Outcome.PASSED), result("a", Outcome.FAILED), checks=(check,))
    assert_valid_results(doc)
    assert [r["id"] for r in doc["results"]] == ["a", "z", "checks/json_content_type::/system/whoami"]
    assert [r["kind"] for r in doc["results"]] == ["case", "case", "check"]


def test_exit_code_gates_on_must_failures_and_errors_only() -> None:
    assert exit_code(document(result("a", Outcome.PASSED), result("b", Outcome.UNSUPPORTED))) == 0
    assert exit_code(document(result("a", Outcome.FAILED, Level.SHOULD))) == 0
    assert exit_code(document(result("a", Outcome.FAILED))) == 1
    assert exit_code(document(result("a", Outcome.ERROR))) == 1
    assert exit_code(document(result("a", Outcome.XFAILED))) == 0


def test_written_document_never_holds_a_secret(tmp_path) -> None:
    doc = document(dict(result("a", Outcome.FAILED), message=f"server echoed {SECRET}"))
    path = write_document(tmp_path / "results.json", doc, [SECRET])
    text = path.read_text()
    assert SECRET not in text and "Bearer ***" in text
    assert json.loads(text)["results"][0]["message"] == "server echoed ***"
    assert redactor(["a"]).scrub("a b a") == "*** b ***"


def test_curl_command_uses_a_shell_variable_for_the_token() -> None:
    request = result("a", Outcome.FAILED)["exchanges"][0]["request"]
    command = curl_command(request)
    assert SECRET not in command and "***" not in command
    words = shlex.split(command)
    assert "Authorization: Bearer $DX_TOKEN" in words      # double-quoted: the shell expands it
    assert words[words.index("--data-binary") + 1] == '{"a": "<b>"}'
    assert "http://127.0.0.1:1/system/whoami" in words


def test_counts_by_area_follow_the_declared_order() -> None:
    table = count_by([result("a", Outcome.PASSED, area=Area.SEMANTICS), result("b", Outcome.FAILED, area=Area.AUTH)],
                     "area")
    assert list(table) == ["auth", "semantics"]
    assert table["auth"]["failed"] == 1 and table["semantics"]["passed"] == 1


def test_terminal_lines_name_areas_checks_and_files() -> None:
    lines = terminal_lines(document(result("a", Outcome.PASSED),
                                    checks=(dict(result("checks/x::/system/whoami", Outcome.FAILED)),
                                            dict(result("checks/y::/system/whoami", Outcome.NOT_APPLICABLE)))),
                           {"results": "out/results.json", "junit": "", "report": "out/report.html"})
    text = "\n".join(lines)
    assert "semantics" in text
    assert "check results (one per check and route): 2: 1 failed, 1 not-applicable" in text
    assert "all results: 3: 1 passed, 1 failed, 1 not-applicable" in text
    assert "results: out/results.json" in text and "junit:" not in text


def test_html_fragments_escape_server_text() -> None:
    failed = result("a", Outcome.FAILED)
    failed["message"] = "<script>alert(1)</script>"
    html = failure_html(failed)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "$DX_TOKEN" in html and SECRET not in html
    summary = summary_html([result("a", Outcome.PASSED)], [])
    assert "dx-cases-by-area" in summary and "semantics" in summary
