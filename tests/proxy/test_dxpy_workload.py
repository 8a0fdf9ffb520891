"""dxpy through the proxy: a clean server gives no violation, and the HAR replays through validate the same way;
broken variants of the server give violations on the server side only."""

from __future__ import annotations

import json

import pytest

from conformance.proxy.validate import validate

from .conftest import dxpy_at, proxied
from .support import broken, broken_checks, tally
from .workload import run_workload

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_clean_server_no_violation_and_the_har_replays_the_same(tmp_path):
    with proxied() as (server, proxy), dxpy_at(proxy.host, proxy.port, server.token("alice")) as dx:
        done = run_workload(dx)
    document, files = proxy.finish(tmp_path / "live")
    assert broken(document) == {}, json.dumps(broken(document), indent=1)[:3000]
    traffic = document["traffic"]
    assert traffic["no_answer"] == 0 and traffic["api"] > 60
    # dxpy's PUT of the upload URL and GET of the download URL went through the proxy (rewritten URLs).
    har = json.loads(files["har"].read_text())["log"]["entries"]
    content = [(e["request"]["method"], e["response"]["status"]) for e in har if "/_dx/" in e["request"]["url"]]
    assert ("PUT", 200) in content and any(m == "GET" and s in (200, 206) for m, s in content)
    assert all(e["request"]["url"].startswith(proxy.url) for e in har)
    pages = [e for e in har if e["request"]["url"].endswith("/system/findDataObjects")
             and '"workload"' in e["request"]["postData"]["text"]]
    assert len(pages) >= 3 and len(done.found) == len(done.records)
    # The recorded traffic checks the same way offline: the same (check, route) results, the same counts.
    replayed, _ = validate([files["har"]], tmp_path / "offline")
    assert tally(replayed) == tally(document)
    assert {k: replayed["traffic"][k] for k in ("api", "content")} == {k: traffic[k] for k in ("api", "content")}


@pytest.mark.parametrize(("fault", "rule"), [("float-timestamps", "strict_int"),
                                             ("timestamps-in-seconds", "timestamp_plausible"),
                                             ("no-nosniff", "nosniff")])
def test_broken_server_is_reported_on_the_server_side(tmp_path, fault, rule):
    with proxied(fault) as (server, proxy), dxpy_at(proxy.host, proxy.port, server.token("alice")) as dx:
        run_workload(dx)
    document, _ = proxy.finish(tmp_path)
    assert rule in broken_checks(document, "server")
    assert broken_checks(document, "client") == set()
    first = next(r for r in broken(document, "server").values() if r["id"].startswith(f"checks/{rule}::"))
    assert first["findings"] and first["exchanges"], "a violation comes with its first evidence"
