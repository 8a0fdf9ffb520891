"""/user-xxxx/describe: the server's own users, as `dx whoami` and `dx describe user-xxxx` read them.

Source: https://documentation.dnanexus.com/developer/api/users#api-method-user-xxxx-describe. A user ID is
`user-` and the handle (the username, lower-cased); the handle comes back with /user-xxxx/describe. "When
/user-xxxx/describe is invoked by any user other than user-xxxx, or by a non full-scope token, only the ID,
class, first, middle, last, and handle fields are returned." The server's tokens are all full-scope, so a
user describing itself gets its default fields, anyone else the public six. The server keeps no names or
e-mail addresses: `first` is the handle, `middle` and `last` are empty, `email` is `<handle>@localhost`, and
`billTo` is the user itself (as /project/new defaults it). The deprecated inputs (appsInstalled, orgs,
pendingTransfers, subscriptions) are checked to be booleans and otherwise ignored: the server has no apps,
orgs, transfers or subscriptions to list.
"""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..errors import InvalidInput, ResourceNotFound
from ..validate import field
from . import route

PUBLIC_FIELDS = ("id", "class", "first", "middle", "last", "handle")
# What a user sees of itself by default: the public fields and the two `dx describe user-xxxx` prints.
OWN_FIELDS = (*PUBLIC_FIELDS, "email", "billTo")
DEPRECATED_OPTIONS = ("appsInstalled", "orgs", "pendingTransfers", "subscriptions")


def _selected(inp: dict, available: tuple[str, ...]) -> list[str]:
    """The fields to return: the defaults unless `defaultFields` is false (it is when `fields` is given),
    then `fields`' own choices over them. Fields the caller may not see, or the server does not have, are
    left out, as for any field a describe does not know. `id` is always there."""
    fields = field(inp, "fields", dict)
    if fields is not None and not all(isinstance(v, bool) for v in fields.values()):
        raise InvalidInput('expected the values of key "fields" of input to be booleans')
    defaults = field(inp, "defaultFields", bool, default=fields is None)
    chosen = dict.fromkeys(available, defaults)
    for name, wanted in (fields or {}).items():
        if name in chosen:
            chosen[name] = wanted
    return [name for name in available if chosen[name] or name == "id"]


@route("/user-xxxx/describe")
def describe(ctx: Context, inp: dict) -> dict[str, Any]:
    for option in DEPRECATED_OPTIONS:
        field(inp, option, bool)
    user_id = ctx.subject or ""
    if ctx.conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        raise ResourceNotFound(f"The user {user_id!r} could not be found")
    handle = user_id.removeprefix("user-")
    values = {"id": user_id, "class": "user", "first": handle, "middle": "", "last": "", "handle": handle,
              "email": f"{handle}@localhost", "billTo": user_id}
    available = OWN_FIELDS if ctx.user == user_id else PUBLIC_FIELDS
    return {name: values[name] for name in _selected(inp, available)}
