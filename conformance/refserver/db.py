"""SQLite storage: the schema, the connection, transactions. No HTTP and no API rules here.

All access happens on the server's one handler thread (worker.py), one request at a time, so each request is
one transaction and concurrent clients can never interleave inside a request.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (      -- exactly the configured users, rewritten at every start
    id TEXT PRIMARY KEY,                  -- user-<handle>
    token_sha256 TEXT UNIQUE NOT NULL     -- hex SHA-256 of the bearer token; the token itself is never stored
);
CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY,                  -- project-xxxx | container-xxxx
    class TEXT NOT NULL,                  -- project | container
    name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    created_by TEXT NOT NULL,             -- user id
    bill_to TEXT NOT NULL,
    region TEXT NOT NULL,
    flags TEXT NOT NULL DEFAULT '{}',     -- JSON: protected, restricted, downloadRestricted, containsPHI, ...
    tags TEXT NOT NULL DEFAULT '[]',      -- JSON array, insertion order
    properties TEXT NOT NULL DEFAULT '{}',-- JSON object
    version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,              -- user-xxx (or org-xxx)
    level TEXT NOT NULL,                  -- VIEW | UPLOAD | CONTRIBUTE | ADMINISTER
    PRIMARY KEY (container_id, member_id)
);
CREATE TABLE IF NOT EXISTS folders (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    path TEXT NOT NULL,                   -- normalised absolute path; '/' always present
    PRIMARY KEY (container_id, path)
);
CREATE TABLE IF NOT EXISTS objects (      -- what every copy of a data object shares
    id TEXT PRIMARY KEY,
    class TEXT NOT NULL,                  -- file | record
    state TEXT NOT NULL,                  -- open | closing | closed
    closed_at INTEGER,                    -- while closing: when the object becomes closed (ms)
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    created_by TEXT NOT NULL,             -- user id
    origin_project TEXT NOT NULL,         -- the container it was created in
    hidden INTEGER NOT NULL DEFAULT 0,
    types TEXT NOT NULL DEFAULT '[]',
    details TEXT NOT NULL DEFAULT '{}',
    links TEXT NOT NULL DEFAULT '[]',     -- de-duplicated IDs linked from details
    media TEXT,                           -- files only
    size INTEGER,                         -- files only, set at close
    sniffed_media TEXT                    -- files: the type sniffed at close, the media once closed (unless named)
);
CREATE INDEX IF NOT EXISTS objects_closing ON objects(state, closed_at);
CREATE TABLE IF NOT EXISTS copies (       -- per-container metadata of a data object
    object_id TEXT NOT NULL REFERENCES objects(id),
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    folder TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    properties TEXT NOT NULL DEFAULT '{}',
    modified INTEGER NOT NULL,
    seq INTEGER NOT NULL,                 -- global insertion counter: a stable order for paging
    PRIMARY KEY (object_id, container_id)
);
CREATE INDEX IF NOT EXISTS copies_folder ON copies(container_id, folder);
CREATE UNIQUE INDEX IF NOT EXISTS copies_seq ON copies(seq);
CREATE TABLE IF NOT EXISTS parts (        -- uploaded file parts
    file_id TEXT NOT NULL REFERENCES objects(id),
    idx INTEGER NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    state TEXT NOT NULL,                  -- pending | complete
    data BLOB,
    PRIMARY KEY (file_id, idx)
);
CREATE TABLE IF NOT EXISTS nonces (       -- idempotency of */new
    user_id TEXT NOT NULL,
    route TEXT NOT NULL,
    nonce TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    response TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (user_id, route, nonce)
);
CREATE TABLE IF NOT EXISTS applets (     -- what an applet has besides its data-object rows (objects, copies)
    id TEXT PRIMARY KEY REFERENCES objects(id),
    spec TEXT NOT NULL                    -- JSON: dxapi, runSpec, inputSpec, outputSpec, access, title, ...
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,          -- creation order: searches answer newest first (seq DESC)
    name TEXT NOT NULL,
    state TEXT NOT NULL,                  -- idle | waiting_on_input | runnable | running | waiting_on_output |
                                          -- done | failed | terminating | terminated
    function TEXT NOT NULL,               -- the entry point: main for a master job
    executable TEXT NOT NULL,             -- applet-xxxx or app-xxxx: whose spec (runSpec, I/O) the job runs
    analysis TEXT,                        -- a stage job: its analysis (parentAnalysis) ...
    stage TEXT,                           -- ... and the stage ID it runs
    project TEXT NOT NULL,                -- the project context: where the output lands
    folder TEXT NOT NULL,
    workspace TEXT NOT NULL,              -- container-xxxx, shared by the job tree
    launched_by TEXT NOT NULL,            -- user-<handle>
    parent_job TEXT,
    origin_job TEXT NOT NULL,
    root_execution TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    started_running INTEGER,
    stopped_running INTEGER,
    run_input TEXT NOT NULL,              -- JSON: the input as given
    original_input TEXT NOT NULL,         -- JSON: run_input with the inputSpec's defaults
    output TEXT,                          -- JSON, once done
    depends_on TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    properties TEXT NOT NULL DEFAULT '{}',
    details TEXT NOT NULL DEFAULT '{}',
    state_transitions TEXT NOT NULL DEFAULT '[]',
    failure TEXT,                         -- JSON {"reason", "message", "from"?} once failed
    options TEXT NOT NULL DEFAULT '{}'    -- JSON: priority, delayWorkspaceDestruction, systemRequirements, ...
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_origin ON jobs(origin_job);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs(project, seq);
CREATE INDEX IF NOT EXISTS jobs_parent ON jobs(parent_job);
CREATE INDEX IF NOT EXISTS jobs_analysis ON jobs(analysis);
CREATE TABLE IF NOT EXISTS workflows (   -- what a workflow has besides its data-object rows (objects, copies)
    id TEXT PRIMARY KEY REFERENCES objects(id),
    spec TEXT NOT NULL,                   -- JSON: title, summary, description, outputFolder, stages, inputs, outputs
    edit_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS analyses (     -- a workflow run: its stages run as jobs (jobs.analysis)
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,          -- from the jobs' counter: one creation order for all executions
    name TEXT NOT NULL,
    state TEXT NOT NULL,                  -- in_progress | partially_failed | done | failed | terminating | terminated
    executable TEXT NOT NULL,             -- workflow-xxxx or globalworkflow-xxxx
    workflow TEXT NOT NULL,               -- JSON: the workflow as run (its describe at run time)
    project TEXT NOT NULL,
    folder TEXT NOT NULL,
    launched_by TEXT NOT NULL,
    parent_job TEXT,                      -- run from inside a job
    root_execution TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    run_input TEXT NOT NULL,              -- JSON: the input as given
    original_input TEXT NOT NULL,         -- JSON: "<stage>.<field>" keys, bindings and defaults applied
    stages TEXT NOT NULL,                 -- JSON: [{"id": stage ID, "execution": job ID}] in stage order
    output TEXT,                          -- JSON, once done
    depends_on TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    properties TEXT NOT NULL DEFAULT '{}',
    details TEXT NOT NULL DEFAULT '{}',
    state_transitions TEXT NOT NULL DEFAULT '[]',
    failure TEXT,                         -- JSON {"reason", "message", "from"?} once failed
    options TEXT NOT NULL DEFAULT '{}'    -- JSON: priority, stageFolders, ...
);
CREATE INDEX IF NOT EXISTS analyses_state ON analyses(state);
CREATE INDEX IF NOT EXISTS analyses_project ON analyses(project, seq);
CREATE TABLE IF NOT EXISTS global_executables ( -- apps and global workflows: one row per version
    id TEXT PRIMARY KEY,                  -- app-xxxx | globalworkflow-xxxx
    class TEXT NOT NULL,                  -- app | globalworkflow
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    spec TEXT NOT NULL,                   -- JSON: an app's applet spec (runSpec with code, I/O, access) or a global
                                          -- workflow's workflow spec, and title, summary, description, details ...
    created_by TEXT NOT NULL,             -- user id
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    published INTEGER,                    -- ms since epoch, once published
    deleted INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    UNIQUE (class, name, version)
);
CREATE TABLE IF NOT EXISTS global_aliases ( -- version aliases ("default", tags) of a name: alias -> one version
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    id TEXT NOT NULL REFERENCES global_executables(id),
    PRIMARY KEY (class, name, alias)
);
CREATE TABLE IF NOT EXISTS global_principals ( -- per name: developers and authorized users
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,                   -- developer | authorized
    principal TEXT NOT NULL,              -- user-xxx | org-xxx | PUBLIC
    PRIMARY KEY (class, name, role, principal)
);
CREATE TABLE IF NOT EXISTS global_categories (
    id TEXT NOT NULL REFERENCES global_executables(id),
    category TEXT NOT NULL,
    PRIMARY KEY (id, category)
);
CREATE TABLE IF NOT EXISTS global_installs (
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (class, name, user_id)
);
CREATE TABLE IF NOT EXISTS job_tokens (   -- a running job's own token (its DX_SECURITY_CONTEXT); gone when it ends
    token_sha256 TEXT PRIMARY KEY,
    job_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_processes ( -- the shepherd of each running job: what a restarted server reaps
    job_id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    start_time TEXT NOT NULL              -- /proc/<pid>/stat start time: a reused pid is not the same process
);
CREATE TABLE IF NOT EXISTS object_creators ( -- objects a job created: createdBy.job and createdBy.executable
    object_id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    executable TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (     -- upload/download URLs handed out: the secret is the credential
    secret TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                   -- upload | download
    file_id TEXT NOT NULL,
    idx INTEGER,                          -- upload: the part index
    size INTEGER,                         -- upload: the size announced to /upload, if any
    md5 TEXT,                             -- upload: the md5 announced to /upload, if any
    filename TEXT,                        -- download: Content-Disposition name
    expires INTEGER NOT NULL,
    reuse_key TEXT                        -- download: caller, project and options; the same ones get the same URL
);
CREATE INDEX IF NOT EXISTS transfers_reuse ON transfers(reuse_key);
"""


