"""Data containers (projects and plain containers): creation, describe, and the folder tree they hold.

Permission model (digest 4.1, docs "Project Permissions and Sharing"): VIEW reads, UPLOAD creates folders and
objects, CONTRIBUTE changes and deletes (unless the project is protected: then ADMINISTER), ADMINISTER manages
members and modifies or deletes the container. Plain containers behave like projects with `protected` unset
and cannot be made through the API (dxpy's DXContainer docstring): `create_container` is how the server and
its tests get one.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import access
from .context import Context
from .db import Database, dumps, loads, now_ms
from .errors import InvalidInput, PermissionDenied, ResourceNotFound
from .ids import new_id

# Boolean project flags and their defaults, as /project/new and /project-xxxx/update take them.
BOOL_FLAGS = ("protected", "restricted", "downloadRestricted", "containsPHI", "databaseUIViewOnly",
              "externalUploadRestricted", "previewViewerRestricted", "httpsAppIsolatedBrowsing")
# Flags whose unset value is an explicit null in describe (real output carries the null).
NULLABLE_FLAGS = ("databaseResultsRestricted", "allowedExecutables")

# Fields the platform always describes (real traffic) whose honest value here is fixed: nothing is archived or
# being archived, no transfer is pending, nothing is billed (no storage cost, no spending limit reached), no
# egress is sponsored.
UNUSED_FEATURE_VALUES = {"storageCost": 0, "archivalState": "live", "archivalProgress": None, "pendingTransfer": None,
                         "atSpendingLimit": False, "totalSponsoredEgressBytes": 0, "consumedSponsoredEgressBytes": 0}
# The instance type a project's jobs get when they name none: every recorded project describe (real traffic,
# 195 answers, 2018-2020) carries this one.
DEFAULT_INSTANCE_TYPE = "mem2_hdd2_x2"
PROJECT_DEFAULT_FIELDS = (
    "id", "class", "name", "summary", "description", "created", "modified", "createdBy", "billTo", "region",
    "level", "tags", "version", "dataUsage", "sponsoredDataUsage", "defaultInstanceType",
) + BOOL_FLAGS + NULLABLE_FLAGS + tuple(UNUSED_FEATURE_VALUES)
CONTAINER_DEFAULT_FIELDS = ("id", "class", "name", "created", "modified", "billTo", "region", "level",
                            "version", "dataUsage")
# Fields given only on request (through `fields`, or the old-style boolean options of the same name).
PROJECT_EXTRA_FIELDS = ("properties", "folders", "permissions", "fileUploadParameters", "defaultSymlink")
CONTAINER_EXTRA_FIELDS = ("properties", "folders", "permissions", "fileUploadParameters")
OLD_STYLE_OPTIONS = ("properties", "folders", "permissions", "appCaches")


# -- creation --------------------------------------------------------------------------------------------
def insert_container(conn: sqlite3.Connection, cls: str, owner: str, name: str, *, now: int, region: str,
                      bill_to: str | None = None, summary: str = "", description: str = "",
                      flags: dict | None = None, tags: list[str] | None = None,
                      properties: dict[str, str] | None = None) -> str:
    container_id = new_id(cls)
    conn.execute(
        "INSERT INTO containers(id, class, name, summary, description, created, modified, created_by, bill_to,"
        " region, flags, tags, properties) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (container_id, cls, name, summary, description, now, now, owner, bill_to or owner, region,
         dumps(flags or {}), dumps(list(dict.fromkeys(tags or []))), dumps(properties or {})),
    )
    conn.execute("INSERT INTO members(container_id, member_id, level) VALUES (?, ?, 'ADMINISTER')",
                 (container_id, owner))
    conn.execute("INSERT INTO folders(container_id, path) VALUES (?, '/')", (container_id,))
    return container_id


def create_project(ctx: Context, name: str, **opts: Any) -> str:
    """A new project of the caller (ADMINISTER), with root folder '/'.

    opts: summary, description, billTo, region, tags, properties, and any of BOOL_FLAGS / NULLABLE_FLAGS.
    Inputs are expected already checked (handlers/projects.py does that).
    """
    flags = {k: opts[k] for k in BOOL_FLAGS + NULLABLE_FLAGS if opts.get(k) is not None}
    return insert_container(
        ctx.conn, "project", ctx.user, name, now=ctx.now, region=opts.get("region") or ctx.settings.region,
        bill_to=opts.get("billTo"), summary=opts.get("summary") or "", description=opts.get("description") or "",
        flags=flags, tags=opts.get("tags"), properties=opts.get("properties"),
    )


def create_container(db: Database, owner: str, name: str = "container", region: str = "aws:us-east-1") -> str:
    """A plain container-xxxx owned (ADMINISTER) by `owner` ("user-alice"), made outside any request.

    The platform makes containers itself (job workspaces); the reference server has no route for it, so
    tests and embedding code call this with the server's Database between requests.
    """
    with db.transaction() as conn:
        return insert_container(conn, "container", owner, name, now=now_ms(), region=region)


def require_delete(ctx: Context, container_id: str) -> sqlite3.Row:
    """The container row if the caller may delete data in it: CONTRIBUTE, or ADMINISTER when protected."""
    row = access.container(ctx, container_id, "CONTRIBUTE")
    if loads(row["flags"]).get("protected") and access.level_of(ctx, container_id) != "ADMINISTER":
        raise PermissionDenied(f"{container_id} is protected: ADMINISTER permission is required to delete data")
    return row


# -- folders ---------------------------------------------------------------------------------------------
def parent_of(path: str) -> str:
    """'/a/b' -> '/a'; '/a' -> '/'."""
    head = path.rsplit("/", 1)[0]
    return head or "/"


def folder_not_found(container_id: str | None = None) -> ResourceNotFound:
    """The platform's error for a missing folder, word for word (recorded real traffic: listFolder answers
    "The specified folder could not be found in project-…", removeFolder the same without the container);
    clients match on "specified folder"."""
    where = f" in {container_id}" if container_id else ""
    return ResourceNotFound(f"The specified folder could not be found{where}")


def folder_exists(ctx: Context, container_id: str, path: str) -> bool:
    row = ctx.conn.execute("SELECT 1 FROM folders WHERE container_id = ? AND path = ?",
                           (container_id, path)).fetchone()
    return row is not None


def ensure_folder(ctx: Context, container_id: str, path: str, parents: bool) -> None:
    """Create folder `path` (normalised) unless it exists; missing parents only with `parents`."""
    if folder_exists(ctx, container_id, path):
        return
    parent = parent_of(path)
    if not folder_exists(ctx, container_id, parent):
        if not parents:
            raise folder_not_found(container_id)
        ensure_folder(ctx, container_id, parent, True)
    ctx.conn.execute("INSERT INTO folders(container_id, path) VALUES (?, ?)", (container_id, path))


def subtree_like(path: str) -> str:
    """A LIKE pattern matching every path strictly below `path`; use it with ESCAPE '\\'
    (folder names may hold % and _)."""
    base = "" if path == "/" else path
    escaped = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"


def all_folders(ctx: Context, container_id: str) -> list[str]:
    rows = ctx.conn.execute("SELECT path FROM folders WHERE container_id = ? ORDER BY path", (container_id,))
    return [r["path"] for r in rows]


def touch(ctx: Context, container_id: str) -> None:
    """A change to the container's content or metadata: modified = now."""
    ctx.conn.execute("UPDATE containers SET modified = ? WHERE id = ?", (ctx.now, container_id))


