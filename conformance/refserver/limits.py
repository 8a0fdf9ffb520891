"""The reference server's documented limits: every size, depth and time budget it enforces, in one place.

Each figure is a named constant (or a field of ServerLimits, for the ones tests and embedders may shorten);
docs/emulator.md's "Limits" table is generated from LIMITS below, so no figure is typed twice. A request
beyond a limit is refused with a 4xx error whose message names the limit; none of them is a platform rule
unless its source says so.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- request bodies (checked when the body is read and parsed) -------------------------------------------
# Largest request body, bytes (Settings.max_body_bytes defaults to it): above the 5 MiB minimum upload part
# and room for 1000-item bulk calls.
MAX_BODY_BYTES = 64 * 1024 * 1024
# Deepest nesting of arrays and objects in a request body. The suite's fuzzer sends depths up to 120.
MAX_JSON_DEPTH = 128
# Largest integer magnitude in a request body: 2**53 - 1, the range where every integer is exactly a JSON
# number (I-JSON, RFC 7493 section 2.2). Non-finite numbers (1e400 overflows to infinity) are refused too.
MAX_SAFE_INTEGER = 2**53 - 1

# -- names, folders, details (checked by validate.py) ----------------------------------------------------
# Docs "Folders and Deletion" (newer text): folder names of 1..2048 characters, paths under 10,240
# characters, at most 128 levels of nesting.
MAX_FOLDER_NAME_CHARS = 2048
MAX_PATH_CHARS = 10_240
MAX_FOLDER_DEPTH = 128
# Names of data objects and projects: the docs set no limit; this one is the reference server's own (without
# one a name of a megabyte was accepted, and every name filter had to scan it).
MAX_NAME_CHARS = 4096
# Name filters (glob and regexp patterns of the find methods): the reference server's own limit, so compiling
# one stays quick.
MAX_PATTERN_CHARS = 16_384
# Details of a data object: at most this size as compact UTF-8 JSON and this nesting depth (the
# reference server's own choice: describe and findDataObjects answer details nested inside their own
# objects, which must stay within MAX_JSON_DEPTH and a reasonable answer size).
MAX_DETAILS_BYTES = 4 * 1024 * 1024
MAX_DETAILS_DEPTH = 100


@dataclass(frozen=True)
class ServerLimits:
    """Time budgets and the connection cap. Defaults are the documented ones; tests shorten the timeouts."""

    # A request's handler (SQL and name matching included) must finish within this many seconds, or it
    # is answered 422 InvalidInput naming the budget and its transaction is rolled back.
    request_seconds: float = 10.0
    # A connection must deliver a request's complete headers within this many seconds of opening (or of
    # the request's first byte), or it is closed.
    header_seconds: float = 10.0
    # The whole body must arrive within this many seconds of the headers, with no pause longer than
    # body_idle_seconds, or the request is answered 408 and the connection closed.
    body_seconds: float = 60.0
    body_idle_seconds: float = 10.0
    # Bytes of request bodies being received at once, all connections together; a body that would go past
    # it is answered 503 ServiceUnavailable (Retry-After: 1) and its connection closed.
    body_bytes_in_flight: int = 256 * 1024 * 1024
    # Open connections at most; one beyond it is closed as soon as it opens (http_protocol.py).
    max_connections: int = 100


DEFAULT_SERVER_LIMITS = ServerLimits()


@dataclass(frozen=True)
class JobLimits:
    """What one job may use (job_runner.py hands them to its shepherd, job_process.py); 0 means no limit.

    The reference server's own figures: the platform bounds a job by its instance type and timeoutPolicy.
    cpu_seconds and memory_bytes are per process (RLIMIT_CPU, RLIMIT_AS: address space, not resident memory),
    wall_seconds and log_bytes per job.
    """

    cpu_seconds: int = 3600
    memory_bytes: int = 8 * 1024**3
    wall_seconds: float = 6 * 3600.0
    log_bytes: int = 16 * 1024 * 1024


DEFAULT_JOB_LIMITS = JobLimits()
# Job processes running at once (Settings.max_jobs, serve --max-jobs); the other jobs wait in runnable.
DEFAULT_MAX_JOBS = 4
# How much of a job's job_output.json / job_error.json the server reads; a larger file fails the job.
MAX_JOB_RESULT_BYTES = 4 * 1024 * 1024

# (what is limited, the figure, how a request beyond it is answered) for the docs' table.
LIMITS: tuple[tuple[str, str, str], ...] = (
    ("request body", f"{MAX_BODY_BYTES:,} bytes", "422 InvalidInput"),
    ("nesting of arrays and objects in a request body", f"{MAX_JSON_DEPTH} levels", "422 InvalidInput"),
    ("integers in a request body", f"magnitude up to 2**53 - 1 ({MAX_SAFE_INTEGER:,})", "422 InvalidInput"),
    ("numbers in a request body", "finite (1e400 is refused)", "422 InvalidInput"),
    ("strings in a request body", "no lone UTF-16 surrogate (\\ud800)", "422 InvalidInput"),
    ("names of data objects and projects", f"{MAX_NAME_CHARS:,} characters", "422 InvalidInput"),
    ("glob and regexp name filters", f"{MAX_PATTERN_CHARS:,} characters", "422 InvalidInput"),
    ("folder paths", f"names up to {MAX_FOLDER_NAME_CHARS:,} characters, paths under {MAX_PATH_CHARS:,} "
     f"characters, {MAX_FOLDER_DEPTH} levels", "422 InvalidInput"),
    ("details", f"{MAX_DETAILS_BYTES:,} bytes as compact JSON, {MAX_DETAILS_DEPTH} levels", "422 InvalidInput"),
    ("time to handle one request", f"{DEFAULT_SERVER_LIMITS.request_seconds:g} s", "422 InvalidInput"),
    ("time to send the request headers", f"{DEFAULT_SERVER_LIMITS.header_seconds:g} s",
     "connection closed"),
    ("time to send the body", f"{DEFAULT_SERVER_LIMITS.body_seconds:g} s in all, pauses up to "
     f"{DEFAULT_SERVER_LIMITS.body_idle_seconds:g} s", "408 and connection closed"),
    ("request bodies being received at once", f"{DEFAULT_SERVER_LIMITS.body_bytes_in_flight:,} bytes in all",
     "503 ServiceUnavailable and connection closed"),
    ("open connections", f"{DEFAULT_SERVER_LIMITS.max_connections}", "connection closed at once"),
    ("CPU time of each process of a job", f"{DEFAULT_JOB_LIMITS.cpu_seconds:,} s",
     "the process is killed (SIGXCPU); the job fails"),
    ("address space of each process of a job", f"{DEFAULT_JOB_LIMITS.memory_bytes:,} bytes",
     "allocations fail; the job usually fails"),
    ("time a job runs", f"{DEFAULT_JOB_LIMITS.wall_seconds:g} s", "its processes are killed; the job fails"),
    ("log of a job", f"{DEFAULT_JOB_LIMITS.log_bytes:,} bytes", "later lines are dropped (a marker line says so)"),
    ("jobs running at once", f"{DEFAULT_MAX_JOBS} (serve --max-jobs)", "later jobs wait in state runnable"),
    ("job_output.json and job_error.json of a job", f"{MAX_JOB_RESULT_BYTES:,} bytes each",
     "the job fails (OutputError, AppInternalError)"),
)
