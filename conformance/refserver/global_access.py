"""Who may see a version of an app or global workflow: its developers, and once published its authorized users.

One rule, used by global_executables.py (the routes of apps and global workflows) and workflow_store.py (whether
a stage's app is `accessible`). Facts: EXECUTABLES-DIGEST 7 (unpublished apps are visible only to developers; the
first creator becomes sole developer); "PUBLIC" as an authorized user is everyone.
"""

from __future__ import annotations

import sqlite3

from .context import Context

PUBLIC = "PUBLIC"
# global_principals.role values
DEVELOPER, AUTHORIZED = "developer", "authorized"


def is_developer(ctx: Context, cls: str, name: str, user: str | None = None) -> bool:
    return ctx.conn.execute("SELECT 1 FROM global_principals WHERE class = ? AND name = ? AND role = ? AND "
                            "principal = ?", (cls, name, DEVELOPER, user or ctx.user)).fetchone() is not None


def visible(ctx: Context, row: sqlite3.Row) -> bool:
    """Developers see every version of their name; others a published version they are authorized for."""
    if is_developer(ctx, row["class"], row["name"]):
        return True
    if row["published"] is None:
        return False
    return ctx.conn.execute(
        "SELECT 1 FROM global_principals WHERE class = ? AND name = ? AND role = ? AND principal IN (?, ?)",
        (row["class"], row["name"], AUTHORIZED, ctx.user, PUBLIC)).fetchone() is not None
