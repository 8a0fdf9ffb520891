"""Folder routes of projects and containers: listFolder, newFolder, removeFolder, renameFolder, move,
removeObjects, clone.

Levels (docs "Folders and Deletion", "Cloning", "Project Permissions and Sharing"): listFolder VIEW;
newFolder UPLOAD (creating folders); move and renameFolder CONTRIBUTE (they change closed objects' folder,
which UPLOAD may not); removeFolder and removeObjects CONTRIBUTE, ADMINISTER in a protected project; clone
VIEW on the source (not RESTRICTED) and UPLOAD on the destination.
"""

from __future__ import annotations

from typing import Any

from .. import access, cloning, containers, objects
from ..context import Context
from ..errors import InvalidInput, InvalidState, ResourceNotFound
from ..folder_paths import move_tree, subfolders
from ..ids import DATA_OBJECT_CLASSES, id_class
from ..validate import check_folder_limits, field, normalize_folder
from . import route

ALL = ("/project-xxxx/{m}", "/container-xxxx/{m}")


def _routes(method: str) -> tuple[str, ...]:
    return tuple(r.format(m=method) for r in ALL)


def _folder(inp: dict, key: str = "folder", *, required: bool = True, default: str | None = None) -> str:
    value = inp.get(key, default)
    if value is None:
        if required:
            raise InvalidInput(f'expected input to have property "{key}"')
        return "/"
    return normalize_folder(value, key)  # within the folder limits


def _object_ids(inp: dict, key: str, *, required: bool) -> list[str]:
    value = field(inp, key, list, required=required, default=[])
    for item in value:
        if id_class(item) not in DATA_OBJECT_CLASSES:
            raise InvalidInput(f'expected key "{key}" of input to be an array of data object IDs')
    return list(dict.fromkeys(value))


def _folder_list(inp: dict, key: str) -> list[str]:
    value = field(inp, key, list, default=[])
    paths = []
    for item in value:
        if not isinstance(item, str):
            raise InvalidInput(f'expected key "{key}" of input to be an array of folder paths')
        paths.append(normalize_folder(item, key))
    return list(dict.fromkeys(paths))


def _require_folder(ctx: Context, container_id: str, path: str) -> None:
    if not containers.folder_exists(ctx, container_id, path):
        raise containers.folder_not_found(container_id)


def _require_objects(ctx: Context, container_id: str, object_ids: list[str]) -> None:
    for oid in object_ids:
        objects.find_copy(ctx, oid, container_id)


@route(*_routes("listFolder"))
def list_folder(ctx: Context, inp: dict) -> dict:
    folder = _folder(inp, required=False)
    describe = inp.get("describe", False)
    if not isinstance(describe, (bool, dict)):
        raise InvalidInput('expected key "describe" of input to be a boolean or a hash')
    if isinstance(describe, dict):
        objects.describe_options(describe)  # bad describe options fail even for an empty folder
    only = field(inp, "only", str, default="all")
    if only not in ("folders", "objects", "all"):
        raise InvalidInput('expected key "only" of input to be one of "folders", "objects", "all"')
    include_hidden = field(inp, "includeHidden", bool, default=False)
    flags = field(inp, "hasSubfolderFlags", bool, default=False)
    access.container(ctx, ctx.subject, "VIEW")
    _require_folder(ctx, ctx.subject, folder)
    out: dict[str, Any] = {}
    if only in ("objects", "all"):
        rows = ctx.conn.execute(
            "SELECT c.object_id FROM copies c JOIN objects o ON o.id = c.object_id "
            "WHERE c.container_id = ? AND c.folder = ? AND (? OR o.hidden = 0) ORDER BY c.seq",
            (ctx.subject, folder, int(include_hidden)))
        options = {} if describe is True else describe
        out["objects"] = [
            {"id": r["object_id"]} if describe is False
            else {"id": r["object_id"], "describe": objects.describe_object(ctx, r["object_id"], ctx.subject, options)}
            for r in rows.fetchall()
        ]
    if only in ("folders", "all"):
        children = subfolders(ctx, ctx.subject, folder)
        # hasSubfolderFlags: each folder becomes [path, has subfolders] (a Rust client types it (String, bool)).
        out["folders"] = [[p, bool(subfolders(ctx, ctx.subject, p))] for p in children] if flags else children
    return out


@route(*_routes("newFolder"))
def new_folder(ctx: Context, inp: dict) -> dict:
    folder = _folder(inp)
    parents = field(inp, "parents", bool, default=False)
    access.container(ctx, ctx.subject, "UPLOAD")
    if containers.folder_exists(ctx, ctx.subject, folder):
        if not parents:
            raise InvalidState(f"The folder {folder!r} already exists in {ctx.subject}")
        return {"id": ctx.subject}
    containers.ensure_folder(ctx, ctx.subject, folder, parents)
    containers.touch(ctx, ctx.subject)
    return {"id": ctx.subject}


