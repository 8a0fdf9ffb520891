"""Deliberate faults that edit the store around a handler: closing, clone, removeObjects, permission levels.

Registered into FAULTS on import (the package imports every fault module). Each wraps the handler
of a few routes and changes the store (inside the request's transaction) before or after it runs; the
handlers themselves know nothing of them. Each breaks exactly one documented rule.
"""

from __future__ import annotations

from typing import Any

from .. import objects
from ..ids import new_id
from .helpers import call_with_view, level_acts_as
from .registry import Fault, Handler, fault

# A closing moment that never comes (ms since the epoch, far beyond any clock).
NEVER_MS = 2**62


def _never_closed(handler: Handler) -> Handler:
    """The file goes to `closing` as it should, but its closing moment never comes."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        ctx.conn.execute("UPDATE objects SET closed_at = ? WHERE id = ? AND state = 'closing'",
                         (NEVER_MS, ctx.subject))
        return out

    return wrapped


def _copies_in(ctx, container_id: Any) -> set[str]:
    if not isinstance(container_id, str):
        return set()
    return {r["object_id"] for r in ctx.conn.execute("SELECT object_id FROM copies WHERE container_id = ?",
                                                     (container_id,))}


def _renumber(ctx, old_id: str, container_id: str) -> None:
    """The copy of `old_id` in `container_id` becomes a distinct object with a new ID (same data, parts)."""
    row = ctx.conn.execute("SELECT * FROM objects WHERE id = ?", (old_id,)).fetchone()
    fresh = new_id(row["class"])
    columns = list(row.keys())
    ctx.conn.execute(f"INSERT INTO objects({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [fresh if c == "id" else row[c] for c in columns])
    ctx.conn.execute("INSERT INTO parts(file_id, idx, size, md5, state, data) "
                     "SELECT ?, idx, size, md5, state, data FROM parts WHERE file_id = ?", (fresh, old_id))
    ctx.conn.execute("UPDATE copies SET object_id = ? WHERE object_id = ? AND container_id = ?",
                     (fresh, old_id, container_id))


def _clone_renumbers(handler: Handler) -> Handler:
    """Every copy the clone made in the destination gets a new object ID."""

    def wrapped(ctx, inp):
        target = inp.get("project") if isinstance(inp, dict) else None
        before = _copies_in(ctx, target)
        out = handler(ctx, inp)
        for object_id in sorted(_copies_in(ctx, target) - before):
            _renumber(ctx, object_id, target)
        return out

    return wrapped


def _removes_everywhere(handler: Handler) -> Handler:
    """After removing the objects from this project, remove them from every other project that holds them."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        wanted = [o for o in inp.get("objects", []) if isinstance(o, str)] if isinstance(inp, dict) else []
        for object_id in wanted:
            for row in ctx.conn.execute("SELECT container_id FROM copies WHERE object_id = ?",
                                        (object_id,)).fetchall():
                objects.delete_copies(ctx, row["container_id"], [object_id])
        return out

    return wrapped


def _readable_without_access(handler: Handler) -> Handler:
    """A caller with no membership of the project in the URL gets VIEW for the length of the call."""

    def wrapped(ctx, inp):
        return call_with_view(ctx, ctx.user, handler, inp)

    return wrapped


_CONTAINERS = ("project", "container")
_ADMINISTER_ROUTES = ("/project-xxxx/invite", "/project-xxxx/decreasePermissions", "/project-xxxx/destroy",
                      "/project-xxxx/update", *(f"/{c}-xxxx/{m}" for c in _CONTAINERS
                                                for m in ("removeObjects", "removeFolder", "move", "renameFolder")))

fault(Fault("closing-never-ends", "semantics", "a closing file becomes closed (close finishes)",
            routes=("/file-xxxx/close",), wrap=_never_closed))
fault(Fault("clone-changes-id", "semantics", "a cloned object keeps its ID in the destination project",
            routes=tuple(f"/{c}-xxxx/clone" for c in _CONTAINERS), wrap=_clone_renumbers))
fault(Fault("remove-objects-from-every-project", "semantics",
            "removeObjects removes the objects from this project only; other projects' copies stay",
            routes=tuple(f"/{c}-xxxx/removeObjects" for c in _CONTAINERS), wrap=_removes_everywhere))
fault(Fault("contribute-acts-as-administer", "auth",
            "a CONTRIBUTE member cannot do what needs ADMINISTER (invite, destroy, protected data)",
            routes=_ADMINISTER_ROUTES, wrap=level_acts_as("CONTRIBUTE", "ADMINISTER")))
fault(Fault("project-readable-without-access", "auth",
            "a user with no access to a project cannot describe or list it",
            routes=("/project-xxxx/describe", "/project-xxxx/listFolder"), wrap=_readable_without_access))
