"""`dxconform diff --golden` on an imported recording: replayed exchange by exchange (IDs mapped, storage through
the candidate's URLs, polls and expired URLs reproduced), differences by kind, figures, ignores, no token out.

The recordings are written here as `dxconform import` writes them: hand-written requests, sent once to a
reference server as bob (the "recorded platform"), their answers kept as recorded; the replay runs as alice."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import main
from conformance.differential.compare import Difference
from conformance.differential.config import DiffConfig, load_config, platform_config
from conformance.differential.golden import FORMAT, exchange_record, problems, read_golden, write_golden
from conformance.differential.traffic import replay_traffic
from conformance.differential.traffic_compare import FIGURE_LABEL, header_differences
from conformance.differential.volatile import Placeholders
from conformance.engine.transport import Transport
from conformance.gate import gate_failures
from conformance.refserver.context import TOKEN_PREFIX, Settings
from conformance.refserver.server import RefServer

from .support import dxconform

TOKENS = {"alice": "zq7-alice-secret-4471", "bob": "zq7-bob-secret-9032"}
CONTENT = "hello traffic\n"


@pytest.fixture(scope="module")
def server():
    with RefServer(settings=Settings(users=dict(TOKENS))) as running:
        yield running


class Recorder:
    """Sends hand-written requests as bob and keeps each exchange as `dxconform import` records it."""

    def __init__(self, url: str):
        self.transport = Transport(url, {"bob": TOKENS["bob"]})
        self.marks = Placeholders("", url)
        self.steps: list[dict[str, Any]] = []

    def api(self, path: str, body: Any, route: str, *, public: bool = False) -> Any:
        headers = {"Authorization": "Bearer PUBLIC"} if public else None
        exchange = self.transport.call(path, user=None if public else "bob", json_body=body, route=route,
                                       headers=headers)
        record = exchange_record(exchange, self.marks)
        if public:
            record["request"]["public_token"] = True
        self._keep(record)
        return exchange.response.json

    def storage(self, kind: str, url: str, headers: dict[str, str], body: str = "") -> None:
        exchange = self.transport.fetch(url, "PUT" if kind == "upload" else "GET", headers, body)
        self._keep({"storage": kind, **exchange_record(exchange, self.marks)})

    def _keep(self, record: dict[str, Any]) -> None:
        record["response"].pop("truncated", None)
        self.steps.append({"step": f"exchange {len(self.steps) + 1}", "exchanges": [record]})


def project_case(r: Recorder) -> None:
    project = r.api("/project/new", {"name": "replayed"}, "/project/new")["id"]
    r.api(f"/{project}/describe", {}, "/project-xxxx/describe")
    r.api(f"/{project}/newFolder", {"folder": "/a"}, "/project-xxxx/newFolder")
    r.api(f"/{project}/listFolder", {"folder": "/missing"}, "/project-xxxx/listFolder")


def file_case(r: Recorder, duration: int | None = None) -> None:
    import hashlib

    project = r.api("/project/new", {"name": "files"}, "/project/new")["id"]
    file_id = r.api("/file/new", {"project": project, "name": "a.txt"}, "/file/new")["id"]
    upload = r.api(f"/{file_id}/upload", {"index": 1, "size": len(CONTENT),
                                          "md5": hashlib.md5(CONTENT.encode()).hexdigest()}, "/file-xxxx/upload")
    r.storage("upload", upload["url"], upload["headers"], CONTENT)
    r.api(f"/{file_id}/close", {}, "/file-xxxx/close")
    deadline = time.monotonic() + 5
    while r.api(f"/{file_id}/describe", {"fields": {"state": True}}, "/file-xxxx/describe")["state"] != "closed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    asked = {"project": project, **({"duration": duration} if duration else {})}
    download = r.api(f"/{file_id}/download", asked, "/file-xxxx/download")
    r.storage("download", download["url"], {**download["headers"], "Range": "bytes=0-4"})
    if duration:
        time.sleep(duration + 0.5)
        r.storage("download", download["url"], download["headers"])    # expired by now


def public_case(r: Recorder) -> None:
    r.api("/system/findProjects", {"public": True, "limit": 1}, "/system/findProjects", public=True)


def recording(url: str, cases: dict[str, Callable[[Recorder], None]]) -> dict[str, Any]:
    """An imported recording (format of common design: `imported` member, one case per recorded test)."""
    documented, marks = [], Placeholders("", url)
    for name, script in cases.items():
        recorder = Recorder(url)
        recorder.marks = marks
        script(recorder)
        recorder.transport.close()
        documented.append({"id": f"hand::Test::{name}", "title": name, "profile": "core", "outcome": "passed",
                           "steps": recorder.steps})
    exchanges = [s["exchanges"][0] for c in documented for s in c["steps"]]
    now = int(time.time() * 1000)
    document = {"format": FORMAT, "suite": {"version": "test", "schemas_sha256": "0" * 64}, "recorded": now,
                "server": {"embedded": False}, "users": ["token"], "work_project": None,
                "placeholders": marks.to_json(),
                "imported": {"sources": [{"file": "hand-written", "format": "har"}], "recorded_first": now,
                             "recorded_last": now, "clients": ["tests"], "api_server": url, "user": "user-bob",
                             "exchanges": len(exchanges),
                             "api_exchanges": sum(1 for e in exchanges if "storage" not in e)},
                "cases": documented}
    assert problems(document) == []
    return document


@pytest.fixture(scope="module")
def recorded(server) -> dict[str, Any]:
    return recording(server.url, {"project": project_case, "file": file_case, "public": public_case})


def replay(server, document: dict[str, Any], config: DiffConfig | None = None, cases: tuple[str, ...] = ()):
    return replay_traffic(document, server.url, {"alice": TOKENS["alice"]},
                          config if config is not None else platform_config(), embedded=False, timeout=10,
                          cases_filter=cases)


def kinds(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["id"].rsplit("::", 1)[-1], f["title"], f["path"]) for r in document["results"] for f in r["findings"]}


def test_a_faithful_recording_replays_without_difference(server, recorded) -> None:
    outcome = replay(server, recorded)
    document = outcome.document
    assert kinds(document) == set()
    traffic = document["traffic"]
    assert traffic == {"api_exchanges": traffic["api_exchanges"], "matched": traffic["api_exchanges"],
                       "matched_without_ignores": traffic["api_exchanges"],
                       "match_percent": 100.0, "storage_exchanges": 2, "by_kind": {},
                       "by_route": traffic["by_route"], "ignored": traffic["ignored"]}
    assert traffic["api_exchanges"] == recorded["imported"]["api_exchanges"] == sum(
        1 for case in recorded["cases"] for step in case["steps"] if "storage" not in step["exchanges"][0])
    assert traffic["by_route"]["/project/new"] == {"exchanges": 2, "matched": 2}
    assert traffic["by_route"]["/project-xxxx/listFolder"] == {"exchanges": 1, "matched": 1}
    assert [r["outcome"] for r in document["results"]] == ["passed"] * 3
    assert sorted(r["id"] for r in document["results"]) == sorted(c["id"] for c in recorded["cases"])
    # IDs mapped: the replay's describe named the project the replay made, not the recorded one.
    mine = Placeholders.from_json(outcome.candidate_golden["placeholders"])
    steps = outcome.candidate_golden["cases"][0]["steps"]
    made = steps[0]["exchanges"][0]["response"]["json"]["id"]
    described = steps[1]["exchanges"][0]
    assert described["response"]["json"]["id"] == made
    assert mine.reveal(described["request"]["path"]) == f"/{made}/describe"
    assert made != recorded["cases"][0]["steps"][0]["exchanges"][0]["response"]["json"]["id"]
    assert described["response"]["json"]["createdBy"] == {"user": "user-alice"}   # bob's recording, alice's run
    # Storage through the candidate's URLs: the PUT stored the recorded bytes, the ranged GET read them back.
    files = outcome.candidate_golden["cases"][1]["steps"]
    fetched = [s["exchanges"][0] for s in files if s["exchanges"][0].get("storage") == "download"]
    assert fetched[0]["response"]["status"] == 206 and fetched[0]["response"]["text"] == CONTENT[:5]


def test_a_broken_comparison_would_show(server, recorded, tmp_path: Path) -> None:
    # The recording has a key the candidate lacks, and a status the candidate does not give.
    document = copy.deepcopy(recorded)
    document["cases"][0]["steps"][1]["exchanges"][0]["response"]["json"]["extra"] = 1
    document["cases"][0]["steps"][2]["exchanges"][0]["response"]["status"] = 201
    outcome = replay(server, document)
    assert kinds(outcome.document) == {("project", "only-in-golden", "$.extra"), ("project", "status", "status")}
    traffic = outcome.document["traffic"]
    assert traffic["by_kind"] == {"only-in-golden": 1, "status": 1}
    assert traffic["matched"] == traffic["api_exchanges"] - 2
    assert traffic["by_route"]["/project-xxxx/newFolder"] == {"exchanges": 1, "matched": 0}
    # An ignore entry removes its difference and counts it under its reason.
    assert gate_failures(outcome.document) == []      # SHOULD unless configured: the diff passes
    rules = tmp_path / "ignores.yaml"
    rules.write_text("ignore:\n  - path: $.extra\n    reason: the recorded platform adds it\n"
                     "levels:\n  - kind: status\n    level: MUST\n")
    again = replay(server, document, platform_config().extend(load_config(rules))).document
    traffic = again["traffic"]
    assert traffic["by_kind"] == {"status": 1} and traffic["ignored"]["the recorded platform adds it"] == 1
    assert traffic["matched"] == traffic["api_exchanges"] - 1
    assert [r["id"] for r in gate_failures(again)] == ["hand::Test::project"]   # a MUST difference fails it


def test_public_token_is_sent_as_recorded(server, recorded) -> None:
    only = replay(server, recorded, cases=("*::public",)).document
    assert [r["id"] for r in only["results"]] == ["hand::Test::public"] and only["traffic"]["matched"] == 1
    public = {**recorded, "cases": [recorded["cases"][2]]}
    # Without the flag the request goes without any token: another status, so the flag was honoured.
    anonymous = copy.deepcopy(public)
    request = anonymous["cases"][0]["steps"][0]["exchanges"][0]["request"]
    del request["public_token"]
    request["auth"] = False
    assert ("public", "status", "status") in kinds(replay(server, anonymous).document)


def test_expired_download_is_waited_out_or_reported_not_replayable(server) -> None:
    document = recording(server.url, {"expiry": lambda r: file_case(r, duration=1)})
    last = document["cases"][0]["steps"][-1]["exchanges"][0]
    assert last["storage"] == "download" and last["response"]["status"] >= 400   # the recorded URL had expired
    outcome = replay(server, document)
    assert not any(kind == "not-replayable" for _, kind, _ in kinds(outcome.document))
    replayed = outcome.candidate_golden["cases"][0]["steps"][-1]["exchanges"][0]
    assert replayed["response"]["status"] == last["response"]["status"]
    # A recorded lifetime too long to wait out: reported, not faked.
    longer = copy.deepcopy(document)
    for step in longer["cases"][0]["steps"]:
        if step["exchanges"][0].get("route") == "/file-xxxx/download":
            step["exchanges"][0]["request"]["json"]["duration"] = 3600
    found = kinds(replay(server, longer).document)
    assert ("expiry", "not-replayable", f"exchange {len(document['cases'][0]['steps'])}") in found


def test_header_rules() -> None:
    recorded = {"status": 200, "headers": {"Content-Type": "application/json; charset=utf-8", "X-Request-ID": "1-2",
                                           "X-Content-Type-Options": "nosniff", "Content-Length": "2"}}
    alike = {"status": 200, "headers": {"content-type": "application/json;charset=UTF-8", "x-request-id": "9-9",
                                        "x-content-type-options": "nosniff", "content-length": "2"}}
    assert header_differences("c", "s", "/r", recorded, alike) == []
    bare = {"status": 200, "headers": {"Content-Type": "application/json"}}
    found = header_differences("c", "s", "/r", recorded, bare)
    assert {(d.kind, d.path) for d in found} == {("header", "header content-type"), ("header", "header x-request-id"),
                                                 ("header", "header x-content-type-options"),
                                                 ("header", "header content-length")}
    # Another media type is a content-type difference already, not a header one.
    assert header_differences("c", "s", "/r", {"headers": {"Content-Type": "text/plain"}},
                              {"headers": {"Content-Type": "application/json"}}) == []
    assert all(isinstance(d, Difference) for d in found)


def test_cli_replays_on_the_embedded_server(recorded, tmp_path: Path) -> None:
    path = write_golden(tmp_path / "imported.json", recorded)
    done = dxconform("diff", "--golden", str(path), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert f"{FIGURE_LABEL}: " in done.stdout and "(100.0%)" in done.stdout
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["traffic"]["match_percent"] == 100.0 and document["golden"]["imported"]["user"] == "user-bob"
    outputs = [done.stdout, done.stderr] + [(tmp_path / name).read_text() for name in ("results.json", "report.html")]
    assert not any(TOKEN_PREFIX in text for text in outputs)    # no token of the embedded server


def test_cli_never_shows_the_token(server, recorded, tmp_path: Path, capsys) -> None:
    broken = copy.deepcopy(recorded)
    broken["cases"][0]["steps"][1]["exchanges"][0]["response"]["json"]["extra"] = 1
    broken["cases"].append({"id": "hand::Test::echo", "outcome": "passed", "steps": [{"step": "exchange 1", "exchanges": [
        {"route": "/system/headers", "request": {"method": "POST", "url": "{{server}}/system/headers",
                                                 "path": "/system/headers", "auth": True, "headers": {}, "json": {}},
         "response": {"status": 200, "headers": {}, "json": {"authorization": "Bearer ***"}}}]}]})
    path = write_golden(tmp_path / "broken.json", broken)
    code = main(["diff", "--golden", str(path), "--server", server.url, "--token", TOKENS["alice"],
                 "--out", str(tmp_path / "live"), "--save", str(tmp_path / "saved.json")])
    shown = capsys.readouterr()
    assert code == 0, shown.err      # differences are SHOULD unless configured
    assert "only-in-golden: 1" in shown.out and "only-in-golden at $.extra" in shown.out
    assert "hand::Test::echo exchange 1 /system/headers: only-in-candidate" in shown.out   # the echo came back
    outputs = [shown.out, shown.err] + [(tmp_path / "live" / name).read_text()
                                        for name in ("results.json", "report.html", "junit.xml")]
    outputs.append((tmp_path / "saved.json").read_text())
    assert not any(TOKENS["alice"] in text or TOKENS["bob"] in text for text in outputs)
    saved = read_golden(tmp_path / "saved.json")     # the replay, as imported traffic of this server
    assert saved["imported"]["user"] == "user-alice" and saved["imported"]["api_server"] == server.url
    assert [c["id"] for c in saved["cases"]] == [c["id"] for c in broken["cases"]]
    assert replay(server, saved).document["traffic"]["match_percent"] == 100.0
    assert "Differences by kind" in outputs[3]


def test_project_option_is_a_usage_error_for_an_imported_recording(recorded, tmp_path: Path, capsys) -> None:
    path = write_golden(tmp_path / "imported.json", recorded)
    assert main(["diff", "--golden", str(path), "--project", "project-x", "--out", str(tmp_path)]) == 2
    assert "--project does not apply to an imported recording" in capsys.readouterr().err


def test_a_selection_that_matches_no_recorded_test_is_a_usage_error(recorded, tmp_path: Path, capsys) -> None:
    """A replay of nothing tested nothing: exit 2, not an empty pass."""
    path = write_golden(tmp_path / "imported.json", recorded)
    assert main(["diff", "--golden", str(path), "--case", "NoSuchTest", "--out", str(tmp_path / "out")]) == 2
    assert "no recorded test matched the selection (--case)" in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.json").exists()
