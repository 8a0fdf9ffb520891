"""What a handler gets: the store, the caller, the subject of the URL, the clock, the server's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .db import Database


@dataclass
class Settings:
    """Server behaviour that tests and users may tune."""

    # How long a file stays in `closing` after /file-xxxx/close (ms). dxpy polls describe meanwhile.
    closing_ms: int = 300
    region: str = "aws:us-east-1"
    # Upload part limits reported as fileUploadParameters (the platform's: 5 MiB .. 5 GiB, 10,000 parts).
    minimum_part_size: int = 5 * 1024 * 1024
    maximum_part_size: int = 5 * 1024 * 1024 * 1024
    maximum_num_parts: int = 10_000
    maximum_file_size: int = 5 * 1024 * 1024 * 1024 * 1024
    empty_last_part_allowed: bool = True
    # Largest request body the API accepts (bytes); larger answers MalformedJSON... see app.
    max_body_bytes: int = 64 * 1024 * 1024
    users: dict[str, str] = field(default_factory=lambda: {"alice": "alice-token", "bob": "bob-token"})
    # Names of deliberate faults to switch on (faults/); empty for a conforming server.
    faults: frozenset[str] = frozenset()
    # Delay added to every answer (ms), as a remote server's network latency: benchmarks/parallel.py. It is
    # an asyncio sleep, so concurrent requests wait side by side, as they would on a real network.
    latency_ms: int = 0


@dataclass
class Context:
    db: Database
    settings: Settings
    route: str                      # the route as the table writes it: "/file-xxxx/close"
    user: str | None                # "user-alice", or None on unauthenticated routes
    subject: str | None             # the entity ID of an instance route ("file-xxxx..."), else None
    now: int                        # ms since epoch, fixed for the request
    headers: dict[str, str]         # request headers, lower-case names
    base_url: str                   # "http://127.0.0.1:PORT", for the upload/download URLs it hands out
    client_ip: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def conn(self):
        return self.db.conn
