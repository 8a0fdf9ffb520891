"""/system/findDataObjects over HTTP: every filter, results shape, access, and each documented error path."""

from __future__ import annotations

import time
import uuid

import pytest

FIND = "/system/findDataObjects"


def new_record(client, project: str, **fields) -> str:
    return client.ok("/record/new", {"project": project, **fields})["id"]


def found(client, body: dict, user: str = "alice") -> list[str]:
    """IDs of every result of one findDataObjects call (which must fit in one page)."""
    answer = client.ok(FIND, body, user)
    assert answer["next"] is None, answer
    return [r["id"] for r in answer["results"]]


def in_project(project: str, **filters) -> dict:
    return {"scope": {"project": project}, **filters}


def test_results_are_exactly_project_and_id(client, project):
    rec = new_record(client, project)
    answer = client.ok(FIND, in_project(project))
    assert answer == {"results": [{"project": project, "id": rec}], "next": None}


def test_empty_project_finds_nothing(client, project):
    assert client.ok(FIND, in_project(project)) == {"results": [], "next": None}


def test_class_and_state(client, project):
    open_rec = new_record(client, project)
    closed_rec = new_record(client, project, close=True)
    assert set(found(client, in_project(project, **{"class": "record"}))) == {open_rec, closed_rec}
    assert found(client, in_project(project, **{"class": "file"})) == []
    assert found(client, in_project(project, state="open")) == [open_rec]
    assert found(client, in_project(project, state="closed")) == [closed_rec]
    assert set(found(client, in_project(project, state="any"))) == {open_rec, closed_rec}
    client.ok(f"/{open_rec}/close", {})
    assert set(found(client, in_project(project, state="closed"))) == {open_rec, closed_rec}


def test_visibility_defaults_to_visible(client, project):
    shown = new_record(client, project)
    hidden = new_record(client, project, hidden=True)
    assert found(client, in_project(project)) == [shown]
    assert found(client, in_project(project, visibility="visible")) == [shown]
    assert found(client, in_project(project, visibility="hidden")) == [hidden]
    assert set(found(client, in_project(project, visibility="either"))) == {shown, hidden}


def test_name_exact_glob_regexp(client, project):
    bar = new_record(client, project, name="bar")
    baz = new_record(client, project, name="baz")
    new_record(client, project, name="foo")
    star = new_record(client, project, name="b*r")
    assert found(client, in_project(project, name="bar")) == [bar]
    assert found(client, in_project(project, name="ba*")) == []
    assert set(found(client, in_project(project, name={"glob": "ba*"}))) == {bar, baz}
    assert set(found(client, in_project(project, name={"glob": "b?r"}))) == {bar, star}
    assert found(client, in_project(project, name={"glob": "b\\*r"})) == [star]
    assert found(client, in_project(project, name="ba.*")) == []
    assert set(found(client, in_project(project, name={"regexp": "ba.*"}))) == {bar, baz}
    assert found(client, in_project(project, name={"regexp": "^BAR$"})) == []
    assert found(client, in_project(project, name={"regexp": "^BAR$", "flags": "i"})) == [bar]


def test_id_filter(client, project):
    a, b, _ = (new_record(client, project) for _ in range(3))
    assert set(found(client, in_project(project, id=[a, b]))) == {a, b}
    assert found(client, in_project(project, id=[])) == []


def test_tags_string_and_compounds(client, project):
    ab = new_record(client, project, tags=["a", "b"])
    a = new_record(client, project, tags=["a"])
    c = new_record(client, project, tags=["c"])
    assert set(found(client, in_project(project, tags="a"))) == {ab, a}
    assert found(client, in_project(project, tags={"$and": ["a", "b"]})) == [ab]
    assert set(found(client, in_project(project, tags={"$or": ["b", "c"]}))) == {ab, c}
    assert found(client, in_project(project, tag="c")) == [c]  # the deprecated single-tag form


def test_type_string_and_compounds(client, project):
    xy = new_record(client, project, types=["X", "Y"])
    x = new_record(client, project, types=["X"])
    new_record(client, project)
    assert set(found(client, in_project(project, type="X"))) == {xy, x}
    assert found(client, in_project(project, type={"$and": ["X", "Y"]})) == [xy]
    assert set(found(client, in_project(project, type={"$or": ["Y", "Z"]}))) == {xy}


