"""findDataObjects and findProjects paging: `limit`, `starting` and `next` never skip or repeat a result,
also when objects are created or removed between pages."""

from __future__ import annotations

import uuid

FIND = "/system/findDataObjects"


def make_records(bulk, project: str, count: int, **fields) -> list[str]:
    return bulk.records([{"project": project, "name": f"r{i}", **fields} for i in range(count)])


def page(client, body: dict, limit: int, starting=None) -> tuple[list[str], dict | None]:
    query = {**body, "limit": limit}
    if starting is not None:
        query["starting"] = starting
    answer = client.ok(FIND, query)
    assert len(answer["results"]) <= limit
    assert answer["next"] is None or isinstance(answer["next"], dict), answer["next"]
    return [r["id"] for r in answer["results"]], answer["next"]


def test_pages_cover_everything_once(client, project, bulk):
    ids = make_records(bulk, project, 23)
    seen: list[str] = []
    ids_page, nxt = page(client, {"scope": {"project": project}}, 5)
    seen += ids_page
    pages = 1
    while nxt is not None:
        ids_page, nxt = page(client, {"scope": {"project": project}}, 5, nxt)
        seen += ids_page
        pages += 1
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == set(ids)


def test_last_full_page_has_null_next(client, project, bulk):
    make_records(bulk, project, 4)
    ids, nxt = page(client, {"scope": {"project": project}}, 4)
    assert len(ids) == 4 and nxt is None
    ids, nxt = page(client, {"scope": {"project": project}}, 3)
    assert len(ids) == 3 and nxt is not None
    rest, nxt = page(client, {"scope": {"project": project}}, 3, nxt)
    assert len(rest) == 1 and nxt is None and rest[0] not in ids


def test_next_is_the_start_of_the_following_page(client, project, bulk):
    make_records(bulk, project, 6)
    _, nxt = page(client, {"scope": {"project": project}}, 2)
    assert set(nxt) == {"project", "id"} and nxt["project"] == project
    following, _ = page(client, {"scope": {"project": project}}, 2, nxt)
    assert following[0] == nxt["id"]


def test_objects_created_between_pages_cause_no_skip_or_repeat(client, project, bulk):
    original = make_records(bulk, project, 12)
    seen, nxt = page(client, {"scope": {"project": project}}, 4)
    added: list[str] = []
    while nxt is not None:
        added += make_records(bulk, project, 3)
        ids_page, nxt = page(client, {"scope": {"project": project}}, 4, nxt)
        seen += ids_page
        if len(added) > 30:  # new objects may land after the cursor; the walk still ends
            break
    assert len(seen) == len(set(seen))
    assert set(original) <= set(seen)
    assert set(seen) <= set(original) | set(added)


def test_objects_removed_between_pages_cause_no_skip_or_repeat(client, project, bulk):
    original = make_records(bulk, project, 12)
    seen, nxt = page(client, {"scope": {"project": project}}, 4)
    # Remove the object `next` points at and one already returned.
    removed = [nxt["id"], seen[0]]
    client.ok(f"/{project}/removeObjects", {"objects": removed})
    while nxt is not None:
        ids_page, nxt = page(client, {"scope": {"project": project}}, 4, nxt)
        seen += ids_page
    assert len(seen) == len(set(seen))
    assert set(seen) == set(original) - {removed[0]}


def test_paging_across_projects_keeps_projects_grouped(client, bulk):
    name = f"multi-{uuid.uuid4().hex}"
    projects = [client.new_project(f"paging-{i}") for i in range(3)]
    expected = set()
    for p in projects:
        expected |= {(p, rid) for rid in bulk.records([{"project": p, "name": name} for _ in range(5)])}
    pairs: list[tuple[str, str]] = []
    starting = None
    while True:
        body = {"name": name, "limit": 4, **({"starting": starting} if starting else {})}
        answer = client.ok(FIND, body)
        pairs += [(r["project"], r["id"]) for r in answer["results"]]
        starting = answer["next"]
        if starting is None:
            break
    assert len(pairs) == len(set(pairs)) == 15 and set(pairs) == expected
    order = [p for p, _ in pairs]
    assert order == sorted(order)  # each project's results are contiguous


def test_find_projects_pages(client):
    marker = f"paged-{uuid.uuid4().hex}"
    made = {client.ok("/project/new", {"name": marker})["id"] for _ in range(7)}
    seen: list[str] = []
    starting = None
    while True:
        body = {"name": marker, "limit": 3, **({"starting": starting} if starting else {})}
        answer = client.ok("/system/findProjects", body)
        assert len(answer["results"]) <= 3
        seen += [r["id"] for r in answer["results"]]
        starting = answer["next"]
        if starting is None:
            break
        assert isinstance(starting, dict)
    assert len(seen) == len(set(seen)) == 7 and set(seen) == made
