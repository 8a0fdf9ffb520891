"""/system/findDataObjects, findProjects, describeDataObjects, describeProjects, resolveDataObjects.

Paging (findDataObjects, findProjects): results come in a stable total order and `next` names the first
result of the following page; `starting` resumes there, inclusively. findDataObjects orders by (project ID,
object ID): results of one project stay grouped as the docs say, but inside a project the order is by ID,
not by descending `modified` -- `modified` changes between pages, so ordering by it could skip or repeat
objects, and the brief prefers stable paging. Because `next` is {project, id} (the shape real clients type
it as) and the order compares values, paging neither skips nor repeats an object when others are created
or removed between pages. findProjects orders by project ID and `next` is {id}. `sortBy` is not
implemented (ignored like any unknown key). `limit` is clamped to 1000 (query.MAX_LIMIT).

Bulk describes: bad input (including bad describe options) fails the whole call with InvalidInput; an item
that cannot be described (missing, or not visible to the caller) carries `error` instead of `describe`.
The paging and SQL helpers (page_of, range_clause, in_clause, item_error) serve execution_search.py too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from .. import access, budget, containers, objects, query
from ..context import Context
from ..db import loads
from ..errors import DXError, InvalidInput, ResourceNotFound
from ..ids import DATA_OBJECT_CLASSES, id_class
from ..validate import entity_id, normalize_folder
from . import route

# describeDataObjects / describeProjects / resolveDataObjects take at most this many items (the docs'
# limit for describeDataObjects; dxpy batches resolveDataObjects by 1000 too).
MAX_ITEMS = 1000
CONTAINER_CLASSES = objects.CONTAINER_CLASSES
# findProjects without `level` counts only projects where the caller holds CONTRIBUTE or more (dxpy's
# find_projects docstring states this default of the API method).
FIND_PROJECTS_DEFAULT_LEVEL = "CONTRIBUTE"
_PUBLIC_GRANT = "EXISTS (SELECT 1 FROM members p WHERE p.container_id = k.id AND p.member_id = 'PUBLIC')"

Check = Callable[[sqlite3.Row], bool]


def page_of(rows: Iterable[sqlite3.Row], checks: list[Check], limit: int) -> tuple[list[sqlite3.Row],
                                                                                     sqlite3.Row | None]:
    """Up to `limit` rows passing every check, and the next passing row (the start of the next page).
    Stops with the request's time budget (budget.py), however many rows fail the checks."""
    page: list[sqlite3.Row] = []
    own = budget.current()
    for row in rows:
        own.check()
        if all(check(row) for check in checks):
            if len(page) == limit:
                return page, row
            page.append(row)
    return page, None


# SQLite integers are 64-bit: a bound beyond them is clamped (same matches: no timestamp lies out there).
_SQLITE_INT_MIN, _SQLITE_INT_MAX = -(2**63), 2**63 - 1


def range_clause(column: str, bounds: tuple[int | None, int | None]) -> tuple[list[str], list[Any]]:
    after, before = bounds
    where, params = [], []
    if after is not None:
        where.append(f"{column} >= ?")
        params.append(min(max(after, _SQLITE_INT_MIN), _SQLITE_INT_MAX))
    if before is not None:
        where.append(f"{column} <= ?")
        params.append(min(max(before, _SQLITE_INT_MIN), _SQLITE_INT_MAX))
    return where, params


def in_clause(column: str, values: Iterable[str]) -> tuple[str, list[str]]:
    """`column IN (...)` over `values`; one JSON parameter for a long list (SQLite allows 250,000 at most)."""
    values = list(values)
    if not values:
        return "0", []
    if len(values) > 100:
        return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(values)]
    return f"{column} IN ({','.join('?' * len(values))})", values


