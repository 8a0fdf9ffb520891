"""Cloning objects and folders from one container into another (docs "Cloning", digest 5.2).

Rules kept: VIEW on the source, which must not be RESTRICTED, and UPLOAD on the destination; every object
cloned must be closed (InvalidState); a cloned object keeps its ID and the destination copy starts with the
source copy's name, tags and properties; an object already in the destination is not copied but reported in
`exists`; a listed folder is recreated under the destination with its basename ('/' copies its contents
straight into the destination); an item listed explicitly that also lies inside a listed folder goes
directly into the destination; hidden objects inside cloned folders are cloned only when a cloned object
links to them (they keep their relative place), and hidden objects linked from cloned objects are followed
recursively when `includeHiddenLinks` is true.
"""

from __future__ import annotations

from . import access, containers, objects
from .context import Context
from .db import loads
from .errors import InvalidState, PermissionDenied
from .folder_paths import rebase, subtree


def _owner_folder(path: str, listed: list[str]) -> str | None:
    """The most specific listed folder that contains `path` (a listed folder inside another owns itself)."""
    best = None
    for f in listed:
        if (f == "/" or path == f or path.startswith(f + "/")) and (best is None or len(f) > len(best)):
            best = f
    return best


def _target_of(folder: str, destination: str) -> str:
    return destination if folder == "/" else destination.rstrip("/") + "/" + folder.rsplit("/", 1)[1]


def _plan_folders(ctx: Context, source: str, destination: str, listed: list[str]) -> dict[str, str]:
    """source folder path -> destination folder path, for every folder the listed folders bring along."""
    mapping: dict[str, str] = {}
    for f in listed:
        for path in subtree(ctx, source, f):
            if _owner_folder(path, listed) == f:
                mapping[path] = rebase(path, f, _target_of(f, destination))
    return mapping


def _plan_objects(ctx: Context, source: str, destination: str, object_ids: list[str],
                  folder_map: dict[str, str], include_hidden_links: bool) -> dict[str, str]:
    """object ID -> destination folder, in a stable order (explicit objects first)."""
    plan: dict[str, str] = {oid: destination for oid in object_ids}
    rows = ctx.conn.execute(
        "SELECT c.object_id, c.folder, o.hidden FROM copies c JOIN objects o ON o.id = c.object_id "
        "WHERE c.container_id = ? ORDER BY c.seq", (source,)).fetchall()
    where = {r["object_id"]: (r["folder"], bool(r["hidden"])) for r in rows}
    for oid, (folder, hidden) in where.items():
        if folder in folder_map and not hidden:
            plan.setdefault(oid, folder_map[folder])
    if include_hidden_links:
        todo = list(plan)
        while todo:
            links = loads(ctx.conn.execute("SELECT links FROM objects WHERE id = ?", (todo.pop(),))
                          .fetchone()["links"]) or []
            for target in links:
                if target in plan or target not in where or not where[target][1]:
                    continue
                plan[target] = folder_map.get(where[target][0], destination)
                todo.append(target)
    return plan


def clone(ctx: Context, source: str, target: str, destination: str, object_ids: list[str],
          folders: list[str], *, parents: bool, include_hidden_links: bool) -> list[str]:
    """Clone into `target`:`destination`; returns the IDs that already were in `target` (not copied)."""
    src = access.container(ctx, source, "VIEW")
    if loads(src["flags"]).get("restricted"):
        raise PermissionDenied(f"{source} is RESTRICTED: data cannot be cloned out of it")
    access.container(ctx, target, "UPLOAD")
    for f in folders:
        if not containers.folder_exists(ctx, source, f):
            raise containers.folder_not_found(source)
    for oid in object_ids:
        objects.find_copy(ctx, oid, source)
    if not containers.folder_exists(ctx, target, destination):
        if not parents:
            raise containers.folder_not_found(target)
    folder_map = _plan_folders(ctx, source, destination, folders)
    plan = _plan_objects(ctx, source, destination, object_ids, folder_map, include_hidden_links)
    for oid in plan:
        state = ctx.conn.execute("SELECT state FROM objects WHERE id = ?", (oid,)).fetchone()["state"]
        if state != "closed":
            raise InvalidState(f"{oid} is not in the closed state; only closed objects can be cloned")
    containers.ensure_folder(ctx, target, destination, True)
    for path in sorted(set(folder_map.values()) | set(plan.values())):
        containers.ensure_folder(ctx, target, path, True)
    exists = []
    for oid, folder in plan.items():
        if ctx.conn.execute("SELECT 1 FROM copies WHERE object_id = ? AND container_id = ?",
                            (oid, target)).fetchone():
            exists.append(oid)
            continue
        row = objects.find_copy(ctx, oid, source)
        objects.add_copy(ctx, oid, target, folder, row["name"], loads(row["tags"]), loads(row["properties"]))
    containers.touch(ctx, target)
    return exists
