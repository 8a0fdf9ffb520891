"""A --db file written by an older reference server gains the columns added since (db.Database.ADDED_COLUMNS)."""

from __future__ import annotations

import sqlite3

from conformance.refserver.db import SCHEMA, Database


def test_an_old_database_file_gains_the_added_columns(tmp_path):
    old_schema = SCHEMA.replace(
        "    size INTEGER,                         -- files only, set at close\n"
        "    sniffed_media TEXT ", "    size INTEGER ").replace(
        ",\n    reuse_key TEXT ", " ").replace("CREATE INDEX IF NOT EXISTS transfers_reuse ON transfers(reuse_key);", "")
    assert "sniffed_media" not in old_schema and "reuse_key" not in old_schema
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(old_schema)
    conn.execute("INSERT INTO objects(id, class, state, closed_at, created, modified, created_by, origin_project,"
                 " size) VALUES ('file-1', 'file', 'closing', 1, 0, 0, 'user-alice', 'project-1', 4)")
    conn.commit()
    conn.close()
    db = Database(str(path))
    try:
        for table, column, _ in Database.ADDED_COLUMNS:
            assert column in {row[1] for row in db.conn.execute(f"PRAGMA table_info({table})")}, (table, column)
        db.settle_closing(now=2)   # an old closing file closes with no sniffed type: its media stays unset
        assert tuple(db.conn.execute("SELECT state, media FROM objects").fetchone()) == ("closed", None)
    finally:
        db.close()
