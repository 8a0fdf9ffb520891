"""Building blocks of faults, shared by the fault modules: route lists, answer and header rewrites, handler
wrappers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .registry import Handler

DATA_CLASSES = ("file", "record")


def data_routes(*methods: str, classes: tuple[str, ...] = DATA_CLASSES) -> tuple[str, ...]:
    """The instance route keys of `methods` on the data object classes (file, record)."""
    return tuple(f"/{cls}-xxxx/{m}" for m in methods for cls in classes)


def json_body_rewrite(fn: Callable[[int, Any], Any], statuses=range(200, 300)):
    """A response rewrite that edits the parsed JSON of answers whose status is in `statuses`."""

    def rewrite(status, headers, body):
        if status not in statuses:
            return status, headers, body
        try:
            data = json.loads(body)
        except ValueError:
            return status, headers, body
        return status, headers, json.dumps(fn(status, data)).encode()

    return rewrite


def set_header(headers: list, name: bytes, value: bytes | None) -> list:
    out = [(k, v) for k, v in headers if k != name]
    if value is not None:
        out.append((name, value))
    return out


def wrap_input(fn: Callable[[Any], Any]) -> Callable[[Handler], Handler]:
    """Wrap a handler so that it sees `fn(input)` instead of its input."""
    return lambda handler: (lambda ctx, inp: handler(ctx, fn(inp)))


def wrap_output(fn: Callable[[Any], Any]) -> Callable[[Handler], Handler]:
    """Wrap a handler so that the client sees `fn(output)`."""
    return lambda handler: (lambda ctx, inp: fn(handler(ctx, inp)))


def parses(body: bytes) -> bool:
    """Whether `body` is valid JSON."""
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def level_acts_as(held: str, acting: str) -> Callable[[Handler], Handler]:
    """For the length of one call, the caller's `held` memberships count as `acting` (a level not enforced)."""

    def wrap(handler: Handler) -> Handler:
        def wrapped(ctx, inp):
            rows = ctx.conn.execute("SELECT container_id FROM members WHERE member_id = ? AND level = ?",
                                    (ctx.user, held)).fetchall()
            raised = [r["container_id"] for r in rows]
            for cid in raised:
                ctx.conn.execute("UPDATE members SET level = ? WHERE container_id = ? AND member_id = ?",
                                 (acting, cid, ctx.user))
            try:
                return handler(ctx, inp)
            finally:
                for cid in raised:
                    ctx.conn.execute("UPDATE members SET level = ? WHERE container_id = ? AND member_id = ?",
                                     (held, cid, ctx.user))

        return wrapped

    return wrap


# IDs with vowels: a bijection between the strict alphabet's B F G J K (b f g j k) and the vowels A E I O U
# (a e i o u), which no strict ID contains. Answers carry the vowel form; requests are mapped back, so the


def call_with_view(ctx, member: str, handler: Handler, inp: Any) -> Any:
    """handler(ctx, inp) with `member` (a user or a job) given VIEW on the container in the URL for the length
    of the call, when the container exists and `member` has no row there; the row goes again afterwards."""
    exists = ctx.conn.execute("SELECT 1 FROM containers WHERE id = ?", (ctx.subject,)).fetchone()
    row = ctx.conn.execute("SELECT 1 FROM members WHERE container_id = ? AND member_id = ?",
                           (ctx.subject, member)).fetchone()
    if not exists or row:
        return handler(ctx, inp)
    ctx.conn.execute("INSERT INTO members(container_id, member_id, level) VALUES (?, ?, 'VIEW')",
                     (ctx.subject, member))
    try:
        return handler(ctx, inp)
    finally:
        ctx.conn.execute("DELETE FROM members WHERE container_id = ? AND member_id = ?", (ctx.subject, member))
