"""Apps and global workflows on the store: names, versions, aliases, developers, authorized users, visibility.

Apps (class `app`) and global workflows (class `globalworkflow`) live in one global namespace per class, not in
projects, and follow the same rules wherever the digest states a rule for apps (EXECUTABLES-DIGEST 7; the
design sheet of issue 19): one code path serves both classes, and only the frozen content differs (an app
keeps the spec of the applet it was made from, a global workflow the describe of the closed workflow it was
made from).

- A name is `^[a-zA-Z0-9._-]+$` and not a hash ID (`app-<name>` must not parse as `app-xxxx`); a version is
  semver-like (`1.2.3`, `1.2.3-rc.1`, `1.2.3+build`).
- The first creator of a name becomes its developer; another version of the name may be made only by a
  developer (else PermissionDenied); a name+version made twice is InvalidInput.
- Aliases: every version answers to its version string; the first version of a name gets the alias
  "default", and publish with makeDefault moves it. addTags/removeTags add and remove other aliases (a tag
  held by another version of the name moves to this one). "default" is not a tag: addTags/removeTags of it
  is InvalidInput (decided here: the digest names publish(makeDefault) as the way to move it).
- A version is visible to the developers of its name, and once published to its authorized users (a user,
  or "PUBLIC" for everyone); an invisible version is ResourceNotFound, its existence not revealed.
- Only developers edit (update, delete, publish, tags, developers, authorized users, categories);
  a visible version's developers, authorized users and categories may be listed by whoever sees it.
- update only while unpublished (InvalidState after); publish of a published version is InvalidState.
- delete marks the version deleted: it keeps answering describe by ID and by version (deleted: true), loses
  its other aliases ("default" included), no longer runs (InvalidState) and is no longer found by
  findApps / findGlobalWorkflows.
- installed: per user and name (install/uninstall; uninstall of a name not installed is a no-op).

Decided here where the digest has no fact (docs/emulator.md, "Apps and global workflows", lists these; the cases
on them are SHOULD):
the `published` describe key appears once published (ms timestamp); `developers` and `authorizedUsers` are
described to developers only; `resources` is checked for shape and not kept (no resources container);
`regionalOptions` may name only this server's region; `billTo` must be the caller; principals must be users
of this server (org IDs are ResourceNotFound: this server has no orgs); removing the last developer is
InvalidState. For global workflows (digest 7 has only new, describe and aliases): the same rules as apps; the
workflow of regionalOptions must be closed (open: InvalidState) and visible to the caller; its describe is
frozen at /globalworkflow/new, and `regionalOptions` keeps the workflow ID given.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

from . import executable_checks, metadata, objects, query, validate, workflow_store
from .context import Context
from .db import dumps, loads
from .errors import InvalidInput, InvalidState, PermissionDenied, ResourceNotFound
from .global_access import AUTHORIZED, DEVELOPER, PUBLIC, is_developer, visible
from .ids import id_class, new_id

CLASSES = ("app", "globalworkflow")
NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$")
# An alias (tag) is one URL path segment: /app-<name>/<alias>/<method> (app.py ALIAS_SEGMENT).
ALIAS = re.compile(r"^[a-zA-Z0-9._+-]+$")
DEFAULT_ALIAS = "default"
USER_ID = re.compile(r"^user-[A-Za-z0-9._-]+$")
ORG_ID = re.compile(r"^org-[A-Za-z0-9._-]+$")
# Text fields of /app/new, /globalworkflow/new and update (kept in global_executables.spec; default "").
TEXT_FIELDS = ("title", "summary", "description", "developerNotes")
# What an app keeps of the applet it was made from (the applet's spec: what its jobs run).
APP_SPEC_FROM_APPLET = ("dxapi", "runSpec", "inputSpec", "outputSpec", "access", "title", "summary",
                        "description", "developerNotes", "ignoreReuse", "httpsApp")
# Describe keys in order; each class has its own (installed and the applet's spec: apps; the frozen workflow:
# global workflows). `published` only once published; developers and authorizedUsers for developers only.
COMMON_HEAD = ("id", "class", "name", "version", "aliases", "createdBy", "created", "modified", "published",
               "deleted")
APP_KEYS = (*COMMON_HEAD, "installed", "billTo", "applet", "title", "summary", "description", "developerNotes",
            "categories", "access", "dxapi", "inputSpec", "outputSpec", "runSpec", "regionalOptions",
            "developers", "authorizedUsers")
GLOBALWORKFLOW_KEYS = (*COMMON_HEAD, "billTo", "title", "summary", "description", "developerNotes",
                       "categories", "outputFolder", "stages", "inputs", "outputs", "inputSpec", "outputSpec",
                       "regionalOptions", "developers", "authorizedUsers")
DESCRIBE_KEYS = {"app": APP_KEYS, "globalworkflow": GLOBALWORKFLOW_KEYS}
# Keys given only through `fields` (and by get).
EXTRA_KEYS = ("details",)
DEVELOPER_ONLY = frozenset({"developers", "authorizedUsers"})


def label(cls: str) -> str:
    return "app" if cls == "app" else "global workflow"


# -- names, versions, principals ----------------------------------------------------------------------------
def check_name(cls: str, value: Any, key: str = "name") -> str:
    if not isinstance(value, str) or not NAME.match(value) or id_class(f"{cls}-{value}") is not None:
        raise InvalidInput(f'expected key "{key}" of input to be a {label(cls)} name: letters, digits, ".", "_" '
                           f'and "-" (and not {cls}-<24 characters>, the form of an ID)')
    validate.name(value, key)
    return value


def check_version(value: Any) -> str:
    if not isinstance(value, str) or not VERSION.match(value):
        raise InvalidInput('expected key "version" of input to be a version such as 1.0.0 (digits.digits.digits, '
                           'optionally followed by -label or +label)')
    return value


def check_tags(value: Any, key: str = "tags") -> list[str]:
    """Version aliases to add or remove: one URL segment each, not "default", not a version string."""
    tags = metadata.tags(value, key)
    for tag in tags:
        if not ALIAS.match(tag):
            raise InvalidInput(f'tag {tag!r} in key "{key}" of input is not a valid alias (letters, digits, '
                               '".", "_", "+" and "-")')
        if tag == DEFAULT_ALIAS:
            raise InvalidInput(f'the alias "{DEFAULT_ALIAS}" is not a tag: publish with makeDefault moves it')
        if VERSION.match(tag):
            raise InvalidInput(f'tag {tag!r} in key "{key}" of input has the form of a version; a version '
                               "is already an alias of its own")
    return tags


def check_principals(ctx: Context, value: Any, key: str, *, public: bool) -> list[str]:
    """User IDs of this server (and "PUBLIC" where `public`); org IDs are ResourceNotFound (no orgs here)."""
    validate.strings(value, key)
    for principal in value:
        if public and principal == PUBLIC:
            continue
        if ORG_ID.match(principal):
            raise ResourceNotFound(f"The entity {principal} could not be found (this server has no orgs)")
        if not USER_ID.match(principal):
            allowed = 'a user ID or "PUBLIC"' if public else "a user ID"
            raise InvalidInput(f'expected each item of "{key}" of input to be {allowed}')
        if ctx.conn.execute("SELECT 1 FROM users WHERE id = ?", (principal,)).fetchone() is None:
            raise ResourceNotFound(f"The entity {principal} could not be found")
    return list(dict.fromkeys(value))


def check_categories(value: Any, key: str = "categories") -> list[str]:
    return metadata.tags(value, key)


# -- rows, principals, visibility ---------------------------------------------------------------------------
def _principals(ctx: Context, cls: str, name: str, role: str) -> list[str]:
    rows = ctx.conn.execute("SELECT principal FROM global_principals WHERE class = ? AND name = ? AND role = ? "
                            "ORDER BY rowid", (cls, name, role)).fetchall()
    return [r["principal"] for r in rows]


def _not_found(subject: str) -> ResourceNotFound:
    return ResourceNotFound(f"The entity {subject} could not be found")


def resolve(ctx: Context, cls: str, subject: str) -> sqlite3.Row:
    """The version a URL subject names, if the caller may see it: `<cls>-xxxx` (an ID), `<cls>-<name>` (its
    "default" alias) or `<cls>-<name>/<version or alias>`; else ResourceNotFound."""
    named, _, alias = subject.partition("/")
    if id_class(named) == cls:
        row = None if alias else ctx.conn.execute(
            "SELECT * FROM global_executables WHERE id = ? AND class = ?", (named, cls)).fetchone()
    else:
        name = named[len(cls) + 1:]
        alias = alias or DEFAULT_ALIAS
        row = ctx.conn.execute("SELECT * FROM global_executables WHERE class = ? AND name = ? AND version = ?",
                               (cls, name, alias)).fetchone()
        if row is None:
            row = ctx.conn.execute(
                "SELECT g.* FROM global_aliases a JOIN global_executables g ON g.id = a.id "
                "WHERE a.class = ? AND a.name = ? AND a.alias = ?", (cls, name, alias)).fetchone()
    if row is None or not visible(ctx, row):
        raise _not_found(subject)
    return row


def as_developer(ctx: Context, row: sqlite3.Row) -> None:
    if not is_developer(ctx, row["class"], row["name"]):
        raise PermissionDenied(f"Only a developer of the {label(row['class'])} {row['name']} may do this")


def _touch(ctx: Context, row: sqlite3.Row) -> None:
    ctx.conn.execute("UPDATE global_executables SET modified = ? WHERE id = ?",
                     (max(ctx.now, row["modified"]), row["id"]))


def aliases(ctx: Context, row: sqlite3.Row) -> list[str]:
    rows = ctx.conn.execute("SELECT alias FROM global_aliases WHERE id = ? ORDER BY rowid", (row["id"],))
    return [row["version"], *(r["alias"] for r in rows)]


def categories(ctx: Context, executable_id: str) -> list[str]:
    rows = ctx.conn.execute("SELECT category FROM global_categories WHERE id = ? ORDER BY rowid", (executable_id,))
    return [r["category"] for r in rows]


def installed(ctx: Context, cls: str, name: str) -> bool:
    return ctx.conn.execute("SELECT 1 FROM global_installs WHERE class = ? AND name = ? AND user_id = ?",
                            (cls, name, ctx.user)).fetchone() is not None


def spec_of(row: sqlite3.Row) -> dict[str, Any]:
    return loads(row["spec"])


# -- creation -------------------------------------------------------------------------------------------------
def _common_fields(ctx: Context, inp: dict, base: dict[str, Any]) -> dict[str, Any]:
    """title, summary, description, developerNotes, details, billTo, regionalOptions, resources of /app/new,
    /globalworkflow/new and update, over `base` (what the version had or inherits)."""
    out = dict(base)
    for key in TEXT_FIELDS:
        if key in inp:
            out[key] = validate.field(inp, key, str)
    if "details" in inp:
        out["details"] = metadata.details(validate.details_within_limits(inp["details"]))[0]
    if "billTo" in inp:
        bill_to = validate.field(inp, "billTo", str)
        if ORG_ID.match(bill_to):
            raise ResourceNotFound(f"The entity {bill_to} could not be found (this server has no orgs)")
        if bill_to != ctx.user:
            raise PermissionDenied("billTo may only name yourself on this server")
        out["billTo"] = bill_to
    if "resources" in inp:
        resources = inp["resources"]
        if not (isinstance(resources, str) or (isinstance(resources, list)
                                                and all(isinstance(r, str) for r in resources))):
            raise InvalidInput('expected key "resources" of input to be a project ID or an array of object IDs')
        if isinstance(resources, str):   # a container's ID (schemas: containerId), not any string
            validate.entity_id(resources, "resources", {"project", "container"})
    return out


def _regional_options(ctx: Context, value: Any, required: bool) -> dict[str, dict[str, Any]]:
    if value is None:
        if required:
            raise InvalidInput('expected input to have property "regionalOptions"')
        return {}
    validate.expect(isinstance(value, dict) and (value or not required), "regionalOptions",
                    "a non-empty hash of region -> options")
    for region, options in value.items():
        if region != ctx.settings.region:
            raise InvalidInput(f'region {region!r} in key "regionalOptions" of input is not a region of this '
                               f"server (it has one: {ctx.settings.region})")
        validate.expect(isinstance(options, dict), f"regionalOptions.{region}", "a hash")
    return value


def _claim_name(ctx: Context, cls: str, name: str, version: str) -> bool:
    """Whether this is the first version of the name; PermissionDenied for a name of other developers,
    InvalidInput for a version that exists."""
    exists = ctx.conn.execute("SELECT 1 FROM global_executables WHERE class = ? AND name = ? LIMIT 1",
                              (cls, name)).fetchone() is not None
    if exists and not is_developer(ctx, cls, name):
        raise PermissionDenied(f"The {label(cls)} name {name} belongs to other developers; only they may add "
                               "versions of it")
    if ctx.conn.execute("SELECT 1 FROM global_executables WHERE class = ? AND name = ? AND version = ?",
                        (cls, name, version)).fetchone() is not None:
        raise InvalidInput(f"The {label(cls)} {name} already has a version {version}")
    return not exists


def _insert(ctx: Context, cls: str, name: str, version: str, spec: dict[str, Any], first: bool) -> str:
    executable_id = new_id(cls)
    ctx.conn.execute("INSERT INTO global_executables(id, class, name, version, spec, created_by, created, "
                     "modified, published, deleted, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?)",
                     (executable_id, cls, name, version, dumps(spec), ctx.user, ctx.now, ctx.now,
                      ctx.db.next_seq("global_executables")))
    if first:
        ctx.conn.execute("INSERT INTO global_principals(class, name, role, principal) VALUES (?, ?, ?, ?)",
                         (cls, name, DEVELOPER, ctx.user))
        ctx.conn.execute("INSERT INTO global_aliases(class, name, alias, id) VALUES (?, ?, ?, ?)",
                         (cls, name, DEFAULT_ALIAS, executable_id))
    return executable_id


def new_app(ctx: Context, inp: dict) -> str:
    """/app/new: from an applet the caller can see, or initializeFrom another app version it can see."""
    if ("applet" in inp) == ("initializeFrom" in inp):
        raise InvalidInput('expected input to have exactly one of the properties "applet" and "initializeFrom"')
    version = check_version(validate.field(inp, "version", str, required=True))
    validate.field(inp, "dxapi", str)
    # The spec keys as /applet/new checks them: the app's spec comes from the applet (or the app it is
    # initialized from), but a malformed one is refused, never ignored (as update does).
    executable_checks.check(inp, run_spec_required=False)
    if "applet" in inp:
        applet_id = validate.entity_id(inp["applet"], "applet", {"applet"})
        applet, _ = objects.locate(ctx, applet_id, None, "VIEW")
        if applet["class"] != "applet":
            raise _not_found(applet_id)
        applet_spec = objects.applet_spec(ctx, applet_id)
        base = {k: applet_spec[k] for k in APP_SPEC_FROM_APPLET if k in applet_spec}
        base.update(applet=applet_id, details={}, billTo=ctx.user)
        default_name = applet["name"]
    else:
        source_id = validate.entity_id(inp["initializeFrom"], "initializeFrom", {"app"})
        source = resolve(ctx, "app", source_id)
        base = spec_of(source)
        default_name = source["name"]
    name = check_name("app", inp.get("name", default_name))
    spec = _common_fields(ctx, inp, base)
    if "access" in inp:
        spec["access"] = executable_checks.check_access(inp["access"])
    spec["regionalOptions"] = {ctx.settings.region: {"applet": spec["applet"]}}
    for region, options in _regional_options(ctx, inp.get("regionalOptions"), False).items():
        spec["regionalOptions"][region].update(options)
    first = _claim_name(ctx, "app", name, version)
    return _insert(ctx, "app", name, version, spec, first)


def frozen_workflow(ctx: Context, workflow_id: Any) -> dict[str, Any]:
    """The describe a global workflow keeps of a closed workflow the caller can see: the workflow storage
    format (title, summary, description, outputFolder, stages, inputs, outputs) with id, name, project,
    editVersion, and the inputSpec and outputSpec its describe gives (workflow_store)."""
    workflow_id = validate.entity_id(workflow_id, "regionalOptions.*.workflow", {"workflow"})
    copy, container_id = objects.locate(ctx, workflow_id, None, "VIEW")
    if copy["class"] != "workflow":
        raise _not_found(workflow_id)
    if copy["state"] != "closed":
        raise InvalidState(f"The workflow {workflow_id} is open; only a closed workflow can become a global "
                           "workflow")
    workflow, edit_version = workflow_store.stored(ctx, workflow_id)
    workflow.update(id=workflow_id, name=copy["name"], project=container_id, editVersion=edit_version,
                    title=workflow_store.describe_value(ctx, copy, "title"))
    for key in ("inputSpec", "outputSpec"):
        workflow[key] = workflow_store.describe_value(ctx, copy, key)
    return workflow


def new_globalworkflow(ctx: Context, inp: dict) -> str:
    """/globalworkflow/new {name, version, regionalOptions: {region: {workflow}}, title?, summary?, ...}."""
    name = check_name("globalworkflow", validate.field(inp, "name", str, required=True))
    version = check_version(validate.field(inp, "version", str, required=True))
    regional = _regional_options(ctx, inp.get("regionalOptions"), True)
    (region, options), = regional.items()  # one region on this server
    if "workflow" not in options:
        raise InvalidInput(f'expected key "regionalOptions.{region}" of input to have property "workflow"')
    workflow = frozen_workflow(ctx, options["workflow"])
    base = {"title": workflow["title"], "summary": workflow.get("summary", ""),
            "description": workflow.get("description", ""), "developerNotes": "", "details": {},
            "billTo": ctx.user, "workflow": workflow,
            "regionalOptions": {region: {**options, "workflow": workflow["id"]}}}
    spec = _common_fields(ctx, inp, base)
    first = _claim_name(ctx, "globalworkflow", name, version)
    return _insert(ctx, "globalworkflow", name, version, spec, first)


# -- describe ------------------------------------------------------------------------------------------------
def describe_options(options: Any) -> tuple[set[str] | None, bool]:
    """(fields asked for or None, defaultFields): `fields` alone gives exactly those keys (digest 7: fields
    {name, version} answers 2 keys, no id)."""
    return validate.describe_fields(options)


def describe(ctx: Context, row: sqlite3.Row, options: dict, *, with_code: bool = False) -> dict[str, Any]:
    wanted, default_fields = describe_options(options)
    cls = row["class"]
    order = (*DESCRIBE_KEYS[cls], *EXTRA_KEYS)
    keys = set(wanted or ())
    if default_fields:
        keys.update(DESCRIBE_KEYS[cls])
    if not is_developer(ctx, cls, row["name"]):
        keys -= DEVELOPER_ONLY
    values = _values(ctx, row, keys, with_code)
    return {k: values[k] for k in order if k in keys and k in values}


def _values(ctx: Context, row: sqlite3.Row, keys: set[str], with_code: bool) -> dict[str, Any]:
    spec = spec_of(row)
    cls = row["class"]
    lazy: dict[str, Callable[[], Any]] = {
        "aliases": lambda: aliases(ctx, row),
        "categories": lambda: categories(ctx, row["id"]),
        "installed": lambda: installed(ctx, cls, row["name"]),
        "developers": lambda: _principals(ctx, cls, row["name"], DEVELOPER),
        "authorizedUsers": lambda: _principals(ctx, cls, row["name"], AUTHORIZED),
    }
    values: dict[str, Any] = {"id": row["id"], "class": cls, "name": row["name"], "version": row["version"],
                              "createdBy": row["created_by"], "created": row["created"],
                              "modified": row["modified"], "deleted": bool(row["deleted"])}
    if row["published"] is not None:
        values["published"] = row["published"]
    for key in keys & lazy.keys():
        values[key] = lazy[key]()
    defaults = {"title": "", "summary": "", "description": "", "developerNotes": "", "details": {},
                "billTo": row["created_by"], "access": {}, "dxapi": "1.0.0", "inputSpec": None,
                "outputSpec": None, "runSpec": {}, "regionalOptions": {}}
    for key, default in defaults.items():
        values[key] = spec.get(key, default)
    if cls == "app":
        values["applet"] = spec.get("applet")
        if not with_code:
            values["runSpec"] = {k: v for k, v in values["runSpec"].items() if k != "code"}
    else:
        workflow = spec.get("workflow", {})
        for key in ("outputFolder", "stages", "inputs", "outputs", "inputSpec", "outputSpec"):
            values[key] = workflow.get(key)
        values["stages"] = values["stages"] or []
    return values


# -- edits (developers only) ---------------------------------------------------------------------------------
def update(ctx: Context, row: sqlite3.Row, inp: dict) -> None:
    """Metadata of an unpublished version; an app may also take a new applet (its spec, frozen anew)."""
    as_developer(ctx, row)
    if row["published"] is not None:
        raise InvalidState(f"{row['id']} is published; only an unpublished version can be updated")
    if row["deleted"]:
        raise InvalidState(f"{row['id']} is deleted")
    spec = spec_of(row)
    if row["class"] == "app" and "applet" in inp:
        applet_id = validate.entity_id(inp["applet"], "applet", {"applet"})
        applet, _ = objects.locate(ctx, applet_id, None, "VIEW")
        if applet["class"] != "applet":
            raise _not_found(applet_id)
        applet_spec = objects.applet_spec(ctx, applet_id)
        for key in ("dxapi", "runSpec", "inputSpec", "outputSpec"):
            spec.pop(key, None)
            if key in applet_spec:
                spec[key] = applet_spec[key]
        spec["applet"] = applet_id
        spec.setdefault("regionalOptions", {}).setdefault(ctx.settings.region, {})["applet"] = applet_id
    if row["class"] == "app":
        # runSpec, inputSpec, outputSpec and access as /applet/new checks them (never ignored when malformed).
        executable_checks.check(inp, run_spec_required=False)
        spec.update({key: inp[key] for key in ("runSpec", "inputSpec", "outputSpec", "access") if key in inp})
    if "regionalOptions" in inp:
        for region, options in _regional_options(ctx, inp["regionalOptions"], False).items():
            fixed = {"applet", "workflow"} & set(options)
            if fixed:
                raise InvalidInput(f'key "regionalOptions.{region}.{sorted(fixed)[0]}" of input cannot be changed by '
                                   "update: it is fixed when the version is made (make a new version instead)")
            spec.setdefault("regionalOptions", {}).setdefault(region, {}).update(options)
    spec = _common_fields(ctx, inp, spec)
    ctx.conn.execute("UPDATE global_executables SET spec = ?, modified = ? WHERE id = ?",
                     (dumps(spec), max(ctx.now, row["modified"]), row["id"]))


def delete(ctx: Context, row: sqlite3.Row) -> None:
    as_developer(ctx, row)
    ctx.conn.execute("DELETE FROM global_aliases WHERE id = ?", (row["id"],))
    ctx.conn.execute("UPDATE global_executables SET deleted = 1, modified = ? WHERE id = ?",
                     (max(ctx.now, row["modified"]), row["id"]))


def publish(ctx: Context, row: sqlite3.Row, inp: dict) -> None:
    make_default = validate.field(inp, "makeDefault", bool, default=False)
    as_developer(ctx, row)
    if row["deleted"]:
        raise InvalidState(f"{row['id']} is deleted and cannot be published")
    if row["published"] is not None:
        raise InvalidState(f"{row['id']} is already published")
    ctx.conn.execute("UPDATE global_executables SET published = ?, modified = ? WHERE id = ?",
                     (ctx.now, max(ctx.now, row["modified"]), row["id"]))
    if make_default:
        _point_alias(ctx, row, DEFAULT_ALIAS)


def _point_alias(ctx: Context, row: sqlite3.Row, alias: str) -> None:
    ctx.conn.execute("INSERT INTO global_aliases(class, name, alias, id) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(class, name, alias) DO UPDATE SET id = excluded.id",
                     (row["class"], row["name"], alias, row["id"]))


def edit_tags(ctx: Context, row: sqlite3.Row, inp: dict, add: bool) -> None:
    tags = check_tags(validate.field(inp, "tags", list, required=True))
    as_developer(ctx, row)
    if add and row["deleted"]:
        raise InvalidState(f"{row['id']} is deleted")
    for tag in tags:
        if add:
            _point_alias(ctx, row, tag)
        else:
            ctx.conn.execute("DELETE FROM global_aliases WHERE class = ? AND name = ? AND alias = ? AND id = ?",
                             (row["class"], row["name"], tag, row["id"]))
    _touch(ctx, row)


def edit_principals(ctx: Context, row: sqlite3.Row, inp: dict, role: str, add: bool) -> None:
    key = "developers" if role == DEVELOPER else "authorizedUsers"
    principals = check_principals(ctx, validate.field(inp, key, list, required=True), key,
                                  public=role == AUTHORIZED)
    as_developer(ctx, row)
    cls, name = row["class"], row["name"]
    for principal in principals:
        if add:
            ctx.conn.execute("INSERT OR IGNORE INTO global_principals(class, name, role, principal) "
                             "VALUES (?, ?, ?, ?)", (cls, name, role, principal))
        else:
            ctx.conn.execute("DELETE FROM global_principals WHERE class = ? AND name = ? AND role = ? AND "
                             "principal = ?", (cls, name, role, principal))
    if role == DEVELOPER and not _principals(ctx, cls, name, DEVELOPER):
        raise InvalidState(f"The {label(cls)} {name} would have no developer left; add another first")
    _touch(ctx, row)


def list_principals(ctx: Context, row: sqlite3.Row, role: str) -> list[str]:
    return _principals(ctx, row["class"], row["name"], role)


def edit_categories(ctx: Context, row: sqlite3.Row, inp: dict, add: bool) -> None:
    wanted = check_categories(validate.field(inp, "categories", list, required=True))
    as_developer(ctx, row)
    for category in wanted:
        if add:
            ctx.conn.execute("INSERT OR IGNORE INTO global_categories(id, category) VALUES (?, ?)",
                             (row["id"], category))
        else:
            ctx.conn.execute("DELETE FROM global_categories WHERE id = ? AND category = ?", (row["id"], category))
    _touch(ctx, row)


def set_installed(ctx: Context, row: sqlite3.Row, install: bool) -> None:
    if install:
        ctx.conn.execute("INSERT OR IGNORE INTO global_installs(class, name, user_id) VALUES (?, ?, ?)",
                         (row["class"], row["name"], ctx.user))
    else:
        ctx.conn.execute("DELETE FROM global_installs WHERE class = ? AND name = ? AND user_id = ?",
                         (row["class"], row["name"], ctx.user))


def runnable(row: sqlite3.Row) -> dict[str, Any]:
    """The spec to run (an app's applet spec, a global workflow's frozen workflow); a deleted version does not
    run (InvalidState)."""
    if row["deleted"]:
        raise InvalidState(f"{row['id']} is deleted and cannot be run")
    return spec_of(row)


def default_job_name(row: sqlite3.Row) -> str:
    """An app job's default name: the app's title, else its name (digest 3.2)."""
    return spec_of(row).get("title") or row["name"]


# -- findApps / findGlobalWorkflows --------------------------------------------------------------------------
Check = Callable[[sqlite3.Row], bool]


def _string_filter(inp: dict, key: str, pattern: re.Pattern | None = None) -> str | None:
    value = inp.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise InvalidInput(f'expected key "{key}" of input to be ' + ("a user ID" if pattern else "a string"))
    return value


def _filters(ctx: Context, cls: str, inp: dict) -> tuple[list[str], list[Any], list[Check]]:
    where, params, checks = ["g.class = ?", "g.deleted = 0"], [cls], []
    if "name" in inp:
        matches = query.name_matcher(inp["name"])
        checks.append(lambda row: matches(row["name"]))
    category = _string_filter(inp, "category")
    if category is not None:
        where.append("EXISTS (SELECT 1 FROM global_categories c WHERE c.id = g.id AND c.category = ?)")
        params.append(category)
    if not query.optional_bool(inp, "allVersions"):
        where.append("EXISTS (SELECT 1 FROM global_aliases a WHERE a.id = g.id AND a.alias = ?)")
        params.append(DEFAULT_ALIAS)
    published = query.optional_bool(inp, "published")
    if published is not None:
        where.append("g.published IS NOT NULL" if published else "g.published IS NULL")
    bill_to = query.string_or_strings(inp, "billTo")
    if bill_to is not None:
        checks.append(lambda row: spec_of(row).get("billTo", row["created_by"]) in bill_to)
    created_by = _string_filter(inp, "createdBy", USER_ID)
    if created_by is not None:
        where.append("g.created_by = ?")
        params.append(created_by)
    for key, role in (("developer", DEVELOPER), ("authorizedUser", AUTHORIZED)):
        principal = inp.get(key)
        if principal is None:
            continue
        if not isinstance(principal, str) or not (USER_ID.match(principal) or ORG_ID.match(principal)
                                                  or (role == AUTHORIZED and principal == PUBLIC)):
            raise InvalidInput(f'expected key "{key}" of input to be a user ID' +
                               (' or "PUBLIC"' if role == AUTHORIZED else ""))
        where.append("EXISTS (SELECT 1 FROM global_principals p WHERE p.class = g.class AND p.name = g.name "
                     "AND p.role = ? AND p.principal = ?)")
        params += [role, principal]
    is_installed = query.optional_bool(inp, "installed")
    if is_installed is not None:
        where.append(("" if is_installed else "NOT ") + "EXISTS (SELECT 1 FROM global_installs i WHERE "
                     "i.class = g.class AND i.name = g.name AND i.user_id = ?)")
        params.append(ctx.user)
    for key in ("created", "modified"):
        after, before = query.time_range(inp, key)
        if after is not None:
            where.append(f"g.{key} >= ?")
            params.append(after)
        if before is not None:
            where.append(f"g.{key} <= ?")
            params.append(before)
    return where, params, checks


def find(ctx: Context, cls: str, inp: dict, page_of: Callable[..., tuple[list, Any]]) -> dict[str, Any]:
    """Newest first (seq DESC); `next` is {"id": the first version of the following page} and `starting`
    resumes there, inclusively. `page_of(rows, checks, limit)` cuts the page within the request's budget."""
    where, params, checks = _filters(ctx, cls, inp)
    describe_input = query.describe_input(inp)
    if describe_input is not None:
        describe_options(describe_input)
    limit = query.limit(inp)
    start = query.starting(inp, ("id",))
    if start is not None:
        row = ctx.conn.execute("SELECT * FROM global_executables WHERE id = ? AND class = ?",
                               (start[0], cls)).fetchone()
        if row is None or not visible(ctx, row):
            raise InvalidInput('key "starting" of input is not the "next" value of an earlier answer')
        where.append("g.seq <= ?")
        params.append(row["seq"])
    rows = ctx.conn.execute(f"SELECT g.* FROM global_executables g WHERE {' AND '.join(where)} "
                            "ORDER BY g.seq DESC", params)
    page, following = page_of(rows, [lambda row: visible(ctx, row), *checks], limit)
    results = []
    for row in page:
        result: dict[str, Any] = {"id": row["id"]}
        if describe_input is not None:
            result["describe"] = describe(ctx, row, describe_input)
        results.append(result)
    return {"results": results, "next": None if following is None else {"id": following["id"]}}