@route(*_routes("removeFolder"))
def remove_folder(ctx: Context, inp: dict) -> dict:
    folder = _folder(inp)
    recurse = field(inp, "recurse", bool, default=False)
    force = field(inp, "force", bool, default=False)
    partial = field(inp, "partial", bool)
    if folder == "/":
        raise InvalidInput("The root folder cannot be removed")
    containers.require_delete(ctx, ctx.subject)
    done = {"id": ctx.subject} if partial is None else {"id": ctx.subject, "completed": True}
    if not containers.folder_exists(ctx, ctx.subject, folder):
        if force:
            return done
        raise containers.folder_not_found()  # the platform names no container here (recorded)
    below = containers.subtree_like(folder)
    object_ids = [r["object_id"] for r in ctx.conn.execute(
        "SELECT object_id FROM copies WHERE container_id = ? AND (folder = ? OR folder LIKE ? ESCAPE '\\') "
        "ORDER BY seq", (ctx.subject, folder, below))]
    has_subfolders = bool(subfolders(ctx, ctx.subject, folder))
    if (object_ids or has_subfolders) and not recurse:
        raise InvalidState(f"The folder {folder!r} is not empty; set recurse to remove it with its contents")
    if object_ids:
        objects.delete_copies(ctx, ctx.subject, object_ids)
    ctx.conn.execute("DELETE FROM folders WHERE container_id = ? AND (path = ? OR path LIKE ? ESCAPE '\\')",
                     (ctx.subject, folder, below))
    containers.touch(ctx, ctx.subject)
    return done


@route(*_routes("renameFolder"))
def rename_folder(ctx: Context, inp: dict) -> dict:
    folder = _folder(inp)
    new_name = field(inp, "name", str, required=True)
    if "newpath" in inp:  # dx mv's form of the new name: checked, though `name` is what is used
        normalize_folder(inp["newpath"], "newpath")
    if not new_name or "/" in new_name or new_name in (".", "..") or any(ord(ch) < 0x20 for ch in new_name):
        raise InvalidInput('expected key "name" of input to be a folder name: non-empty, no "/", not "." or ".."')
    if folder == "/":
        raise InvalidInput("The root folder cannot be renamed")
    access.container(ctx, ctx.subject, "CONTRIBUTE")
    _require_folder(ctx, ctx.subject, folder)
    target = containers.parent_of(folder).rstrip("/") + "/" + new_name
    check_folder_limits(target, "name")
    if target != folder:
        move_tree(ctx, ctx.subject, folder, target)
        containers.touch(ctx, ctx.subject)
    return {"id": ctx.subject}


@route(*_routes("move"))
def move(ctx: Context, inp: dict) -> dict:
    object_ids = _object_ids(inp, "objects", required=False)
    folders = _folder_list(inp, "folders")
    destination = _folder(inp, "destination")
    if "/" in folders:
        raise InvalidInput("The root folder cannot be moved")
    for path in folders:
        if destination == path or destination.startswith(path + "/"):
            raise InvalidInput(f"Cannot move the folder {path!r} into itself ({destination!r})")
    access.container(ctx, ctx.subject, "CONTRIBUTE")
    _require_folder(ctx, ctx.subject, destination)
    _require_objects(ctx, ctx.subject, object_ids)
    for path in folders:
        _require_folder(ctx, ctx.subject, path)
    # Explicitly listed objects go straight to the destination, even when inside a listed folder; then
    # listed folders move deepest first, so one listed inside another lands directly in the destination.
    for oid in object_ids:
        ctx.conn.execute("UPDATE copies SET folder = ?, modified = ? WHERE object_id = ? AND container_id = ?",
                         (destination, ctx.now, oid, ctx.subject))
    for path in sorted(folders, key=lambda p: -p.count("/")):
        target = destination.rstrip("/") + "/" + path.rsplit("/", 1)[1]
        if target != path:
            move_tree(ctx, ctx.subject, path, target)
    containers.touch(ctx, ctx.subject)
    return {"id": ctx.subject}


@route(*_routes("removeObjects"))
def remove_objects(ctx: Context, inp: dict) -> dict:
    object_ids = _object_ids(inp, "objects", required=True)
    force = field(inp, "force", bool, default=False)
    containers.require_delete(ctx, ctx.subject)
    present = []
    for oid in object_ids:
        found = ctx.conn.execute("SELECT 1 FROM copies WHERE object_id = ? AND container_id = ?",
                                 (oid, ctx.subject)).fetchone()
        if found:
            present.append(oid)
        elif not force:
            raise ResourceNotFound(f"The entity {oid} could not be found in {ctx.subject}")
    if present:
        objects.delete_copies(ctx, ctx.subject, present)
    return {"id": ctx.subject}


@route(*_routes("clone"))
def clone(ctx: Context, inp: dict) -> dict:
    object_ids = _object_ids(inp, "objects", required=False)
    folders = _folder_list(inp, "folders")
    target = field(inp, "project", str, required=True)
    if id_class(target) not in ("project", "container"):
        raise InvalidInput('expected key "project" of input to be a project or container ID')
    destination = _folder(inp, "destination", required=False)
    parents = field(inp, "parents", bool, default=False)
    hidden_links = field(inp, "includeHiddenLinks", bool, default=True)
    exists = cloning.clone(ctx, ctx.subject, target, destination, object_ids, folders,
                           parents=parents, include_hidden_links=hidden_links)
    return {"id": ctx.subject, "project": target, "exists": exists}
