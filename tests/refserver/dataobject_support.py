"""Helpers for the data object tests: creating records and files, uploading parts, sharing a project."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import requests

MIB = 1024 * 1024


def new_record(client, project: str, user: str = "alice", **fields: Any) -> str:
    return client.ok("/record/new", {"project": project, **fields}, user)["id"]


def new_file(client, project: str, user: str = "alice", **fields: Any) -> str:
    return client.ok("/file/new", {"project": project, **fields}, user)["id"]


def share(client, project: str, level: str, user: str = "bob") -> None:
    """Give `user` the permission `level` on alice's `project`."""
    client.ok(f"/{project}/invite", {"invitee": f"user-{user}", "level": level})


def upload_part(client, file_id: str, data: bytes, index: int = 1, *, announce: bool = True,
                user: str = "alice") -> requests.Response:
    """/file-xxxx/upload then the unauthenticated PUT of `data` with the headers it returned."""
    body: dict[str, Any] = {"index": index}
    if announce:
        body.update(size=len(data), md5=hashlib.md5(data).hexdigest())
    target = client.ok(f"/{file_id}/upload", body, user)
    return requests.put(target["url"], data=data, headers=target["headers"], timeout=30)


def wait_closed(client, file_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = client.ok(f"/{file_id}/describe", {})
        if desc["state"] == "closed" or time.monotonic() > deadline:
            return desc
        time.sleep(0.05)


def closed_file(client, project: str, parts: list[bytes], **fields: Any) -> str:
    """A closed file made of `parts` (each a PUT), waited for until `closed`."""
    file_id = new_file(client, project, **fields)
    for index, data in enumerate(parts, start=1):
        assert upload_part(client, file_id, data, index).status_code == 200
    client.ok(f"/{file_id}/close", {})
    assert wait_closed(client, file_id)["state"] == "closed"
    return file_id
