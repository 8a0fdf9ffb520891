"""Folder tree operations inside one container: direct subfolders, moving a subtree (within the limits)."""

from __future__ import annotations

from .containers import folder_exists, subtree_like
from .context import Context
from .errors import InvalidState
from .validate import check_folder_limits


def subfolders(ctx: Context, container_id: str, path: str) -> list[str]:
    """Full paths of the direct subfolders of `path`, sorted."""
    prefix = "/" if path == "/" else path + "/"
    rows = ctx.conn.execute("SELECT path FROM folders WHERE container_id = ? AND path LIKE ? ESCAPE '\\'",
                            (container_id, subtree_like(path)))
    # For '/', the pattern '/%' also matches '/' itself.
    return sorted(p for p in (r["path"] for r in rows) if p != path and "/" not in p[len(prefix):])


def subtree(ctx: Context, container_id: str, path: str) -> list[str]:
    """`path` and every folder below it, sorted."""
    rows = ctx.conn.execute(
        "SELECT path FROM folders WHERE container_id = ? AND (path = ? OR path LIKE ? ESCAPE '\\') ORDER BY path",
        (container_id, path, subtree_like(path)))
    return [r["path"] for r in rows]


def rebase(path: str, old: str, new: str) -> str:
    """`path` (equal to or below `old`) re-rooted at `new`; '/' as `old` means its contents go into `new`."""
    if old == "/":
        return new if path == "/" else new.rstrip("/") + path
    return new + path[len(old):]


def move_tree(ctx: Context, container_id: str, source: str, target: str) -> None:
    """Move folder `source` with everything below it to the path `target` (whose parent exists).

    InvalidState if `target` already exists: folders are never merged by a move or a rename.
    """
    if folder_exists(ctx, container_id, target):
        raise InvalidState(f"A folder {target!r} already exists in {container_id}")
    paths = subtree(ctx, container_id, source)
    for path in paths:
        check_folder_limits(rebase(path, source, target), "destination")
    below = subtree_like(source)
    for table, column in (("folders", "path"), ("copies", "folder")):
        ctx.conn.execute(
            f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
            f"WHERE container_id = ? AND ({column} = ? OR {column} LIKE ? ESCAPE '\\')",
            (target, len(source) + 1, container_id, source, below))
    ctx.conn.execute(
        "UPDATE copies SET modified = ? WHERE container_id = ? AND (folder = ? OR folder LIKE ? ESCAPE '\\')",
        (ctx.now, container_id, target, subtree_like(target)))
