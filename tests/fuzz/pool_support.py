"""Helpers of the fuzz tests that build a stateful pool by hand: its slots, and placeholder IDs bound to them."""

from __future__ import annotations

from conformance.fuzz.pool import OBJECT_SLOTS, Slots


def pool_slots() -> Slots:
    """A stateful pool's slots, as the pool of a run has them (every object class, the acting user)."""
    by_class = {cls: slots for cls, slots in OBJECT_SLOTS.items()}
    by_class["user"] = ("user_self",)
    return Slots(by_class, ("user_self",))


def pool_bindings() -> dict[str, str]:
    """Each slot bound to a placeholder ID of its class (loose-alphabet, names nothing)."""
    hashes = iter(f"{i:024d}".replace("0", "B") for i in range(100))
    return {slot: f"{cls}-{next(hashes)}" for cls, slots in OBJECT_SLOTS.items() for slot in slots}
