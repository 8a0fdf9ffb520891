"""Load: 16 concurrent clients x 200 mixed writes on the reference server lose nothing."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CLIENTS = 16
WRITES_PER_CLIENT = 200
RECORDS_PER_CLIENT = 40
# Each record takes exactly five writes: new, addTags, setProperties, rename, close (40 x 5 = 200).
STEPS = ("new", "addTags", "setProperties", "rename", "close")


@dataclass
class Expected:
    """What one record must look like once every write to it has been answered 200."""

    client: int
    index: int
    id: str = ""
    name: str = ""
    tags: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    folder: str = ""
    state: str = "open"


class LoadClient:
    """One client: its own requests.Session, its own random interleaving of the writes to its records."""

    def __init__(self, url: str, token: str, project: str, number: int, start: threading.Barrier):
        self.url, self.project, self.number, self.start = url, project, number, start
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.records = [Expected(number, i) for i in range(RECORDS_PER_CLIENT)]
        self.writes = 0

    def post(self, session: requests.Session, path: str, body: dict) -> dict:
        answer = session.post(self.url + path, data=json.dumps(body), headers=self.headers, timeout=60)
        assert answer.status_code == 200, (path, body, answer.status_code, answer.text[:300])
        self.writes += 1
        return answer.json()

    def write(self, session: requests.Session, record: Expected, step: str) -> None:
        if step == "new":
            record.folder = f"/client-{self.number}/{record.index % 4}"
            record.name = f"c{self.number}-r{record.index}"
            record.tags = ["load", f"client-{self.number}"]
            record.properties = {"client": str(self.number)}
            body = {"project": self.project, "name": record.name, "tags": record.tags, "folder": record.folder,
                    "parents": True, "properties": record.properties}
            record.id = self.post(session, "/record/new", body)["id"]
        elif step == "addTags":
            new_tags = [f"t{record.index}", "load"]  # "load" is already there: must not repeat
            self.post(session, f"/{record.id}/addTags", {"project": self.project, "tags": new_tags})
            record.tags = record.tags + [new_tags[0]]
        elif step == "setProperties":
            change = {"index": str(record.index), "client": None}
            self.post(session, f"/{record.id}/setProperties", {"project": self.project, "properties": change})
            record.properties = {"index": str(record.index)}
        elif step == "rename":
            record.name = f"renamed-c{self.number}-r{record.index}"
            self.post(session, f"/{record.id}/rename", {"project": self.project, "name": record.name})
        else:
            self.post(session, f"/{record.id}/close", {})
            record.state = "closed"

    def run(self) -> None:
        rng = random.Random(self.number)
        pending = {i: 0 for i in range(RECORDS_PER_CLIENT)}  # record index -> next step
        with requests.Session() as session:
            self.start.wait()
            while pending:
                index = rng.choice(sorted(pending))
                self.write(session, self.records[index], STEPS[pending[index]])
                pending[index] += 1
                if pending[index] == len(STEPS):
                    del pending[index]


def describe_all(url: str, token: str, project: str, records: list[Expected]) -> dict[str, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = {"project": project, "fields": {"name": True, "tags": True, "properties": True, "folder": True,
                                           "state": True}}

    def describe(chunk: list[Expected]) -> list[tuple[str, dict]]:
        with requests.Session() as session:
            out = []
            for record in chunk:
                answer = session.post(f"{url}/{record.id}/describe", data=json.dumps(body), headers=headers,
                                      timeout=60)
                assert answer.status_code == 200, (record, answer.text[:300])
                out.append((record.id, answer.json()))
            return out

    with ThreadPoolExecutor(4) as pool:
        return dict(pair for part in pool.map(describe, [records[i::4] for i in range(4)]) for pair in part)


def test_sixteen_clients_lose_no_write(refserver, client):
    project = client.new_project("load")
    start = threading.Barrier(CLIENTS)
    clients = [LoadClient(refserver.url, refserver.token("alice"), project, n, start) for n in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(c.run) for c in clients]:
            future.result()  # re-raises a failed write of any client

    assert sum(c.writes for c in clients) == CLIENTS * WRITES_PER_CLIENT
    expected = [record for c in clients for record in c.records]
    assert len({r.id for r in expected}) == CLIENTS * RECORDS_PER_CLIENT
    described = describe_all(refserver.url, refserver.token("alice"), project, expected)
    for record in expected:
        got = described[record.id]
        want = {"id": record.id, "name": record.name, "tags": record.tags, "properties": record.properties,
                "folder": record.folder, "state": "closed"}
        assert {k: got.get(k) for k in want} == want

    # The search index agrees: every record is findable by its client's tag, and nothing else is there.
    found = []
    query = {"class": "record", "scope": {"project": project}, "tags": {"$and": ["load"]}, "limit": 1000}
    while True:
        page = client.ok("/system/findDataObjects", query)
        found += [r["id"] for r in page["results"]]
        if page["next"] is None:
            break
        query["starting"] = page["next"]
    assert sorted(found) == sorted(r.id for r in expected)
    listed = client.ok(f"/{project}/listFolder", {"folder": "/"})
    assert listed["folders"] == sorted(f"/client-{n}" for n in range(CLIENTS))
