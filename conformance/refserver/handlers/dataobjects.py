"""Methods every data object class shares: describe, tags, types, name, details, properties, visibility,
listProjects (for file-xxxx, record-xxxx and workflow-xxxx; applet-xxxx for those that leave content alone).

Permission rules (docs "Tags", "Properties", "Name", "Types", "Details and Links", "Visibility"): per-copy
metadata (name, tags, properties) needs UPLOAD while the object is open and CONTRIBUTE once it is closed;
object-level metadata (types, details, visibility) needs UPLOAD and an open object (InvalidState otherwise).
"""

from __future__ import annotations

from typing import Any

from .. import metadata, objects, validate
from ..context import Context
from ..db import dumps, loads
from ..errors import InvalidInput, InvalidState
from . import route

CLASSES = ("file", "record", "workflow")
# Applets share the methods that do not change a closed object's content (digest 2.1: no close, types,
# setDetails or setVisibility routes for applets).
WITH_APPLETS = ("describe", "addTags", "removeTags", "rename", "setProperties", "getDetails", "listProjects")


def _routes(method: str) -> list[str]:
    classes = (*CLASSES, "applet") if method in WITH_APPLETS else CLASSES
    return [f"/{cls}-xxxx/{method}" for cls in classes]


def _ok(ctx: Context) -> dict[str, str]:
    return {"id": ctx.subject}


def _require_open(row, action: str) -> None:
    if row["state"] != "open":
        raise InvalidState(f"{row['id']} is not in the open state; cannot {action}")


def _per_copy(ctx: Context, inp: dict):
    """The copy named by the required `project`, with the level its state needs for metadata edits."""
    hint = objects.project_hint(inp, required=True)
    row, container_id = objects.locate(ctx, ctx.subject, hint, "VIEW")
    objects.require(ctx, container_id, objects.metadata_need(row))
    return row, container_id


@route(*_routes("describe"))
def describe(ctx: Context, inp: dict) -> dict[str, Any]:
    objects.describe_options(inp)
    hint = objects.project_hint(inp)
    # `project` is a hint: the copy there if the caller sees one, else the one it sees elsewhere (dx-toolkit
    # test_download_project_selection describes a file through a handler whose project no longer holds it; the
    # docs call it "a hint for finding an accessible copy").
    seen_in = {container for container, _ in objects.visible_containers(ctx, ctx.subject)}
    if hint is not None and hint in seen_in:
        container_id = hint
    else:
        _, container_id = objects.locate(ctx, ctx.subject, None, "VIEW")
    return objects.describe_object(ctx, ctx.subject, container_id, inp)


def _edit_tags(ctx: Context, inp: dict, add: bool) -> dict[str, str]:
    tags = metadata.tags(validate.field(inp, "tags", list, required=True))
    row, container_id = _per_copy(ctx, inp)
    current = loads(row["tags"])
    if add:
        updated = list(dict.fromkeys(current + tags))
    else:
        updated = [t for t in current if t not in set(tags)]
    ctx.conn.execute("UPDATE copies SET tags = ? WHERE object_id = ? AND container_id = ?",
                     (dumps(updated), ctx.subject, container_id))
    objects.touch_copy(ctx, ctx.subject, container_id)
    return _ok(ctx)


@route(*_routes("addTags"))
def add_tags(ctx: Context, inp: dict) -> dict[str, str]:
    return _edit_tags(ctx, inp, add=True)


@route(*_routes("removeTags"))
def remove_tags(ctx: Context, inp: dict) -> dict[str, str]:
    return _edit_tags(ctx, inp, add=False)


def _edit_types(ctx: Context, inp: dict, add: bool) -> dict[str, str]:
    types = metadata.types(validate.field(inp, "types", list, required=True))
    row, _ = objects.locate(ctx, ctx.subject, None, "UPLOAD")
    _require_open(row, "change its types")
    current = loads(row["types"])
    updated = list(dict.fromkeys(current + types)) if add else [t for t in current if t not in set(types)]
    ctx.conn.execute("UPDATE objects SET types = ? WHERE id = ?", (dumps(updated), ctx.subject))
    objects.touch_object(ctx, ctx.subject)
    return _ok(ctx)


@route(*_routes("addTypes"))
def add_types(ctx: Context, inp: dict) -> dict[str, str]:
    return _edit_types(ctx, inp, add=True)


@route(*_routes("removeTypes"))
def remove_types(ctx: Context, inp: dict) -> dict[str, str]:
    return _edit_types(ctx, inp, add=False)


@route(*_routes("rename"))
def rename(ctx: Context, inp: dict) -> dict[str, str]:
    name = validate.name(validate.field(inp, "name", str, required=True))
    _, container_id = _per_copy(ctx, inp)
    ctx.conn.execute("UPDATE copies SET name = ? WHERE object_id = ? AND container_id = ?",
                     (name, ctx.subject, container_id))
    objects.touch_copy(ctx, ctx.subject, container_id)
    return _ok(ctx)


@route(*_routes("setProperties"))
def set_properties(ctx: Context, inp: dict) -> dict[str, str]:
    changes = metadata.properties(validate.field(inp, "properties", dict, required=True), allow_null=True)
    row, container_id = _per_copy(ctx, inp)
    merged = metadata.merge_properties(loads(row["properties"]), changes)
    ctx.conn.execute("UPDATE copies SET properties = ? WHERE object_id = ? AND container_id = ?",
                     (dumps(merged), ctx.subject, container_id))
    objects.touch_copy(ctx, ctx.subject, container_id)
    return _ok(ctx)


@route(*_routes("setDetails"), input_mapping=False)
def set_details(ctx: Context, inp: Any) -> dict[str, str]:
    if not isinstance(inp, (dict, list)):
        raise InvalidInput("The input (the new details) must be a JSON object or array")
    details, links = metadata.details(validate.details_within_limits(inp), "details")
    row, _ = objects.locate(ctx, ctx.subject, None, "UPLOAD")
    _require_open(row, "set its details")
    ctx.conn.execute("UPDATE objects SET details = ?, links = ? WHERE id = ?",
                     (dumps(details), dumps(links), ctx.subject))
    objects.touch_object(ctx, ctx.subject)
    return _ok(ctx)


@route(*_routes("getDetails"))
def get_details(ctx: Context, inp: dict) -> Any:
    hint = objects.project_hint(inp)
    row, _ = objects.locate(ctx, ctx.subject, hint, "VIEW")
    return loads(row["details"])


@route(*_routes("setVisibility"))
def set_visibility(ctx: Context, inp: dict) -> dict[str, str]:
    hidden = validate.field(inp, "hidden", bool, required=True)
    row, _ = objects.locate(ctx, ctx.subject, None, "UPLOAD")
    _require_open(row, "change its visibility")
    ctx.conn.execute("UPDATE objects SET hidden = ? WHERE id = ?", (int(hidden), ctx.subject))
    objects.touch_object(ctx, ctx.subject)
    return _ok(ctx)


@route(*_routes("listProjects"))
def list_projects(ctx: Context, inp: dict) -> dict[str, str]:
    # An object the caller can see nowhere (or that does not exist) lists no container: 200 {}, as the platform
    # answers for an unknown file (real traffic, stor TestExists::test_false_canonical_path exchange 3).
    return {container_id: level for container_id, level in sorted(objects.visible_containers(ctx, ctx.subject))}