def test_properties_value_and_presence(client, project):
    red = new_record(client, project, properties={"colour": "red", "size": "1"})
    blue = new_record(client, project, properties={"colour": "blue"})
    new_record(client, project)
    assert found(client, in_project(project, properties={"colour": "red"})) == [red]
    assert set(found(client, in_project(project, properties={"colour": True}))) == {red, blue}
    assert found(client, in_project(project, properties={"colour": True, "size": True})) == [red]
    assert found(client, in_project(project, properties={"colour": "green"})) == []


def test_link(client, project):
    target = new_record(client, project)
    linker = new_record(client, project, details={"a": {"$dnanexus_link": target}})
    new_record(client, project)
    assert found(client, in_project(project, link=target)) == [linker]


def test_scope_folder_and_recurse(client, project):
    root = new_record(client, project)
    a = new_record(client, project, folder="/a", parents=True)
    ab = new_record(client, project, folder="/a/b", parents=True)
    new_record(client, project, folder="/ab", parents=True)  # a sibling whose name starts like /a
    scope = {"project": project, "folder": "/a"}
    assert set(found(client, {"scope": scope})) == {a, ab}
    assert found(client, {"scope": {**scope, "recurse": False}}) == [a]
    assert found(client, {"scope": {"project": project, "folder": "/a//b/"}}) == [ab]
    assert found(client, {"scope": {"project": project, "folder": "/", "recurse": False}}) == [root]
    assert len(found(client, {"scope": {"project": project}})) == 4


def test_created_and_modified_ranges(client, project):
    rec = new_record(client, project)
    desc = client.ok(f"/{rec}/describe", {})
    created, modified = desc["created"], desc["modified"]
    for key, t in (("created", created), ("modified", modified)):
        assert found(client, in_project(project, **{key: {"after": t - 1000, "before": t + 1000}})) == [rec]
        assert found(client, in_project(project, **{key: {"after": t, "before": t}})) == [rec]  # inclusive
        assert found(client, in_project(project, **{key: {"before": t - 1000}})) == []
        assert found(client, in_project(project, **{key: {"after": t + 1000}})) == []


def test_modified_follows_metadata_changes(client, project):
    rec = new_record(client, project, close=True)
    before = client.ok(f"/{rec}/describe", {})["modified"]
    time.sleep(0.01)
    client.ok(f"/{rec}/rename", {"project": project, "name": "renamed"})
    after = client.ok(f"/{rec}/describe", {})["modified"]
    assert after > before
    assert found(client, in_project(project, modified={"after": before + 1})) == [rec]


def test_region_and_archival_state(client, project):
    rec = new_record(client, project)
    region = client.ok(f"/{project}/describe", {})["region"]
    assert found(client, in_project(project, region=region)) == [rec]
    assert found(client, in_project(project, region=[region, "azure:westus"])) == [rec]
    assert found(client, in_project(project, region="azure:westus")) == []
    # Records have no archival state; nothing is archived on this server.
    assert found(client, in_project(project, archivalState="any")) == [rec]
    assert found(client, in_project(project, archivalState="archived")) == []


def test_describe_true_and_mapping(client, project):
    rec = new_record(client, project, name="described", tags=["t"])
    [result] = client.ok(FIND, in_project(project, describe=True))["results"]
    assert set(result) == {"project", "id", "describe"}
    d = result["describe"]
    assert (d["id"], d["project"], d["name"], d["tags"], d["class"]) == (rec, project, "described", ["t"], "record")
    assert "properties" not in d
    [result] = client.ok(FIND, in_project(project, describe={"fields": {"name": True}}))["results"]
    assert result["describe"] == {"id": rec, "name": "described"}
    [result] = client.ok(FIND, in_project(project, describe=False))["results"]
    assert result == {"project": project, "id": rec}


def test_default_search_covers_every_project_of_the_caller(client):
    name = f"everywhere-{uuid.uuid4().hex}"
    p1, p2 = client.new_project("one"), client.new_project("two")
    r1, r2 = new_record(client, p1, name=name), new_record(client, p2, name=name)
    answer = client.ok(FIND, {"name": name})
    assert sorted((r["project"], r["id"]) for r in answer["results"]) == sorted([(p1, r1), (p2, r2)])
    # Results of one project come grouped together.
    projects = [r["project"] for r in answer["results"]]
    assert projects == sorted(projects)


