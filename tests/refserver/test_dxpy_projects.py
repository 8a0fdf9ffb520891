"""dxpy, unmodified, drives DXProject on the reference server: folders, move, clone, remove."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def listing(dx, project: str, folder: str = "/") -> tuple[list[str], set[str]]:
    """(sorted-as-returned subfolders, object IDs) of a folder, via dxpy."""
    answer = dx.DXProject(project).list_folder(folder)
    return answer["folders"], {entry["id"] for entry in answer["objects"]}


def test_new_project_through_dxpy(dx, dx_project):
    created = dx.DXProject()
    created.new(name="made by dxpy", summary="s", tags=["x"])
    desc = created.describe()
    assert (desc["id"], desc["class"], desc["name"], desc["summary"]) == (created.get_id(), "project",
                                                                         "made by dxpy", "s")
    assert desc["level"] == "ADMINISTER"
    assert created.list_folder() == {"folders": [], "objects": []}


def test_folders_nest_normalise_and_sort(dx, dx_project):
    project = dx.DXProject(dx_project)
    project.new_folder("/a/b/c/d", parents=True)
    project.new_folder("/a//d/", parents=True)
    record = dx.new_dxrecord(folder="/")
    assert project.list_folder("/") == {"folders": ["/a"], "objects": [{"id": record.get_id()}]}
    assert listing(dx, dx_project, "/a") == (["/a/b", "/a/d"], set())
    assert listing(dx, dx_project, "/a/b/c/d") == ([], set())
    with pytest.raises(dx.exceptions.ResourceNotFound):
        project.list_folder("/no/such/folder")
    with pytest.raises(dx.exceptions.ResourceNotFound):
        project.new_folder("/x/y")  # parent missing, parents=False


def test_move_objects_and_folders(dx, dx_project):
    project = dx.DXProject(dx_project)
    project.new_folder("/a/b/c/d", parents=True)
    inside = dx.new_dxrecord(folder="/a/b/c/d", close=True)
    loose = dx.new_dxrecord(folder="/", close=True)
    project.move(destination="/a", objects=[loose.get_id()], folders=["/a/b/c/d"])
    assert listing(dx, dx_project, "/a") == (["/a/b", "/a/d"], {loose.get_id()})
    assert listing(dx, dx_project, "/a/d") == ([], {inside.get_id()})
    assert listing(dx, dx_project, "/a/b/c") == ([], set())
    assert inside.describe()["folder"] == "/a/d"
    loose.move("/a/b")  # DXDataObject.move is project move of one object
    assert loose.describe()["folder"] == "/a/b"


def test_clone_keeps_ids_and_per_project_metadata(dx, dx_project, client):
    target = client.new_project("clone target")
    project = dx.DXProject(dx_project)
    project.new_folder("/a/b/c/d", parents=True)
    in_folder = dx.new_dxrecord(folder="/a/b/c/d", name="in-folder", tags=["t"], properties={"p": "1"},
                                close=True)
    single = dx.new_dxrecord(name="single", close=True)
    answer = project.clone(target, destination="/", objects=[single.get_id()], folders=["/a/b/c/d"])
    assert answer["exists"] == []
    assert listing(dx, target, "/") == (["/d"], {single.get_id()})
    assert listing(dx, target, "/d") == ([], {in_folder.get_id()})
    copy = dx.DXRecord(in_folder.get_id(), project=target).describe(incl_properties=True)
    assert (copy["project"], copy["name"], copy["tags"], copy["properties"]) == (target, "in-folder", ["t"],
                                                                                 {"p": "1"})
    assert copy["created"] == in_folder.describe()["created"]
    # Metadata is per project copy: renaming the clone leaves the source alone.
    dx.DXRecord(single.get_id(), project=target).rename("renamed in target")
    assert single.describe()["name"] == "single"
    again = project.clone(target, objects=[single.get_id()])
    assert again["exists"] == [single.get_id()]


def test_clone_of_an_open_object_fails(dx, dx_project, client):
    target = client.new_project("clone target")
    record = dx.new_dxrecord()
    with pytest.raises(dx.exceptions.DXAPIError):
        dx.DXProject(dx_project).clone(target, objects=[record.get_id()])


def test_remove_objects(dx, dx_project):
    project = dx.DXProject(dx_project)
    keep, gone = dx.new_dxrecord(name="keep"), dx.new_dxrecord(name="gone")
    project.remove_objects([gone.get_id()])
    assert listing(dx, dx_project) == ([], {keep.get_id()})
    with pytest.raises(dx.exceptions.ResourceNotFound):
        dx.DXRecord(gone.get_id(), project=dx_project).describe()
    project.remove_objects([gone.get_id()], force=True)  # force: a missing object is not an error


def test_remove_folder(dx, dx_project):
    project = dx.DXProject(dx_project)
    project.new_folder("/full/sub", parents=True)
    dx.new_dxrecord(folder="/full/sub")
    with pytest.raises(dx.exceptions.InvalidState):
        project.remove_folder("/full")  # not empty, no recurse
    project.remove_folder("/a//b////c/", force=True)  # missing but forced; dxpy sends partial=true
    project.remove_folder("/full", recurse=True)
    assert project.list_folder("/") == {"folders": [], "objects": []}
    project.new_folder("/empty")
    project.remove_folder("/empty")
    assert listing(dx, dx_project) == ([], set())


def test_describe_folders_for_dx_download(dx, dx_project):
    """`dx download -r` describes the project with the old-style {"folders": true} and reads `folders`."""
    dx.DXProject(dx_project).new_folder("/x/y", parents=True)
    folders = dx.api.project_describe(dx_project, {"folders": True})["folders"]
    assert set(folders) == {"/", "/x", "/x/y"}
