"""Entity IDs: generation with the strict alphabet, parsing with the loose one clients send."""

from __future__ import annotations

import re
import secrets

# Every real ID uses these 32 symbols (no vowels); generated IDs must too.
STRICT_ALPHABET = "0123456789BFGJKPQVXYZbfgjkpqvxyz"
# dxpy and its tests send IDs outside the strict alphabet; a server accepts them (they just never exist).
ID_RE = re.compile(r"^([a-z]+)-([0-9A-Za-z]{24})$")

HASH_CLASSES = frozenset(
    {"project", "container", "file", "record", "applet", "workflow", "job", "analysis", "app",
     "database", "dbcluster", "globalworkflow"}
)
DATA_OBJECT_CLASSES = frozenset({"record", "file", "applet", "workflow", "database", "dbcluster"})


def new_id(cls: str) -> str:
    return f"{cls}-" + "".join(secrets.choice(STRICT_ALPHABET) for _ in range(24))


def id_class(value: object) -> str | None:
    """The class of a hash-form ID (loose alphabet), or None if `value` is not one."""
    if not isinstance(value, str):
        return None
    m = ID_RE.match(value)
    return m.group(1) if m else None