# -- describe --------------------------------------------------------------------------------------------
def _requested(options: dict, defaults: tuple[str, ...], extras: tuple[str, ...]) -> set[str]:
    if not isinstance(options, dict):
        raise InvalidInput("The input is not a hash (JSON object)")
    fields = options.get("fields")
    default_fields = options.get("defaultFields")
    if fields is not None and not isinstance(fields, dict):
        raise InvalidInput('expected key "fields" of input to be a hash')
    if default_fields is not None and not isinstance(default_fields, bool):
        raise InvalidInput('expected key "defaultFields" of input to be a boolean')
    for key in OLD_STYLE_OPTIONS:
        if key in options and not isinstance(options[key], bool):
            raise InvalidInput(f'expected key "{key}" of input to be a boolean')
    wanted: set[str] = {"id"}
    if fields is None:
        wanted.update(defaults)
        wanted.update(k for k in OLD_STYLE_OPTIONS if options.get(k) is True and k in extras)
        return wanted
    for key, value in fields.items():
        if not isinstance(value, bool):
            raise InvalidInput(f'expected value of key "{key}" of "fields" to be a boolean')
        if value:
            wanted.add(key)
    if default_fields:
        wanted.update(defaults)
    return wanted & (set(defaults) | set(extras) | {"id"})