# The database file and SQLite's companions of it (WAL mode): each readable by its owner only.
FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def private_file(path: str) -> None:
    """Create `path` (if missing) and its existing SQLite companions with mode 0600, or set them to 0600. SQLite
    gives the -wal and -shm files it creates later the mode of the database file."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in FILE_SUFFIXES:
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, 0o600)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def dumps(value: Any) -> str:
    # allow_nan=False: nothing that is not JSON (NaN, infinity) is ever stored.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Database:
    """One SQLite connection (in memory, or a file with --db) and the schema."""

    def __init__(self, path: str | None = None):
        self.path = path or ":memory:"
        if path:
            private_file(path)
        # The server touches the connection only from its handler thread; tests may build the
        # Database in another thread, hence check_same_thread=False.
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        if path:
            # WAL + synchronous=NORMAL: a committed request survives kill -9 of the server process.
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self._drop_clear_tokens()
        self._upgrade_jobs()
        self._add_missing_columns()
        self.conn.executescript(SCHEMA)

    def _columns(self, table: str) -> set[str]:
        """The table's columns; empty when the file has no such table yet (SCHEMA makes it whole)."""
        return {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}

    def _upgrade_jobs(self) -> None:
        """A file written before workflows ran has jobs(applet) and no analysis/stage columns: rename and add."""
        columns = self._columns("jobs")
        if not columns or "executable" in columns:
            return
        self.conn.execute("ALTER TABLE jobs RENAME COLUMN applet TO executable")
        self.conn.execute("ALTER TABLE jobs ADD COLUMN analysis TEXT")
        self.conn.execute("ALTER TABLE jobs ADD COLUMN stage TEXT")

    # Columns added after a table's first release: (table, column, declaration), each added to a file that
    # lacks it. transfers.reuse_key: download URLs reused; objects.sniffed_media: media types sniffed at close.
    ADDED_COLUMNS = (("transfers", "reuse_key", "TEXT"), ("objects", "sniffed_media", "TEXT"))

    def _add_missing_columns(self) -> None:
        for table, column, declaration in self.ADDED_COLUMNS:
            columns = self._columns(table)
            if columns and column not in columns:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _drop_clear_tokens(self) -> None:
        """A file written before tokens were hashed has users(id, token): drop that table, overwriting its
        pages (secure_delete) and checkpointing the WAL, so no token stays in the file in clear. The users are
        rewritten from the configuration at start anyway (replace_users)."""
        if "token" not in self._columns("users"):
            return
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.execute("DROP TABLE users")
        if self.path != ":memory:":
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.execute("PRAGMA secure_delete = OFF")

    def replace_users(self, tokens: dict[str, str]) -> None:
        """The users table becomes exactly `tokens` (user ID -> bearer token), each token stored as its SHA-256:
        a user left out of the configuration no longer exists, nor authenticates, after a restart."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM users")
            conn.executemany("INSERT INTO users(id, token_sha256) VALUES (?, ?)",
                             [(user, token_sha256(token)) for user, token in tokens.items()])

    def user_of_token(self, token: str) -> str | None:
        row = self.conn.execute("SELECT id FROM users WHERE token_sha256 = ?", (token_sha256(token),)).fetchone()
        return row["id"] if row else None

    def job_of_token(self, token: str) -> tuple[str, str] | None:
        """(launching user, job ID) of a running job's own token, or None."""
        row = self.conn.execute("SELECT j.launched_by, j.id FROM job_tokens t JOIN jobs j ON j.id = t.job_id "
                                "WHERE t.token_sha256 = ?", (token_sha256(token),)).fetchone()
        return (row["launched_by"], row["id"]) if row else None

    def interrupt_when(self, expired: Callable[[], bool], every: int = 10_000) -> None:
        """Make a running statement fail (sqlite3.OperationalError "interrupted") once `expired()` is true;
        asked every `every` SQLite VM instructions."""
        self.conn.set_progress_handler(lambda: 1 if expired() else 0, every)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def next_seq(self, name: str = "copies") -> int:
        row = self.conn.execute(
            "INSERT INTO counters(name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def settle_closing(self, now: int) -> None:
        """Files whose closing moment has passed become closed (lazily, at the start of each request)."""
        self.conn.execute(
            "UPDATE objects SET state = 'closed', closed_at = NULL, media = COALESCE(media, sniffed_media) "
            "WHERE state = 'closing' AND closed_at <= ?",
            (now,),
        )

    def close(self) -> None:
        self.conn.close()
