"""What a handler gets: the store, the caller, the subject of the URL, the clock, the server's settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from .db import Database
from .limits import DEFAULT_JOB_LIMITS, DEFAULT_MAX_JOBS, MAX_BODY_BYTES, JobLimits

# The published tokens of `dxconform serve --fixed-tokens`, for tests and doc pages: anyone can read them, so
# a server started with them serves anyone who can reach it. Without the option every token is random.
FIXED_TOKENS = {"alice": "alice-token", "bob": "bob-token"}
# The origin the suite's CORS cases send (cases/url-forms/query-and-cors.yaml), allowed unless --cors says
# otherwise: under .invalid, a name that never resolves (RFC 6761), so no web page can have it.
SUITE_ORIGIN = "https://dxconform.invalid"


# What every random token starts with: a leaked one is recognisable (by secret scanners, and by the tests that
# require no output file to hold the embedded server's tokens).
TOKEN_PREFIX = "dxref_"


def random_token() -> str:
    """A fresh bearer token: the prefix, then 32 URL-safe characters (192 bits from the system's CSPRNG)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def random_tokens() -> dict[str, str]:
    """The default users, alice and bob, each with a random token."""
    return {name: random_token() for name in FIXED_TOKENS}


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
    # Largest request body the API accepts (bytes); a larger one is refused, naming the limit (limits.py).
    max_body_bytes: int = MAX_BODY_BYTES
    # The users and their tokens (name -> token, in clear: printed at start; the store keeps SHA-256 digests).
    users: dict[str, str] = field(default_factory=random_tokens)
    # Origins whose web pages may call the server (CORS); a request with any other Origin is refused.
    cors_origins: tuple[str, ...] = (SUITE_ORIGIN,)
    # Names of deliberate faults to switch on (faults/); empty for a conforming server.
    faults: frozenset[str] = frozenset()
    # Jobs: run them (False: `serve --no-jobs`, every job fails with ExecutionError), how many processes at
    # once, and what one may use (limits.JobLimits).
    run_jobs: bool = True
    max_jobs: int = DEFAULT_MAX_JOBS
    job_limits: JobLimits = DEFAULT_JOB_LIMITS
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
    # The job whose token made the request (a job's DX_SECURITY_CONTEXT), else None. Its user is the launching
    # user; its access is its own (members rows under the job ID): see `member`.
    job: str | None = None
    # Where the job logs are (job_service.py), for /job-xxxx/getLog; None when the server runs no jobs.
    job_logs: Any = None

    @property
    def member(self) -> str | None:
        """Whose rows in `members` decide access: the job for a job token, else the user."""
        return self.job or self.user

    @property
    def conn(self):
        return self.db.conn
