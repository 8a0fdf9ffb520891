"""Grouping failures by root cause (reporting/root_causes.py): from failure records and findings, never text."""

from __future__ import annotations

from conformance.reporting.root_causes import how_it_broke, path_pattern, root_causes

NOW = 1_764_150_000_000


def case(rid: str, matcher: str, path: str, expected, actual, outcome: str = "failed", **extra) -> dict:
    return {"id": rid, "kind": "case", "outcome": outcome, "level": "MUST", "routes": ["/record-xxxx/describe"],
            "failure": {"phase": "check" if matcher.islower() and "_" in matcher else "step", "misses": [
                {"path": path, "matcher": matcher, "expected": expected, "actual": actual, "text": "x"}]},
            **extra}


def check(rid: str, name: str, path: str, expected, actual) -> dict:
    return {"id": rid, "kind": "check", "outcome": "failed", "level": "MUST", "routes": [rid.split("::")[1]],
            "findings": [{"check": name, "path": path, "expected": expected, "actual": actual, "message": "m"}]}


def test_path_patterns_fold_indexes_and_ids() -> None:
    assert path_pattern("$.results[12].describe.created") == "$.results[*].describe.created"
    assert path_pattern('$["record-B0000000000000000000000Q"].tags') == "$[{id}].tags"
    assert path_pattern("") == "$"


def test_one_bug_many_results_is_one_line_largest_first() -> None:
    seconds = 1_764_150_000
    results = [case(f"c{i}", "timestamp_plausible", f"$.results[{i}].created", ">= 946684800000", seconds)
               for i in range(5)]
    results += [check("checks/timestamp_plausible::/record-xxxx/describe", "timestamp_plausible", "$.modified",
                      ">= 946684800000", seconds)]
    results += [case("other", "status", "status", 404, 200)]
    results += [{"id": "ok", "kind": "case", "outcome": "passed"}]
    causes = root_causes(results, NOW)
    assert [c.count for c in causes] == [6, 1]
    top = causes[0]
    assert top.line() == ("6 × timestamp_plausible at $.modified, $.results[*].created — values look like "
                          "seconds, not milliseconds")
    assert top.kinds == {"case": 5, "check": 1} and top.representative == "c0"
    assert causes[1].line() == "1 × status — a success (200) where a refusal was expected"


def test_different_breakages_of_one_rule_stay_apart() -> None:
    results = [case("a", "timestamp_plausible", "$.created", None, 1_764_150_000),
               case("b", "timestamp_plausible", "$.created", None, NOW + 10 * 366 * 24 * 3600 * 1000)]
    assert sorted(c.how for c in root_causes(results, NOW)) == [
        "values look like seconds, not milliseconds", "values more than a year in the future"]


def test_how_it_broke_reads_kinds_not_words() -> None:
    assert how_it_broke("equals", 3, "3") == "a string where an integer was expected"
    assert how_it_broke("equals", {"a": 1}, {"a": 2}) == "a different value than expected"
    assert how_it_broke("timestamp_plausible", None, "yesterday") == "a string where a timestamp belongs"
    assert how_it_broke("equals", ["a"], None, missing=True) == "the value is missing"
    assert how_it_broke("status", [401, 403], 500) == "a server error (500)"
    assert how_it_broke("error", "ResourceNotFound", "InvalidInput") == (
        "error type 'InvalidInput' where 'ResourceNotFound' was expected")


def test_an_error_without_misses_is_grouped_by_its_transport_error() -> None:
    hung = {"id": "h", "kind": "case", "outcome": "error", "level": "MUST", "routes": ["/system/whoami"],
            "failure": {"phase": "step", "exchange_index": 0, "misses": [], "error": "no answer"},
            "exchanges": [{"request": {}, "response": None, "error": {"kind": "timeout", "message": "t"}}]}
    [cause] = root_causes([hung, dict(hung, id="h2")], NOW)
    assert cause.line() == "2 × no answer — the server gave no complete answer (timeout)"
