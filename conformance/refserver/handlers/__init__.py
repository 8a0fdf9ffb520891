"""The route table of the reference server: route string -> handler, filled by @route in each module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..context import Context

Handler = Callable[[Context, Any], Any]


@dataclass(frozen=True)
class RouteSpec:
    route: str
    handler: Handler
    needs_auth: bool = True
    # Most methods need a JSON object as input ("input is not a hash" -> InvalidInput). setDetails takes
    # the details themselves, which may be an array.
    input_mapping: bool = True
    accepts_nonce: bool = False
    # Answers the public token `Bearer PUBLIC` (dxpy's default when no token is configured) as the principal
    # "PUBLIC": what everyone may see (real traffic: /system/findProjects answers it 200). Other routes refuse it.
    public_token: bool = False


ROUTES: dict[str, RouteSpec] = {}


def route(*routes: str, needs_auth: bool = True, input_mapping: bool = True, accepts_nonce: bool = False,
          public_token: bool = False):
    """Register a handler for one or more routes written as the route table writes them."""

    def register(fn: Handler) -> Handler:
        for r in routes:
            if r in ROUTES:
                raise RuntimeError(f"route {r} registered twice")
            ROUTES[r] = RouteSpec(r, fn, needs_auth, input_mapping, accepts_nonce, public_token)
        return fn

    return register


def load_all() -> dict[str, RouteSpec]:
    """Import every handler module (each registers its routes) and return the table."""
    from . import (  # noqa: F401
        analyses,
        applets,
        apps,
        dataobjects,
        execution_search,
        files,
        folders,
        jobs,
        projects,
        records,
        search,
        system,
        users,
        workflows,
    )

    return ROUTES


# Non-API URLs the server hands out (upload and download of file content): (HTTP method, first path
# segment after /_dx/) -> function(ctx, rest_of_path, body) -> (status, headers, body bytes).
ContentHandler = Callable[[Context, str, bytes], tuple[int, dict[str, str], bytes]]
CONTENT_ROUTES: dict[tuple[str, str], ContentHandler] = {}


def content_route(method: str, segment: str):
    def register(fn: ContentHandler) -> ContentHandler:
        CONTENT_ROUTES[(method, segment)] = fn
        return fn

    return register
