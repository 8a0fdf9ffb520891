"""A run against a server with data in it: everything that was there stays intact, nothing of the run stays behind."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import requests

from conformance.refserver.context import Settings
from conformance.refserver.server import RefServer
from tests.conftest import Client

from .runs import Run, dxconform_run

RUN_PREFIX = re.compile(r"dxc-[0-9a-f]{8}")
# A name that looks like a run prefix but belongs to the user: a run must not take it for its own.
DECOY = "dxc-0000000f"


def upload_closed_file(client: Client, project: str, name: str, folder: str, data: bytes) -> str:
    file_id = client.ok("/file/new", {"project": project, "name": name, "folder": folder, "parents": True,
                                      "tags": ["keep"]})["id"]
    up = client.ok(f"/{file_id}/upload", {"index": 1, "size": len(data), "md5": hashlib.md5(data).hexdigest()})
    put = requests.put(up["url"], data=data, headers=up.get("headers") or {}, timeout=10)
    assert put.status_code == 200, put.text
    client.ok(f"/{file_id}/close")
    deadline = time.monotonic() + 10
    while client.ok(f"/{file_id}/describe", {"fields": {"state": True}})["state"] != "closed":
        assert time.monotonic() < deadline, "the pre-existing file never closed"
        time.sleep(0.05)
    return file_id


def seed(client: Client) -> dict[str, str]:
    """Alice's work project (handed to the run), another project of hers, and one of bob's, all with data."""
    work = client.ok("/project/new", {"name": "users-work", "summary": "mine", "tags": ["t"],
                                      "properties": {"owner": "alice"}})["id"]
    other = client.ok("/project/new", {"name": f"{DECOY}-alice-not-the-run"})["id"]
    bobs = client.ok("/project/new", {"name": "bobs-own"}, user="bob")["id"]
    client.ok(f"/{work}/invite", {"invitee": "user-bob", "level": "VIEW"})
    client.ok(f"/{work}/newFolder", {"folder": "/keep/inner", "parents": True})
    client.ok(f"/{work}/newFolder", {"folder": f"/{DECOY}-folder"})
    target = client.ok("/record/new", {"project": work, "name": "target", "folder": "/keep"})["id"]
    client.ok("/record/new", {"project": work, "name": "linked", "folder": "/keep/inner", "types": ["T"],
                              "details": {"to": {"$dnanexus_link": target}}, "properties": {"k": "v"},
                              "tags": ["a", "b"], "close": True})
    client.ok("/record/new", {"project": work, "name": f"{DECOY}-record", "hidden": True})
    upload_closed_file(client, work, "data.txt", "/keep", b"pre-existing bytes\n")
    client.ok("/record/new", {"project": other, "name": "elsewhere"})
    client.ok("/record/new", {"project": bobs, "name": "bobs-record"}, user="bob")
    return {"work": work, "other": other, "bobs": bobs}


def folders_under(client: Client, project: str, user: str) -> list[str]:
    todo, seen = ["/"], []
    while todo:
        folder = todo.pop()
        seen.append(folder)
        todo += client.ok(f"/{project}/listFolder", {"folder": folder, "only": "folders"}, user)["folders"]
    return sorted(seen)


def project_state(client: Client, project: str, user: str) -> dict[str, Any]:
    """What a user sees of a project: its own metadata, its members, its folders, every object in full."""
    described = client.ok(f"/{project}/describe", {"fields": {
        "name": True, "summary": True, "description": True, "tags": True, "properties": True,
        "permissions": True}}, user)
    objects = client.ok("/system/findDataObjects", {"scope": {"project": project}, "visibility": "either",
                                                    "describe": {"fields": {
                                                        "name": True, "folder": True, "tags": True,
                                                        "types": True, "properties": True, "details": True,
                                                        "state": True, "hidden": True, "links": True,
                                                        "created": True, "modified": True}}}, user)
    return {"project": described, "folders": folders_under(client, project, user),
            "objects": sorted((o["id"], json.dumps(o["describe"], sort_keys=True)) for o in objects["results"])}


def snapshot(client: Client, projects: dict[str, str]) -> dict[str, Any]:
    return {key: project_state(client, pid, "bob" if key == "bobs" else "alice") for key, pid in projects.items()}


def the_run_prefix(run: Run) -> str:
    text = (run.out / "results.json").read_text() + run.stdout
    prefixes = set(RUN_PREFIX.findall(text)) - {DECOY}
    assert len(prefixes) == 1, f"expected one run prefix in the outputs, found {sorted(prefixes)}"
    return prefixes.pop()


def leftovers(client: Client, prefix: str, user: str) -> list[str]:
    """Every project, folder and data object the user can see whose name starts with the prefix."""
    found = []
    projects = client.ok("/system/findProjects", {"describe": {"fields": {"name": True}}}, user)["results"]
    for project in projects:
        if project["describe"]["name"].startswith(prefix):
            found.append(f"project {project['id']} {project['describe']['name']}")
        found += [f"folder {project['id']}:{f}" for f in folders_under(client, project["id"], user)
                  if any(part.startswith(prefix) for part in f.split("/"))]
    objects = client.ok("/system/findDataObjects", {"visibility": "either", "name": {"glob": f"{prefix}*"},
                                                    "describe": {"fields": {"name": True}}}, user)["results"]
    found += [f"object {o['id']} {o['describe']['name']}" for o in objects]
    return found


def test_a_run_leaves_pre_existing_data_intact_and_nothing_of_its_own(tmp_path):
    """One test for one run: under xdist, a module fixture would be built (and the suite run) per worker."""
    with RefServer(settings=Settings(closing_ms=100)) as server:
        client = Client(server.url, server.settings.users)
        projects = seed(client)
        before = snapshot(client, projects)
        # -n 2: two workers share the user's project, the harder case for hygiene (and half the time).
        run = dxconform_run(["--server", server.url, "--token", server.token("alice"),
                             "--token2", server.token("bob"), "--project", projects["work"], "-n", "2"],
                            tmp_path / "out")
        after = snapshot(client, projects)

        # the run did its work
        assert run.returncode in (0, 1), run.describe()
        assert run.results is not None, run.describe()
        assert len(run.by_outcome("passed")) >= 100, run.describe()

        # what was there before is intact: project metadata and members, folders, every object in full
        for key in before:
            assert after[key]["project"] == before[key]["project"], (key, run.describe())
            assert after[key]["folders"] == before[key]["folders"], (key, run.describe())
            assert after[key]["objects"] == before[key]["objects"], (key, run.describe())

        # nothing named with the run prefix is left anywhere alice or bob can see
        prefix = the_run_prefix(run)
        assert leftovers(client, prefix, "alice") == []
        assert leftovers(client, prefix, "bob") == []
