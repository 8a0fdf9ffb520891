"""dxpy's find_data_objects, with its own paging, over more than 2,500 objects on the reference server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from .conftest import BulkWriter

pytestmark = [pytest.mark.e2e]

# dxpy pages 100, 200, 400, 800, 1000, 1000...: over 2,500 objects needs at least six pages.
COUNT = 2600


@dataclass
class Population:
    project: str
    ids: list[str]            # bulk-0000 .. bulk-2599, tagged "bulk", closed
    decoys: set[str]          # same project, not tagged "bulk"


@pytest.fixture(scope="module")
def population(refserver) -> Population:
    answer = requests.post(refserver.url + "/project/new", json={"name": "paging"},
                           headers={"Authorization": f"Bearer {refserver.token('alice')}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    project = answer.json()["id"]
    writer = BulkWriter(refserver.url, refserver.token("alice"))
    ids = writer.records([
        {"project": project, "name": f"bulk-{i:04d}", "tags": ["bulk"], "close": True,
         "properties": {"parity": "odd" if i % 2 else "even"}, "folder": f"/f{i % 3}", "parents": True}
        for i in range(COUNT)
    ])
    decoys = writer.records([{"project": project, "name": f"bulk-decoy-{i}", "tags": ["other"]} for i in range(5)])
    return Population(project, ids, set(decoys))


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_dxpy_pages_through_every_tagged_object(dx, population):
    found = list(dx.find_data_objects(classname="record", project=population.project, tags=["bulk"]))
    ids = [r["id"] for r in found]
    assert len(ids) == COUNT and len(set(ids)) == COUNT  # nothing skipped, nothing repeated
    assert set(ids) == set(population.ids)
    assert all(r == {"project": population.project, "id": r["id"]} for r in found)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_filters_combine_across_pages(dx, population):
    odd = {r["id"] for r in dx.find_data_objects(classname="record", project=population.project,
                                                 properties={"parity": "odd"}, state="closed")}
    assert odd == set(population.ids[1::2])
    in_f1 = {r["id"] for r in dx.find_data_objects(project=population.project, folder="/f1", recurse=False,
                                                   tags=["bulk"])}
    assert in_f1 == set(population.ids[1::3])
    glob = {r["id"] for r in dx.find_data_objects(project=population.project, name="bulk-00*",
                                                  name_mode="glob")}
    assert glob == set(population.ids[:100])
    regexp = {r["id"] for r in dx.find_data_objects(project=population.project, name="^bulk-decoy-[0-9]$",
                                                    name_mode="regexp")}
    assert regexp == population.decoys
    open_ones = {r["id"] for r in dx.find_data_objects(project=population.project, state="open")}
    assert open_ones == population.decoys


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_server_honours_limit_and_starting(dx, population):
    query = {"class": "record", "scope": {"project": population.project}, "tags": {"$and": ["bulk"]},
             "limit": 250}
    seen: list[str] = []
    sizes: list[int] = []
    while True:
        answer = dx.api.system_find_data_objects(dict(query))
        sizes.append(len(answer["results"]))
        seen.extend(r["id"] for r in answer["results"])
        if answer["next"] is None:
            break
        assert isinstance(answer["next"], dict)
        query["starting"], query["limit"] = answer["next"], 1000
    assert sizes == [250, 1000, 1000, COUNT - 2250]
    assert sorted(seen) == sorted(population.ids)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_describe_and_limit_through_dxpy(dx, population):
    found = list(dx.find_data_objects(project=population.project, name="bulk-0042", describe=True))
    assert len(found) == 1
    desc = found[0]["describe"]
    assert (desc["id"], desc["name"], desc["folder"], desc["state"]) == (population.ids[42], "bulk-0042", "/f0",
                                                                          "closed")
    assert len(list(dx.find_data_objects(project=population.project, tags=["bulk"], limit=7))) == 7
