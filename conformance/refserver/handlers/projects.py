"""Project and container routes: new, describe, update, destroy, project tags and properties, membership.

Levels each route needs (docs "Project Permissions and Sharing" and the projects page; where the docs are
silent the choice follows their model: metadata is CONTRIBUTE, members and flags are ADMINISTER):
  describe VIEW | update CONTRIBUTE (name, summary, description), ADMINISTER (flags, billTo)
  addTags/removeTags/setProperties CONTRIBUTE | invite, decreasePermissions ADMINISTER (a caller may always
  lower its own level) | leave: any member | destroy ADMINISTER.
A project always keeps one ADMINISTER: the change that would remove the last one is InvalidState.
"""

from __future__ import annotations

from typing import Any

from .. import access, containers, executions, metadata, objects
from ..context import Context
from ..db import dumps, loads
from ..errors import InvalidInput, InvalidState, ResourceNotFound
from ..validate import field, name
from . import route

LEVEL_NAMES = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
# Flags only ADMINISTER may change through /project-xxxx/update.
ADMIN_FLAGS = ("protected", "restricted", "downloadRestricted", "databaseUIViewOnly",
               "externalUploadRestricted", "previewViewerRestricted", "httpsAppIsolatedBrowsing")


def _bool_flags(inp: dict, keys: tuple[str, ...]) -> dict[str, bool]:
    return {k: inp[k] for k in keys if field(inp, k, bool) is not None}


def _results_restricted(inp: dict, *, allow_null: bool) -> tuple[bool, int | None]:
    """databaseResultsRestricted: (given?, value); an int >= 1, or null where it may be unset."""
    if "databaseResultsRestricted" not in inp:
        return False, None
    value = inp["databaseResultsRestricted"]
    if value is None and allow_null:
        return True, None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput('expected key "databaseResultsRestricted" of input to be a positive integer'
                           + (" or null" if allow_null else ""))
    return True, value


def _bill_to(ctx: Context, inp: dict, current: str | None = None) -> str | None:
    """billTo must name the caller (the reference server has no orgs); anything else is InvalidInput."""
    bill_to = field(inp, "billTo", str)
    if bill_to is not None and bill_to not in (ctx.user, current):
        raise InvalidInput(f"billTo {bill_to!r} is not a billing account the caller may bill to")
    return bill_to


@route("/project/new")
def project_new(ctx: Context, inp: dict) -> dict:
    project_name = name(field(inp, "name", str, required=True))
    summary = field(inp, "summary", str, default="")
    description = field(inp, "description", str, default="")
    region = field(inp, "region", str)
    field(inp, "defaultSymlink", dict)
    field(inp, "drive", str)
    if region is not None and region != ctx.settings.region:
        raise InvalidInput(f"region {region!r} is not available; this server has {ctx.settings.region!r}")
    tags = metadata.tags(inp["tags"]) if "tags" in inp else []
    props = metadata.properties(inp["properties"], allow_null=False) if "properties" in inp else {}
    flags: dict[str, Any] = _bool_flags(inp, containers.BOOL_FLAGS)
    given, limit = _results_restricted(inp, allow_null=False)
    if given:
        flags["databaseResultsRestricted"] = limit
    if flags.get("downloadRestricted"):
        flags.setdefault("previewViewerRestricted", True)
    project_id = containers.create_project(
        ctx, project_name, summary=summary, description=description, billTo=_bill_to(ctx, inp),
        region=region, tags=tags, properties=props, **flags)
    return {"id": project_id}


@route("/project-xxxx/describe", "/container-xxxx/describe")
def describe(ctx: Context, inp: dict) -> dict:
    return containers.describe_container(ctx, ctx.subject, inp)


@route("/project-xxxx/update")
def update(ctx: Context, inp: dict) -> dict:
    row = access.container(ctx, ctx.subject, "VIEW")
    changes: dict[str, Any] = {}
    for key in ("name", "summary", "description"):
        value = field(inp, key, str)
        if value is not None:
            changes[key] = name(value) if key == "name" else value
    flags = _bool_flags(inp, ADMIN_FLAGS)
    given, limit = _results_restricted(inp, allow_null=True)
    if given:
        flags["databaseResultsRestricted"] = limit
    if "allowedExecutables" in inp:
        allowed = inp["allowedExecutables"]
        if allowed is not None and not (isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)):
            raise InvalidInput('expected key "allowedExecutables" of input to be an array of strings or null')
        flags["allowedExecutables"] = allowed
    version = field(inp, "version", int)
    field(inp, "httpsAppIsolatedBrowsingOptions", dict)
    bill_to = _bill_to(ctx, inp, row["bill_to"])
    need = "ADMINISTER" if flags or bill_to not in (None, row["bill_to"]) else "CONTRIBUTE"
    access.container(ctx, ctx.subject, need)
    if version is not None and version != row["version"]:
        raise InvalidState(f"version {version} does not match the project's version {row['version']}")
    current = loads(row["flags"])
    merged = {**current, **flags}
    if flags.get("downloadRestricted") is True and "previewViewerRestricted" not in flags:
        merged["previewViewerRestricted"] = True
    if merged.get("previewViewerRestricted") and merged.get("downloadRestricted") is False \
            and "downloadRestricted" in flags:
        # The platform ties the two flags: previewViewerRestricted may only stay on with downloads restricted.
        raise InvalidInput("downloadRestricted cannot be false while previewViewerRestricted is true")
    ctx.conn.execute(
        "UPDATE containers SET name = ?, summary = ?, description = ?, flags = ?, bill_to = ?, "
        "version = version + 1, modified = ? WHERE id = ?",
        (changes.get("name", row["name"]), changes.get("summary", row["summary"]),
         changes.get("description", row["description"]), dumps(merged), bill_to or row["bill_to"], ctx.now,
         ctx.subject))
    return {"id": ctx.subject}


