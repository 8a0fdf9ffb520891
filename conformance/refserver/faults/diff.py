"""Faults for differential mode: answers that differ from the golden run in one known way each.

Registered into FAULTS on import (the package imports every fault module). Most break no documented
rule a case can assert (an extra output key is allowed), which is why differential mode exists; the tests
in tests/differential check that `dxconform diff` reports exactly the difference each one introduces.
"""

from __future__ import annotations

import json
from typing import Any

from .helpers import wrap_output
from .registry import Fault, fault

NOT_FOUND = "ResourceNotFound"


def _renamed(out: Any) -> Any:
    return {("userId" if k == "id" else k): v for k, v in out.items()} if isinstance(out, dict) else out


def _extra(out: Any) -> Any:
    return {**out, "region": "aws:us-east-1"} if isinstance(out, dict) else out


def _not_found_rewrite(new_status: int | None, new_type: str | None):
    """A protocol-boundary rewrite of every ResourceNotFound answer: its status and/or its error type."""
    def rewrite(status, headers, body):
        if status != 404 or NOT_FOUND.encode() not in body:
            return status, headers, body
        try:
            data = json.loads(body)
        except ValueError:
            return status, headers, body
        if new_type and isinstance(data, dict) and isinstance(data.get("error"), dict):
            data["error"]["type"] = new_type
        return (new_status or status), headers, json.dumps(data).encode()
    return rewrite


fault(Fault("diff-renamed-field", "json-output", "whoami answers the caller's ID under `id` (here: `userId`)",
            routes=("/system/whoami",), wrap=wrap_output(_renamed)))
fault(Fault("diff-extra-field", "json-output", "whoami answers what the platform answers (here: an extra "
            "`region` key, which no documented rule forbids)", routes=("/system/whoami",), wrap=wrap_output(_extra)))
fault(Fault("diff-changed-error-type", "json-output", "a missing entity is ResourceNotFound (here: the type "
            "ObjectNotFound, status 404 kept)", response=_not_found_rewrite(None, "ObjectNotFound")))
fault(Fault("diff-changed-status", "json-output", "ResourceNotFound is answered with 404 (here: 410, the type "
            "kept)", response=_not_found_rewrite(410, None)))

# The faults of this module: caught by differential mode (tests/differential), not by the catalogue's runs.
DIFF_FAULTS = frozenset({"diff-renamed-field", "diff-extra-field", "diff-changed-error-type", "diff-changed-status"})
