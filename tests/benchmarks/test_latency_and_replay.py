"""The pieces the benchmarks rely on: the server's injected latency, and replaying recorded exchanges."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from conformance.refserver.context import Settings
from conformance.refserver.server import RefServer

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from replay import Recording, _learn, plan, replay, write_plan  # noqa: E402

JSON = {"Content-Type": "application/json"}
LATENCY_MS = 200


def whoami(server: RefServer) -> float:
    started = time.perf_counter()
    answer = requests.post(server.url + "/system/whoami", data="{}", timeout=10,
                           headers={**JSON, "Authorization": f"Bearer {server.token('alice')}"})
    assert answer.status_code == 200 and answer.json()["id"] == "user-alice"
    return time.perf_counter() - started


def test_latency_delays_every_answer_and_concurrent_requests_wait_side_by_side():
    with RefServer(settings=Settings(latency_ms=LATENCY_MS)) as server:
        assert whoami(server) >= LATENCY_MS / 1000
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            each = list(pool.map(lambda _: whoami(server), range(4)))
        together = time.perf_counter() - started
    assert min(each) >= LATENCY_MS / 1000
    # four requests in parallel take about one latency, not four (the sleep does not block the event loop)
    assert together < 3 * LATENCY_MS / 1000


def test_without_latency_answers_are_not_delayed():
    with RefServer() as server:
        assert min(whoami(server) for _ in range(3)) < LATENCY_MS / 1000


def test_learning_maps_recorded_ids_and_urls_to_the_replayed_ones():
    mapping: dict[str, str] = {}
    _learn({"id": "project-" + "A" * 24, "name": "same", "url": "http://h:1/_dx/upload/abc",
            "results": [{"id": "file-" + "B" * 24}], "project-" + "C" * 24: {"level": "ADMINISTER"}},
           {"id": "project-" + "X" * 24, "name": "same", "url": "http://h:2/_dx/upload/xyz",
            "results": [{"id": "file-" + "Y" * 24}], "project-" + "Z" * 24: {"level": "ADMINISTER"}}, mapping)
    assert mapping == {"project-" + "A" * 24: "project-" + "X" * 24, "http://h:1/_dx/upload/abc":
                       "http://h:2/_dx/upload/xyz", "file-" + "B" * 24: "file-" + "Y" * 24,
                       "project-" + "C" * 24: "project-" + "Z" * 24}


def _recording(tmp_path: Path) -> tuple[Recording, list[str]]:
    """Three dependent calls recorded against one server (as the `record` child keeps them); their IDs."""
    exchanges = []
    with RefServer() as server, requests.Session() as session:
        t0 = time.time()

        def recorded_call(path: str, body: dict) -> dict:
            data = json.dumps(body).encode()
            auth = {**JSON, "Authorization": f"Bearer {server.token('alice')}"}
            started = time.time()
            answer = session.post(server.url + path, data=data, headers=auth, timeout=10)
            exchanges.append({"t": started, "done": time.time(), "wait": 0.0, "method": "POST",
                              "url": server.url + path, "headers": JSON, "user": "alice", "body": data,
                              "status": answer.status_code, "answer": answer.content})
            return answer.json()

        project = recorded_call("/project/new", {"name": "replayed"})["id"]
        record = recorded_call("/record/new", {"project": project, "name": "r", "close": True})["id"]
        assert recorded_call(f"/{record}/describe", {"project": project})["state"] == "closed"
    path = Recording(exchanges=exchanges, t0=t0, returned=time.time()).write(tmp_path / "exchanges.pickle")
    return Recording.read(path), [project, record]


def test_a_recorded_sequence_replays_on_a_fresh_server_with_the_new_ids(tmp_path: Path):
    """Replayed on another server, every status matches. The recording names the user, not the token: each
    server has its own random tokens."""
    recording, (project, record) = _recording(tmp_path)
    assert len(recording.exchanges) == 3 and recording.before_first >= 0 and recording.span > 0
    with RefServer() as server:
        result = replay(plan(recording), server)
    assert (result.sent, result.same_status) == (3, 3)
    # the new server gave new IDs, and the replay sent them where the recorded ones were
    assert result.mapping[project].startswith("project-") and result.mapping[project] != project
    assert result.mapping[record].startswith("record-") and result.mapping[record] != record


def test_only_answers_whose_ids_later_requests_use_are_learnt_from(tmp_path: Path):
    recording, _ = _recording(tmp_path)
    recording.exchanges[2]["answer"] = json.dumps({"id": "file-" + "Q" * 24, "name": "sent by no request"}).encode()
    planned = plan(recording)
    # /project/new and /record/new hand out IDs the next calls use; no request sends what the last one holds
    assert [p.learn_from is not None for p in planned] == [True, True, False]
    assert [p.has_ids for p in planned] == [False, True, True]


def test_the_replay_child_is_a_whole_process_that_reports_its_phases(tmp_path: Path):
    recording, _ = _recording(tmp_path)
    plan_file = write_plan(recording, tmp_path / "plan.pickle")
    finished = subprocess.run([sys.executable, str(BENCHMARKS / "replay.py"), "replay", str(plan_file)],
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr[-2000:]
    marks = json.loads(finished.stdout.strip().splitlines()[-1])
    assert (marks["sent"], marks["same_status"]) == (3, 3)
    assert marks["imported"] <= marks["plan_read"] <= marks["server_started"] <= marks["loop_done"]
    assert marks["loop"] >= marks["http"] > 0