# -- findDataObjects -------------------------------------------------------------------------------------
def _object_filters(ctx: Context, inp: dict) -> tuple[list[str], list[Any], list[Check]]:
    """The input's filters as SQL conditions (over copies c, objects o, containers k, members m) and Python
    checks (name, tags, types, properties, link) over the joined row."""
    where: list[str] = []
    params: list[Any] = []
    checks: list[Check] = []

    minimum = query.level(inp, "VIEW")
    clause, values = in_clause("m.level", query.levels_at_least(minimum))
    where.append(clause)
    params += values

    cls = inp.get("class")
    if cls is not None:
        if not isinstance(cls, str) or cls not in DATA_OBJECT_CLASSES:
            raise InvalidInput('expected key "class" of input to be one of ' + ", ".join(sorted(DATA_OBJECT_CLASSES)))
        where.append("o.class = ?")
        params.append(cls)
    state = query.choice(inp, "state", query.OBJECT_STATES, "any")
    if state != "any":
        where.append("o.state = ?")
        params.append(state)
    visibility = query.choice(inp, "visibility", query.VISIBILITIES, "visible")
    if visibility != "either":
        where.append("o.hidden = ?")
        params.append(1 if visibility == "hidden" else 0)

    ids = inp.get("id")
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidInput('expected key "id" of input to be an array of object IDs')
        clause, values = in_clause("c.object_id", ids)
        where.append(clause)
        params += values

    scope = query.scope(inp)
    if scope is not None:
        entity_id(scope.project, "scope.project", CONTAINER_CLASSES)
        access.container(ctx, scope.project, "VIEW")  # ResourceNotFound for a project the caller cannot see
        where.append("c.container_id = ?")
        params.append(scope.project)
        clause, values = query.folder_clause("c.folder", scope.folder, scope.recurse)
        where.append(clause)
        params += values

    for key, column in (("created", "o.created"), ("modified", "max(o.modified, c.modified)")):
        clauses, values = range_clause(column, query.time_range(inp, key))
        where += clauses
        params += values

    regions = query.string_or_strings(inp, "region")
    if regions is not None:
        clause, values = in_clause("k.region", regions)
        where.append(clause)
        params += values
    archival = query.choice(inp, "archivalState", query.ARCHIVAL_STATES)
    if archival not in (None, "any"):
        # Nothing is ever archived here: every file is "live"; records have no archival state.
        where.append("o.class = 'file'" if archival == "live" else "0")

    if "name" in inp:
        matches_name = query.name_matcher(inp["name"])
        checks.append(lambda row: matches_name(row["name"]))
    for key in ("tags", "tag"):
        if key in inp:
            matches_tags = query.set_matcher(inp[key], key)
            checks.append(lambda row, m=matches_tags: m(loads(row["tags"])))
    if "type" in inp:
        matches_types = query.set_matcher(inp["type"], "type")
        checks.append(lambda row: matches_types(loads(row["types"])))
    if "properties" in inp:
        matches_props = query.properties_matcher(inp["properties"])
        checks.append(lambda row: matches_props(loads(row["properties"])))
    if "link" in inp:
        target = inp["link"]
        if not isinstance(target, str) or id_class(target) is None:
            raise InvalidInput('expected key "link" of input to be an object ID')
        checks.append(lambda row: target in loads(row["links"]))
    return where, params, checks


@route("/system/findDataObjects")
def find_data_objects(ctx: Context, inp: dict) -> dict:
    where, params, checks = _object_filters(ctx, inp)
    describe = query.describe_input(inp)
    if describe is not None:
        objects.describe_options(describe)  # bad describe input fails even when nothing matches
    limit = query.limit(inp)
    start = query.starting(inp, ("project", "id"))
    if start is not None:
        where.append("(c.container_id, c.object_id) >= (?, ?)")
        params += list(start)
    rows = ctx.conn.execute(
        "SELECT c.object_id, c.container_id, c.name, c.tags, c.properties, o.types, o.links "
        "FROM copies c JOIN objects o ON o.id = c.object_id "
        "JOIN containers k ON k.id = c.container_id "
        "JOIN members m ON m.container_id = c.container_id AND m.member_id = ? "
        f"WHERE {' AND '.join(where) or '1'} ORDER BY c.container_id, c.object_id",
        [ctx.member, *params],
    )
    page, following = page_of(rows, checks, limit)
    results = []
    for row in page:
        result: dict[str, Any] = {"project": row["container_id"], "id": row["object_id"]}
        if describe is not None:
            result["describe"] = objects.describe_object(ctx, row["object_id"], row["container_id"], describe)
        results.append(result)
    next_ = None if following is None else {"project": following["container_id"], "id": following["object_id"]}
    return {"results": results, "next": next_}


