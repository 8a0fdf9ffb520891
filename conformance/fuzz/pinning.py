"""Pin generated IDs to the pool: every string that looks like an entity, user or org ID becomes a
placeholder for a pool slot of its class, so the run never names an object it did not make."""

from __future__ import annotations

import re
from typing import Any

from .choices import Choices
from .pool import Slots
from .steps import placeholder, slot_of

HASH_ID = re.compile(r"^([a-z]+)-[0-9A-Za-z]{24}$")
MEMBER_ID = re.compile(r"^(user|org)-.+$")
# Fields whose value names a person whatever its form (an email would invite a stranger): always pinned.
PERSON_FIELDS = frozenset({"invitee"})


def _class_of(text: str) -> str | None:
    match = HASH_ID.match(text) or MEMBER_ID.match(text)
    return match.group(1) if match else None


def pin(choices: Choices, value: Any, slots: Slots, key: str | None = None) -> Any:
    """`value` with ID-like strings (values and mapping keys) replaced by placeholders chosen from `slots`.

    IDs of classes the pool has no slot for (app-, workflow-, analysis-, ...; applet- and job- when the
    routes fuzzed need no executables) stay as generated: a random 24-character hash names nothing, and no
    route fuzzed here changes an object it only names in its body."""
    if isinstance(value, str):
        if slot_of(value) is not None:
            return value
        cls = "user" if key in PERSON_FIELDS else _class_of(value)
        options = slots.for_class(cls) if cls else ()
        return placeholder(choices.one_of(options)) if options else value
    if isinstance(value, list):
        return [pin(choices, item, slots) for item in value]
    if isinstance(value, dict):
        pinned = {}
        for name, item in value.items():
            new_name = name
            cls = _class_of(name) if slot_of(name) is None else None
            if cls in ("user", "org"):
                new_name = placeholder(choices.one_of(slots.users_as_keys))
            elif cls is not None and slots.for_class(cls):
                new_name = placeholder(choices.one_of(slots.for_class(cls)))
            pinned[new_name] = pin(choices, item, slots, key=name)
        return pinned
    return value


def named_classes(value: Any, key: str | None = None) -> set[str]:
    """The classes of the IDs `value` names (in values and mapping keys), as pin() reads them: what a pool
    must hold for pin() to pin them."""
    if isinstance(value, str):
        cls = "user" if key in PERSON_FIELDS else _class_of(value)
        return {cls} if cls else set()
    if isinstance(value, list):
        return set().union(*(named_classes(item) for item in value))
    if isinstance(value, dict):
        return set().union(*(named_classes(name) | named_classes(item, name) for name, item in value.items()))
    return set()
