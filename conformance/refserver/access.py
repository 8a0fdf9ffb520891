"""Who may do what: project permission levels, enforced the same way on every route."""

from __future__ import annotations

import sqlite3

from .context import Context
from .errors import PermissionDenied, ResourceNotFound

LEVELS = ("NONE", "VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
RANK = {name: i for i, name in enumerate(LEVELS)}


def level_of(ctx: Context, container_id: str, user: str | None = None) -> str:
    """The caller's level on a container ("NONE" when none or when the container does not exist)."""
    row = ctx.conn.execute(
        "SELECT level FROM members WHERE container_id = ? AND member_id = ?",
        (container_id, user or ctx.member),
    ).fetchone()
    return row["level"] if row else "NONE"


def container(ctx: Context, container_id: str, need: str = "VIEW") -> sqlite3.Row:
    """The container row, if the caller holds at least `need` on it.

    A container the caller cannot even VIEW is reported as ResourceNotFound (its existence is not
    revealed); one it can see but with too low a level is PermissionDenied.
    """
    row = ctx.conn.execute("SELECT * FROM containers WHERE id = ?", (container_id,)).fetchone()
    have = level_of(ctx, container_id) if row else "NONE"
    if row is None or have == "NONE":
        raise ResourceNotFound(f'The entity {container_id} could not be found')
    if RANK[have] < RANK[need]:
        raise PermissionDenied(f"{need} permission required in {container_id} to perform this action")
    return row