# -- findProjects ----------------------------------------------------------------------------------------
def _project_filters(inp: dict) -> tuple[list[str], list[Any], list[Check]]:
    """findProjects filters as SQL over containers k, members m, and checks over the container row."""
    where: list[str] = ["k.class = 'project'"]
    params: list[Any] = []
    checks: list[Check] = []
    clause, values = in_clause("m.level", query.levels_at_least(query.level(inp, FIND_PROJECTS_DEFAULT_LEVEL)))
    where.append(clause)
    params += values
    clauses, values = range_clause("k.created", query.time_range(inp, "created"))
    where += clauses
    params += values
    for key, column in (("billTo", "k.bill_to"), ("region", "k.region")):
        wanted = query.string_or_strings(inp, key)
        if key == "billTo" and wanted is not None and not all(w.startswith(("user-", "org-")) for w in wanted):
            raise InvalidInput('expected key "billTo" of input to be user or org IDs')
        if wanted is not None:
            clause, values = in_clause(column, wanted)
            where.append(clause)
            params += values
    # Every membership row is an explicit grant (no orgs here), so explicitPermission: false keeps nothing.
    # A project is public when PUBLIC holds a grant on it (/project-xxxx/invite {"invitee": "PUBLIC"}); only
    # projects the caller is a member of are searched, as the server grants nothing through PUBLIC.
    if query.optional_bool(inp, "explicitPermission") is False:
        where.append("0")
    public = query.optional_bool(inp, "public")
    if public is not None:
        where.append(("" if public else "NOT ") + _PUBLIC_GRANT)
    for flag in ("containsPHI", "externalUploadRestricted"):
        wanted_flag = query.optional_bool(inp, flag)
        if wanted_flag is not None:
            checks.append(lambda row, f=flag, w=wanted_flag: bool(loads(row["flags"]).get(f, False)) == w)

    checks += metadata_checks(inp)
    return where, params, checks


def metadata_checks(inp: dict) -> list[Check]:
    """The `name`, `tags` and `properties` filters as checks over a row with name, tags and properties columns
    (JSON): projects, jobs."""
    checks: list[Check] = []
    if "name" in inp:
        matches_name = query.name_matcher(inp["name"])
        checks.append(lambda row: matches_name(row["name"]))
    if "tags" in inp:
        matches_tags = query.set_matcher(inp["tags"], "tags")
        checks.append(lambda row: matches_tags(loads(row["tags"])))
    if "properties" in inp:
        matches_props = query.properties_matcher(inp["properties"])
        checks.append(lambda row: matches_props(loads(row["properties"])))
    return checks


@route("/system/findProjects", public_token=True)
def find_projects(ctx: Context, inp: dict) -> dict:
    where, params, checks = _project_filters(inp)
    describe = query.describe_input(inp)
    if describe is not None:
        _check_project_options(describe)  # bad describe input fails even when nothing matches
    limit = query.limit(inp)
    start = query.starting(inp, ("id",))
    if start is not None:
        where.append("k.id >= ?")
        params.append(start[0])
    rows = ctx.conn.execute(
        f"SELECT k.id, k.name, k.tags, k.properties, k.flags, m.level, {_PUBLIC_GRANT} AS public "
        "FROM containers k "
        "JOIN members m ON m.container_id = k.id AND m.member_id = ? "
        f"WHERE {' AND '.join(where)} ORDER BY k.id",
        [ctx.member, *params],
    )
    page, following = page_of(rows, checks, limit)
    results = []
    for row in page:
        # As the platform answers (real traffic): `public` always, and the principals the level comes through
        # (here always the caller's own membership).
        result: dict[str, Any] = {"id": row["id"], "level": row["level"], "permissionSources": [ctx.member],
                                  "public": bool(row["public"])}
        if describe is not None:
            result["describe"] = containers.describe_container(ctx, row["id"], describe)
        results.append(result)
    return {"results": results, "next": None if following is None else {"id": following["id"]}}


# -- bulk describe ---------------------------------------------------------------------------------------
def _items(inp: dict, key: str, classes: frozenset[str]) -> list[tuple[str, str | None, Any]]:
    """`objects` / `projects`: up to MAX_ITEMS items, each an ID or {id, project?, describe?}; returns
    (id, project hint, own describe input or None)."""
    value = inp.get(key)
    if not isinstance(value, list):
        raise InvalidInput(f'expected input to have key "{key}" with an array as value')
    if len(value) > MAX_ITEMS:
        raise InvalidInput(f'key "{key}" of input may list at most {MAX_ITEMS} items')
    items = []
    for item in value:
        if isinstance(item, str):
            items.append((entity_id(item, f"{key}[]", classes), None, None))
            continue
        if not isinstance(item, dict):
            raise InvalidInput(f'expected each item of "{key}" to be an ID or a hash with key "id"')
        item_id = entity_id(item.get("id"), f"{key}[].id", classes)
        project = item.get("project")
        if project is not None:
            project = entity_id(project, f"{key}[].project", CONTAINER_CLASSES)
        own = item.get("describe")
        if own is not None and not isinstance(own, (bool, dict)):
            raise InvalidInput(f'expected key "{key}[].describe" of input to be a boolean or a hash')
        items.append((item_id, project, own))
    return items


def _as_options(value: Any, key: str) -> dict:
    """A describe input given as a mapping or `true` (empty options)."""
    if value is True:
        return {}
    if isinstance(value, dict):
        return value
    raise InvalidInput(f'expected key "{key}" of input to be a hash or true')


