"""Analyses: /analysis-xxxx/describe and terminate (addTags, removeTags, setProperties: handlers/jobs.py,
which serves them for both kinds of execution).

The rules live in analyses.py (EXECUTABLES-DIGEST 5.4); this module reads inputs and hands them over.
"""

from __future__ import annotations

from typing import Any

from .. import analyses, executions
from ..context import Context
from . import route


@route("/analysis-xxxx/describe")
def describe(ctx: Context, inp: dict) -> dict[str, Any]:
    executions.describe_options(inp)
    return analyses.describe_analysis(ctx, analyses.visible_analysis(ctx, ctx.subject), inp)


@route("/analysis-xxxx/terminate")
def terminate(ctx: Context, inp: dict) -> dict[str, str]:
    analyses.terminate(ctx, ctx.subject)
    return {"id": ctx.subject}
