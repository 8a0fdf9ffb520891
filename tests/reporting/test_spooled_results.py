"""Case results spooled to disk: whole as mappings, written to results.json as the plain ones, small in memory."""

from __future__ import annotations

import gc
import json
import math
import tracemalloc
from types import SimpleNamespace

import pytest

from conformance.pytest_plugin.gather import MORE_RESULTS_ATTRIBUTE, RESULT_ATTRIBUTE, Gatherer
from conformance.redaction import redactor
from conformance.reporting.encodable import ERRORS
from conformance.reporting.json_text import write_indented
from conformance.reporting.results_json import build_document
from conformance.reporting.spooled_results import ResultSpool, SpooledResult

TOKEN = "tok-Zq3kF9sLmN2pQ7rT5vW8xY1z"


def record(case: str, body: str = "x" * 100, **more) -> dict:
    return {"id": f"cases/a.yaml::{case}", "title": "A case", "outcome": "passed", "level": "MUST",
            "routes": ["/file/new"], "exchanges": [{"route": "/file/new", "request": {"body": {"name": body}},
                                                   "response": {"status": 200, "body": {"id": "file-1"}}}],
            "check_counts": {"output_schema": 1}, "kind": "case", **more}


def test_a_spooled_result_is_the_whole_record_in_its_own_order():
    original = record("one", replay={"senders": ["alice"]})
    kept = ResultSpool().add(json.loads(json.dumps(original)))
    assert isinstance(kept, SpooledResult)
    assert list(kept) == list(original) and len(kept) == len(original)
    assert kept == original and dict(kept) == original
    assert kept["exchanges"] == original["exchanges"] and kept.get("replay") == {"senders": ["alice"]}
    assert "exchanges" in kept and "attempts" not in kept
    assert kept.get("attempts") is None and kept.get("missing", 7) == 7
    with pytest.raises(KeyError):
        kept["missing"]
    assert kept.whole() == original and json.loads(kept.text()) == original


def test_a_result_without_exchanges_stays_a_plain_dict():
    light = {"id": "cases/a.yaml::b", "outcome": "unsupported", "kind": "case"}
    kept = ResultSpool().add(dict(light))
    assert type(kept) is dict and kept == light


def test_results_json_of_spooled_results_is_the_text_of_the_plain_ones(tmp_path):
    """Awkward values (NaN, a lone surrogate, non-ASCII) and a token in an exchange: results.json of the
    spooled results is byte for byte what the same document of plain dicts writes, scrubbed."""
    plain = [record("nan", exchanges_note=math.nan), record("surrogate", body="a\udc00b"),
             record("token", body=f"echo {TOKEN} é😀"), {"id": "cases/a.yaml::light", "outcome": "passed",
                                                          "kind": "case"}]
    spool = ResultSpool()
    spooled = [spool.add(json.loads(json.dumps(r))) for r in plain]
    assert sum(isinstance(r, SpooledResult) for r in spooled) == 3
    written = {}
    for name, results in (("plain", plain), ("spooled", spooled)):
        path = tmp_path / f"{name}.json"
        write_indented(path, {"format": "x", "results": results}, redactor([TOKEN]))
        written[name] = path.read_bytes()
    scrubbed = redactor([TOKEN]).scrub_json({"format": "x", "results": plain})
    assert written["spooled"] == written["plain"]
    assert written["plain"] == (json.dumps(scrubbed, indent=1, ensure_ascii=False, default=str) + "\n").encode(
        "utf-8", errors=ERRORS)
    assert TOKEN.encode() not in written["spooled"]


class CountingSpool(ResultSpool):
    def __init__(self):
        super().__init__()
        self.reads = 0

    def read(self, offset, length):
        self.reads += 1
        return super().read(offset, length)


def test_building_the_document_reads_no_exchange_back():
    spool = CountingSpool()
    kept = [spool.add(record(f"c{k}")) for k in range(5)]
    document = build_document(suite_version="0", schemas_sha256="0", server_url="http://127.0.0.1:1", embedded=True,
                              started_ms=0, finished_ms=1, case_results=kept, check_results=[])
    assert all(any(r is k for r in document["results"]) for k in kept)
    assert document["summary"]["passed"] == 5 and spool.reads == 0
    assert document["results"][0]["exchanges"][0]["route"] == "/file/new" and spool.reads == 1


def test_what_stays_in_memory_does_not_grow_with_the_exchanges():
    """200 results of 50 KB of exchanges each (10 MB): what the spool keeps in memory is their light members."""
    spool = ResultSpool()
    texts = [json.dumps(record(f"big{k}", body=f"{k}" + "y" * 50_000)) for k in range(200)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [spool.add(json.loads(text)) for text in texts]
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1_000_000, f"{held} bytes held for 200 spooled results"
    assert kept[199]["exchanges"][0]["request"]["body"]["name"].startswith("199y")


def test_the_gatherer_takes_a_reports_result_and_lets_go_of_its_text():
    """pytest keeps every report to the end of the run: once gathered, the report no longer holds the JSON."""
    gatherer = Gatherer("http://127.0.0.1:1", True, [])
    report = SimpleNamespace(nodeid="cases/a.yaml::one", failed=False, when="call",
                             **{RESULT_ATTRIBUTE: json.dumps(record("one")),
                                MORE_RESULTS_ATTRIBUTE: json.dumps([record("two")])})
    gatherer.add_report(report)
    assert getattr(report, RESULT_ATTRIBUTE) is None and getattr(report, MORE_RESULTS_ATTRIBUTE) is None
    assert gatherer.case_results["cases/a.yaml::one"] == record("one")
    assert gatherer.case_results["cases/a.yaml::one#1"] == record("two")
    assert [r["id"] for r in gatherer.document()["results"]] == ["cases/a.yaml::one", "cases/a.yaml::two"]