def _data_usage(ctx: Context, container_id: str) -> float | int:
    """GiB, unrounded, as the platform reports it (real traffic: 0, or 3.725290298461914e-09 for 4 bytes)."""
    row = ctx.conn.execute(
        "SELECT COALESCE(SUM(o.size), 0) AS bytes FROM copies c JOIN objects o ON o.id = c.object_id "
        "WHERE c.container_id = ?", (container_id,)).fetchone()
    return row["bytes"] / 1024 ** 3 if row["bytes"] else 0


def _all_values(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    """Every describe field of a container, computed lazily where it costs a query."""
    flags = loads(row["flags"])
    values: dict[str, Any] = {
        "id": row["id"], "class": row["class"], "name": row["name"], "summary": row["summary"],
        "description": row["description"], "created": row["created"], "modified": row["modified"],
        "createdBy": {"user": row["created_by"]}, "billTo": row["bill_to"], "region": row["region"],
        "level": access.level_of(ctx, row["id"]), "tags": loads(row["tags"]), "version": row["version"],
        "properties": loads(row["properties"]), "sponsoredDataUsage": 0, "defaultInstanceType": DEFAULT_INSTANCE_TYPE,
        "defaultSymlink": None, **UNUSED_FEATURE_VALUES,
    }
    for key in BOOL_FLAGS:
        values[key] = bool(flags.get(key, False))
    for key in NULLABLE_FLAGS:
        values[key] = flags.get(key)
    return values


def describe_container(ctx: Context, container_id: str, options: dict) -> dict[str, Any]:
    """/project-xxxx/describe and /container-xxxx/describe: the caller needs VIEW.

    `fields` (name -> bool) picks fields and turns `defaultFields` off unless it is given as true; without
    `fields` the default set is returned plus the old-style boolean options `properties`, `folders`,
    `permissions`. Unknown field names are ignored.
    """
    row = access.container(ctx, container_id, "VIEW")
    if row["class"] == "project":
        defaults, extras = PROJECT_DEFAULT_FIELDS, PROJECT_EXTRA_FIELDS
    else:
        defaults, extras = CONTAINER_DEFAULT_FIELDS, CONTAINER_EXTRA_FIELDS
    wanted = _requested(options, defaults, extras)
    values = _all_values(ctx, row)
    out: dict[str, Any] = {}
    for key in (*defaults, *extras):
        if key not in wanted:
            continue
        if key == "dataUsage":
            out[key] = _data_usage(ctx, container_id)
        elif key == "folders":
            out[key] = all_folders(ctx, container_id)
        elif key == "permissions":
            # A running job's rights (executions.py) are not members of the project.
            rows = ctx.conn.execute("SELECT member_id, level FROM members WHERE container_id = ? "
                                    "AND member_id NOT LIKE 'job-%' ORDER BY member_id", (container_id,))
            out[key] = {r["member_id"]: r["level"] for r in rows}
        elif key == "fileUploadParameters":
            s = ctx.settings
            out[key] = {"minimumPartSize": s.minimum_part_size, "maximumPartSize": s.maximum_part_size,
                        "maximumNumParts": s.maximum_num_parts, "maximumFileSize": s.maximum_file_size,
                        "emptyLastPartAllowed": s.empty_last_part_allowed}
        elif key in values:
            out[key] = values[key]
    return out
