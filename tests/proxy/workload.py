"""A dxpy workload for the proxy tests: upload and download, records, folders, and a search over several pages."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

RECORDS = 45
FIRST_PAGE = 10          # dxpy doubles the page size: 10, 20, 40 -> at least three pages for 45 records


@dataclass
class Done:
    project: str
    file_id: str
    records: list[str]
    found: list[str]
    text: str


def run_workload(dx: ModuleType) -> Done:
    """What a pipeline does, through dxpy's public API; asserts that each step worked."""
    project = dx.api.project_new({"name": "proxy-workload"})["id"]
    dx.set_workspace_id(project)
    dx.set_project_context(project)
    handle = dx.DXProject(project)
    handle.new_folder("/data/raw", parents=True)
    uploaded = dx.upload_string("hello through the proxy\n", project=project, folder="/data/raw", name="hello.txt",
                                media_type="text/plain", wait_on_close=True)
    text = dx.DXFile(uploaded.get_id(), project=project).read()
    assert text == "hello through the proxy\n"
    records = [dx.new_dxrecord(project=project, folder="/data", name=f"rec-{i:02d}", tags=["workload"],
                               details={"i": i}, properties={"parity": str(i % 2)}, close=True).get_id()
               for i in range(RECORDS)]
    record = dx.DXRecord(records[0], project=project)
    assert record.get_details() == {"i": 0}
    assert record.describe()["state"] == "closed"
    listing = handle.list_folder("/data")
    assert "/data/raw" in listing["folders"]
    found = [r["id"] for r in dx.find_data_objects(classname="record", project=project, tags=["workload"],
                                                   first_page_size=FIRST_PAGE)]
    assert sorted(found) == sorted(records)
    described = list(dx.find_data_objects(classname="file", project=project, describe=True))
    assert [d["describe"]["name"] for d in described] == ["hello.txt"]
    handle.move(destination="/data/raw", objects=records[:3])
    return Done(project, uploaded.get_id(), records, found, text)
