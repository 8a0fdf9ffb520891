"""The one line that says how a run knows a profile's status: who claimed it, and what the probe found."""

from __future__ import annotations

from conformance.reporting.report_page import profile_evidence


def document(embedded: bool) -> dict:
    probe = {"route": "/applet/new", "path": "/applet/new", "present": True, "evidence": "",
             "answer": {"status": 422, "error_type": "InvalidInput"}}
    return {"server": {"url": "http://127.0.0.1:1", "embedded": embedded},
            "profiles": {"executables": {"status": "claimed", "claimed": True, "probes": [probe]},
                         "core": {"status": "claimed", "claimed": True, "probes": [probe]}}}


def test_a_claim_names_who_made_it():
    assert profile_evidence(document(embedded=True), "executables").startswith(
        "claimed by the embedded reference server, which implements it; probe: 1 of 1")
    assert profile_evidence(document(embedded=False), "executables").startswith(
        "claimed by the user (--claims); probe: 1 of 1")
    assert profile_evidence(document(embedded=True), "core").startswith("required of every server; ")
    assert profile_evidence(document(embedded=True), "apps") == ""