@route("/project-xxxx/destroy", "/container-xxxx/destroy")
def destroy(ctx: Context, inp: dict) -> dict:
    terminate_jobs = field(inp, "terminateJobs", bool, default=False)
    access.container(ctx, ctx.subject, "ADMINISTER")
    executions.end_jobs_of_project(ctx, ctx.subject, terminate_jobs)
    objects.destroy_container(ctx, ctx.subject)
    return {"id": ctx.subject}


@route("/project-xxxx/addTags", "/project-xxxx/removeTags")
def project_tags(ctx: Context, inp: dict) -> dict:
    if "tags" not in inp:
        raise InvalidInput('expected input to have property "tags"')
    given = metadata.tags(inp["tags"])
    row = access.container(ctx, ctx.subject, "CONTRIBUTE")
    current = loads(row["tags"])
    if ctx.route.endswith("/addTags"):
        updated = list(dict.fromkeys(current + given))
    else:
        updated = [t for t in current if t not in set(given)]
    ctx.conn.execute("UPDATE containers SET tags = ?, modified = ? WHERE id = ?",
                     (dumps(updated), ctx.now, ctx.subject))
    return {"id": ctx.subject}


@route("/project-xxxx/setProperties")
def project_set_properties(ctx: Context, inp: dict) -> dict:
    if "properties" not in inp:
        raise InvalidInput('expected input to have property "properties"')
    changes = metadata.properties(inp["properties"], allow_null=True)
    row = access.container(ctx, ctx.subject, "CONTRIBUTE")
    merged = metadata.merge_properties(loads(row["properties"]), changes)
    ctx.conn.execute("UPDATE containers SET properties = ?, modified = ? WHERE id = ?",
                     (dumps(merged), ctx.now, ctx.subject))
    return {"id": ctx.subject}


# -- membership ------------------------------------------------------------------------------------------
def _set_level(ctx: Context, container_id: str, member: str, level: str | None) -> None:
    if level is None:
        ctx.conn.execute("DELETE FROM members WHERE container_id = ? AND member_id = ?", (container_id, member))
    else:
        ctx.conn.execute(
            "INSERT INTO members(container_id, member_id, level) VALUES (?, ?, ?) "
            "ON CONFLICT(container_id, member_id) DO UPDATE SET level = excluded.level",
            (container_id, member, level))


def _keep_an_administrator(ctx: Context, container_id: str) -> None:
    row = ctx.conn.execute("SELECT COUNT(*) AS n FROM members WHERE container_id = ? AND level = 'ADMINISTER'",
                           (container_id,)).fetchone()
    if row["n"] == 0:
        raise InvalidState(f"{container_id} must keep at least one member with ADMINISTER permission")


def _user_exists(ctx: Context, user_id: str) -> bool:
    return ctx.conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is not None


@route("/project-xxxx/invite")
def invite(ctx: Context, inp: dict) -> dict:
    invitee = field(inp, "invitee", str, required=True)
    level = field(inp, "level", str, required=True)
    field(inp, "suppressEmailNotification", bool)
    field(inp, "suppressAllNotifications", bool)
    if level not in LEVEL_NAMES:
        raise InvalidInput('expected key "level" of input to be one of ' + ", ".join(LEVEL_NAMES))
    if invitee == "PUBLIC" and level != "VIEW":
        raise InvalidInput('the invitee "PUBLIC" can only be given VIEW permission')
    if invitee != "PUBLIC" and not invitee.startswith(("user-", "org-")) and "@" not in invitee:
        raise InvalidInput('expected key "invitee" of input to be a user ID, an org ID, an email or "PUBLIC"')
    access.container(ctx, ctx.subject, "ADMINISTER")
    if invitee != "PUBLIC" and not _user_exists(ctx, invitee):
        # No orgs, and no user known by email: such invitees do not exist on this server.
        raise ResourceNotFound(f"The invitee {invitee!r} could not be found")
    have = access.level_of(ctx, ctx.subject, invitee)
    # Inviting never lowers a level: no action when the invitee already has that level or more.
    if access.RANK[have] < access.RANK[level]:
        _set_level(ctx, ctx.subject, invitee, level)
    return {"id": ctx.subject, "state": "granted"}


@route("/project-xxxx/decreasePermissions")
def decrease_permissions(ctx: Context, inp: dict) -> dict:
    # The input is the mapping member -> level itself; keys that name no member (not user-/org-/PUBLIC)
    # are unknown input keys, and ignored like any other.
    changes = {k: v for k, v in inp.items() if k == "PUBLIC" or k.startswith(("user-", "org-"))}
    for member, level in changes.items():
        if level is not None and level not in LEVEL_NAMES + ("NONE",):
            raise InvalidInput(f'expected key "{member}" of input to be a permission level, "NONE" or null')
    only_self = bool(changes) and set(changes) == {ctx.user}
    access.container(ctx, ctx.subject, "VIEW" if only_self else "ADMINISTER")
    for member, level in changes.items():
        have = access.level_of(ctx, ctx.subject, member)
        target = "NONE" if level is None else level
        if access.RANK[target] < access.RANK[have]:  # a "decrease" to a higher level changes nothing
            _set_level(ctx, ctx.subject, member, None if target == "NONE" else target)
    _keep_an_administrator(ctx, ctx.subject)
    return {"id": ctx.subject}


@route("/project-xxxx/leave")
def leave(ctx: Context, inp: dict) -> dict:
    access.container(ctx, ctx.subject, "VIEW")
    _set_level(ctx, ctx.subject, ctx.user, None)
    _keep_an_administrator(ctx, ctx.subject)
    return {"id": ctx.subject}