def _check_project_options(options: dict) -> dict:
    """Project describe options checked up front, so bad options fail the call even for unseen projects."""
    fields = options.get("fields")
    if fields is not None and (not isinstance(fields, dict) or
                               not all(isinstance(v, bool) for v in fields.values())):
        raise InvalidInput('expected key "fields" of the describe input to be a hash of booleans')
    for key in ("defaultFields", *containers.OLD_STYLE_OPTIONS):
        if key in options and not isinstance(options[key], bool):
            raise InvalidInput(f'expected key "{key}" of the describe input to be a boolean')
    return options


def item_error(exc: DXError) -> dict:
    # The per-item error mirrors the envelope's inner object; precisionFDA types a statusCode beside it.
    return {"error": {"type": exc.type, "message": exc.message}, "statusCode": exc.status}


@route("/system/describeDataObjects")
def describe_data_objects(ctx: Context, inp: dict) -> dict:
    items = _items(inp, "objects", DATA_OBJECT_CLASSES)
    by_class = inp.get("classDescribeOptions", {})
    if not isinstance(by_class, dict):
        raise InvalidInput('expected key "classDescribeOptions" of input to be a hash')
    by_class = {cls: _as_options(v, f"classDescribeOptions.{cls}") for cls, v in by_class.items()}
    for options in by_class.values():
        objects.describe_options(options)  # bad options fail the call even for a class no item has
    results = []
    for object_id, project, own in items:
        # Priority (docs): the item's own describe, then its class's options, then "*", then {}.
        if own not in (None, False):
            options = _as_options(own, "objects[].describe")
        else:
            options = by_class.get(id_class(object_id), by_class.get("*", {}))
        objects.describe_options(options)  # bad options fail the whole call, as for a single describe
        hint = project or (options.get("project") if isinstance(options.get("project"), str) else None)
        try:
            _, container_id = objects.locate(ctx, object_id, hint, "VIEW")
            results.append({"describe": objects.describe_object(ctx, object_id, container_id, options)})
        except InvalidInput:
            raise
        except DXError as exc:
            results.append(item_error(exc))
    return {"results": results}


@route("/system/describeProjects")
def describe_projects(ctx: Context, inp: dict) -> dict:
    """`projects`: IDs (or {id, describe?}); `describe`: the describe input for all (default {})."""
    items = _items(inp, "projects", CONTAINER_CLASSES)
    common = _check_project_options(_as_options(inp.get("describe", True), "describe"))
    results = []
    for container_id, _, own in items:
        options = common
        if own not in (None, False):
            options = _check_project_options(_as_options(own, "projects[].describe"))
        try:
            results.append({"describe": containers.describe_container(ctx, container_id, options)})
        except InvalidInput:
            raise
        except DXError as exc:
            results.append(item_error(exc))
    return {"results": results}


# -- resolveDataObjects ----------------------------------------------------------------------------------
@route("/system/resolveDataObjects")
def resolve_data_objects(ctx: Context, inp: dict) -> dict:
    """Names -> objects: each item {name, project?, folder?} (defaults from the top-level `project` and
    `folder`, folder "/"), matched exactly on name and folder (no recursion), hidden objects included.
    Each result is the list of {project, id} found (possibly empty), in creation order. A project the caller
    cannot see (or that does not exist) fails the call with ResourceNotFound, as the platform answers (real
    traffic: stor TestExists::test_false_mixed_path exchange 13)."""
    top_project = inp.get("project")
    if top_project is not None:
        entity_id(top_project, "project", CONTAINER_CLASSES)
    top_folder = normalize_folder(inp.get("folder", "/"))
    value = inp.get("objects")
    if not isinstance(value, list):
        raise InvalidInput('expected input to have key "objects" with an array as value')
    if len(value) > MAX_ITEMS:
        raise InvalidInput(f'key "objects" of input may list at most {MAX_ITEMS} items')
    wanted = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInput('expected each item of "objects" to be a hash with a string "name"')
        project = item.get("project", top_project)
        if project is None:
            raise InvalidInput('each item of "objects" needs a "project", or the input a top-level "project"')
        entity_id(project, "objects[].project", CONTAINER_CLASSES)
        folder = normalize_folder(item["folder"], "objects[].folder") if "folder" in item else top_folder
        wanted.append((item["name"], project, folder))
    for project in dict.fromkeys(project for _, project, _ in wanted):
        if access.level_of(ctx, project) == "NONE":
            raise ResourceNotFound(f"The entity {project} could not be found")
    results = []
    for name, project, folder in wanted:
        rows = ctx.conn.execute(
            "SELECT object_id FROM copies WHERE container_id = ? AND folder = ? AND name = ? ORDER BY seq",
            (project, folder, name))
        results.append([{"project": project, "id": r["object_id"]} for r in rows])
    return {"results": results}
