"""Apps and global workflows: /app/new, /globalworkflow/new and their instance routes, findApps, findGlobalWorkflows.

Every instance route takes its subject as app.py resolves it: an ID (`app-xxxx`), a name (`app-<name>`: its
"default" alias) or a name with a version or alias (`app-<name>/<alias>`); the rules live in
global_executables.py, one code path for both classes. Sources: EXECUTABLES-DIGEST 1, 3 and 7.
"""

from __future__ import annotations

from typing import Any

from .. import analyses, batch_inputs, executions
from .. import global_executables as gx
from ..context import Context
from ..errors import ResourceNotFound
from . import route
from .search import page_of


def _row(ctx: Context, cls: str):
    return gx.resolve(ctx, cls, ctx.subject)


def _id(row) -> dict[str, str]:
    return {"id": row["id"]}


# -- creation ----------------------------------------------------------------------------------------------
@route("/app/new", accepts_nonce=True)
def app_new(ctx: Context, inp: dict) -> dict[str, str]:
    return {"id": gx.new_app(ctx, inp)}


@route("/globalworkflow/new", accepts_nonce=True)
def globalworkflow_new(ctx: Context, inp: dict) -> dict[str, str]:
    return {"id": gx.new_globalworkflow(ctx, inp)}


# -- both classes: /app-xxxx/<m> and /globalworkflow-xxxx/<m> ------------------------------------------------
def _both(method: str, *, accepts_nonce: bool = False):
    """Register one handler (ctx, cls, inp) for /app-xxxx/<method> and /globalworkflow-xxxx/<method>."""

    def register(fn):
        for cls in gx.CLASSES:
            route(f"/{cls}-xxxx/{method}", accepts_nonce=accepts_nonce)(
                lambda ctx, inp, cls=cls: fn(ctx, cls, inp))
        return fn

    return register


@_both("describe")
def describe(ctx: Context, cls: str, inp: dict) -> dict[str, Any]:
    gx.describe_options(inp)
    return gx.describe(ctx, _row(ctx, cls), inp)


@_both("update")
def update(ctx: Context, cls: str, inp: dict) -> dict[str, str]:
    row = _row(ctx, cls)
    gx.update(ctx, row, inp)
    return _id(row)


@_both("delete")
def delete(ctx: Context, cls: str, inp: dict) -> dict[str, str]:
    row = _row(ctx, cls)
    gx.delete(ctx, row)
    return _id(row)


@_both("publish")
def publish(ctx: Context, cls: str, inp: dict) -> dict[str, str]:
    row = _row(ctx, cls)
    gx.publish(ctx, row, inp)
    return _id(row)


def _add_and_remove(method_part: str, edit) -> None:
    """/add<part> and /remove<part> of both classes: `edit(ctx, row, inp, add=...)` on the resolved row."""
    for verb, add in (("add", True), ("remove", False)):
        def handler(ctx: Context, cls: str, inp: dict, add: bool = add) -> dict[str, str]:
            row = _row(ctx, cls)
            edit(ctx, row, inp, add=add)
            return _id(row)

        _both(f"{verb}{method_part}")(handler)


_add_and_remove("Tags", gx.edit_tags)
_add_and_remove("Categories", gx.edit_categories)


def _principal_routes(method_part: str, key: str, role: str) -> None:
    def edit(ctx: Context, row, inp: dict, add: bool) -> None:
        gx.edit_principals(ctx, row, inp, role, add=add)

    def list_(ctx: Context, cls: str, inp: dict) -> dict[str, list[str]]:
        return {key: gx.list_principals(ctx, _row(ctx, cls), role)}

    _add_and_remove(method_part, edit)
    _both(f"list{method_part}")(list_)


_principal_routes("Developers", "developers", gx.DEVELOPER)
_principal_routes("AuthorizedUsers", "authorizedUsers", gx.AUTHORIZED)


@_both("listCategories")
def list_categories(ctx: Context, cls: str, inp: dict) -> dict[str, list[str]]:
    return {"categories": gx.categories(ctx, _row(ctx, cls)["id"])}


# -- apps only -----------------------------------------------------------------------------------------------
@route("/app-xxxx/get")
def app_get(ctx: Context, inp: dict) -> dict[str, Any]:
    """The full app: every describe field, details, and runSpec with its code."""
    row = _row(ctx, "app")
    return gx.describe(ctx, row, {"fields": {k: True for k in gx.EXTRA_KEYS}, "defaultFields": True},
                       with_code=True)


@route("/app-xxxx/install")
def app_install(ctx: Context, inp: dict) -> dict[str, str]:
    row = _row(ctx, "app")
    gx.set_installed(ctx, row, True)
    return _id(row)


@route("/app-xxxx/uninstall")
def app_uninstall(ctx: Context, inp: dict) -> dict[str, str]:
    row = _row(ctx, "app")
    gx.set_installed(ctx, row, False)
    return _id(row)


@route("/app-xxxx/validateBatch")
def app_validate_batch(ctx: Context, inp: dict) -> dict[str, list[dict[str, Any]]]:
    """As /applet-xxxx/validateBatch, against the app's inputSpec: {"expandedBatch": [input, ...]}."""
    return batch_inputs.expand(gx.spec_of(_row(ctx, "app")).get("inputSpec"), inp)


@route("/app-xxxx/run", accepts_nonce=True)
def app_run(ctx: Context, inp: dict) -> dict[str, str]:
    row = _row(ctx, "app")
    spec = gx.runnable(row)
    return {"id": executions.run_executable(ctx, row["id"], spec, inp, default_name=gx.default_job_name(row))}


@route("/globalworkflow-xxxx/run", accepts_nonce=True)
def globalworkflow_run(ctx: Context, inp: dict) -> dict[str, Any]:
    row = _row(ctx, "globalworkflow")
    spec = gx.runnable(row)
    return analyses.run_spec(ctx, row["id"], spec["workflow"], inp)


# -- searches ------------------------------------------------------------------------------------------------
@route("/system/findApps")
def find_apps(ctx: Context, inp: dict) -> dict[str, Any]:
    return gx.find(ctx, "app", inp, page_of)


@route("/system/findGlobalWorkflows")
def find_global_workflows(ctx: Context, inp: dict) -> dict[str, Any]:
    return gx.find(ctx, "globalworkflow", inp, page_of)


@route("/org-xxxx/findApps")
def org_find_apps(ctx: Context, inp: dict) -> dict[str, Any]:
    raise ResourceNotFound(f"The entity {ctx.subject} could not be found (this server has no orgs)")