def test_a_cloned_object_is_found_once_per_project(client, project):
    name = f"cloned-{uuid.uuid4().hex}"
    other = client.new_project("clone-target")
    rec = new_record(client, project, name=name, close=True)
    client.ok(f"/{project}/clone", {"objects": [rec], "project": other})
    answer = client.ok(FIND, {"name": name})
    assert sorted((r["project"], r["id"]) for r in answer["results"]) == sorted([(project, rec), (other, rec)])


# -- access ------------------------------------------------------------------------------------------------
def test_bob_sees_nothing_of_alice_until_invited(client, project):
    name = f"shared-{uuid.uuid4().hex}"
    rec = new_record(client, project, name=name)
    assert found(client, {"name": name}, user="bob") == []
    client.expect_error(FIND, in_project(project), "ResourceNotFound", 404, user="bob")
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "VIEW"})
    assert found(client, {"name": name}, user="bob") == [rec]
    assert found(client, in_project(project), user="bob") == [rec]
    # `level` is the minimum permission on the container: bob has VIEW only.
    assert found(client, {"name": name, "level": "VIEW"}, user="bob") == [rec]
    assert found(client, {"name": name, "level": "UPLOAD"}, user="bob") == []
    assert found(client, {"name": name, "level": "ADMINISTER"}) == [rec]


def test_level_filter_for_the_owner(client, project):
    rec = new_record(client, project)
    for level in ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER"):
        assert found(client, in_project(project, level=level)) == [rec]


def test_unknown_input_keys_are_ignored(client, project):
    rec = new_record(client, project)
    assert found(client, in_project(project, noSuchKey={"x": 1}, sortBy={"field": "created"})) == [rec]


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"class": "job"},
        {"class": 5},
        {"state": "gone"},
        {"visibility": "sometimes"},
        {"name": 5},
        {"name": {"glob": 5}},
        {"name": {"regexp": "("}},
        {"name": {"regexp": "a", "flags": "z"}},
        {"name": {"like": "a"}},
        {"id": "record-B0000000000000000000000Q"},
        {"id": [5]},
        {"tags": 5},
        {"tags": {"$xor": ["a"]}},
        {"type": [""]},
        {"properties": ["a"]},
        {"properties": {"k": 5}},
        {"link": 5},
        {"link": "not-an-id"},
        {"scope": "project-B0000000000000000000000Q"},
        {"scope": {"folder": "/"}},
        {"scope": {"project": "project-B0000000000000000000000Q", "folder": "relative"}},
        {"scope": {"project": "project-B0000000000000000000000Q", "recurse": "no"}},
        {"scope": {"project": "record-B0000000000000000000000Q"}},
        {"created": 5},
        {"modified": {"after": "yesterday"}},
        {"level": "OWNER"},
        {"region": 5},
        {"archivalState": "frozen"},
        {"describe": "yes"},
        {"describe": {"fields": "name"}},
        {"limit": 0},
        {"limit": -3},
        {"limit": 1.5},
        {"limit": "10"},
        {"starting": "next-page"},
        {"starting": {"project": 5, "id": "x"}},
    ],
)
def test_bad_input_is_invalid_input(client, body):
    client.expect_error(FIND, body, "InvalidInput", 422)


def test_input_not_a_hash(client):
    answer = client.call(FIND, ["not", "a", "hash"])
    assert (answer.status, answer.error_type) == (422, "InvalidInput")


def test_scope_of_missing_project_is_resource_not_found(client):
    client.expect_error(FIND, {"scope": {"project": "project-B0000000000000000000000Q"}}, "ResourceNotFound", 404)


def test_needs_authentication(client):
    answer = client.call(FIND, {}, user=None)
    assert (answer.status, answer.error_type) == (401, "InvalidAuthentication")
    assert isinstance(answer.json["error"]["message"], str)


def test_limit_above_the_maximum_is_clamped(client, project):
    rec = new_record(client, project)
    assert client.ok(FIND, in_project(project, limit=10**6)) == {"results": [{"project": project, "id": rec}],
                                                                   "next": None}
