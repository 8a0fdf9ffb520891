"""Step words that stand for a longer step, rewritten when the file loads: `await` (wait until an execution ends)."""

from __future__ import annotations

from typing import Any

# What `await` waits for: the states in which a job or an analysis has ended (EXECUTABLES-DIGEST 4.3, 5.4).
ENDED_STATES = ["done", "failed", "terminated"]
AWAIT_TIMEOUT = 60.0
AWAIT_INTERVAL = 0.2


def rewrite(step: dict[str, Any]) -> dict[str, Any]:
    """`{await: "{job}"}` -> describe the execution until its state is done, failed or terminated; `eventually`
    on the step overrides the default deadline (60 s) and polling interval (0.2 s)."""
    if "await" not in step:
        return step
    subject = step["await"]
    timing = {"timeout": AWAIT_TIMEOUT, "interval": AWAIT_INTERVAL, **(step.get("eventually") or {})}
    rest = {k: v for k, v in step.items() if k not in ("await", "eventually")}
    return {"name": f"wait until {subject} ends", **rest, "route": f"/{subject}/describe",
            "body": {"fields": {"state": True}}, "eventually": timing,
            "expect": {"status": 200, "values": {"$.state": {"$in": list(ENDED_STATES)}}}}
