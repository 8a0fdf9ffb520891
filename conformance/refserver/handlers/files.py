"""Files: /file/new, upload, close, download, and the upload (PUT) / download (GET) URLs the server serves.

Sequences follow what dxpy does (TOOLING 3.3): /upload {index, md5, size} -> {url, headers, expires}, an
unauthenticated PUT with exactly those headers, /close, describe polled until `closed`; /download
{project, preauthenticated} -> {url, headers, expires}, an unauthenticated GET with `Range`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from .. import content, objects, validate
from ..context import Context
from ..errors import InvalidInput, InvalidState
from . import content_route, route

_MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")
# The media type the PUT of a part is sent with (the bytes are stored as they are).
UPLOAD_CONTENT_TYPE = "application/octet-stream"


@route("/file/new", accepts_nonce=True)
def file_new(ctx: Context, inp: dict) -> dict[str, str]:
    media = validate.field(inp, "media", str)
    if "details" in inp:
        validate.details_within_limits(inp["details"])
    return {"id": objects.create_object(ctx, "file", inp, media=media)}


@route("/file-xxxx/upload")
def upload(ctx: Context, inp: dict) -> dict[str, Any]:
    settings = ctx.settings
    index = validate.field(inp, "index", int, default=1)
    if not 1 <= index <= settings.maximum_num_parts:
        raise InvalidInput(f'expected key "index" of input to be between 1 and {settings.maximum_num_parts}')
    size = validate.field(inp, "size", int)
    if size is not None and not 0 <= size <= settings.maximum_part_size:
        raise InvalidInput(f'expected key "size" of input to be between 0 and {settings.maximum_part_size}')
    md5 = validate.field(inp, "md5", str)
    if md5 is not None and not _MD5_RE.match(md5):
        raise InvalidInput('expected key "md5" of input to be 32 hexadecimal digits')
    row, _ = objects.locate(ctx, ctx.subject, None, "UPLOAD")
    if row["state"] != "open":
        raise InvalidState(f"{ctx.subject} is not in the open state; parts can be uploaded only to open files")
    # A part asked for the first time shows as pending until its PUT lands; a re-upload keeps the
    # last successful PUT until the new one succeeds.
    ctx.conn.execute(
        "INSERT INTO parts(file_id, idx, size, md5, state) VALUES (?, ?, ?, ?, 'pending') "
        "ON CONFLICT(file_id, idx) DO NOTHING", (ctx.subject, index, size or 0, (md5 or "").lower()))
    expires = ctx.now + content.UPLOAD_URL_LIFETIME_MS
    url = content.new_transfer(ctx, "upload", ctx.subject, expires, idx=index, size=size,
                               md5=md5.lower() if md5 else None)
    # The headers the PUT must carry, as the platform names them (real traffic: host, content-type, content-md5
    # as base64 of the digest, content-length as a string); host is the one the URL names.
    headers = {"host": urlsplit(url).netloc, "content-type": UPLOAD_CONTENT_TYPE}
    if md5 is not None:
        headers["content-md5"] = base64.b64encode(bytes.fromhex(md5)).decode()
    if size is not None:
        headers["content-length"] = str(size)
    return {"url": url, "headers": headers, "expires": expires}


@route("/file-xxxx/close")
def close(ctx: Context, inp: dict) -> dict[str, str]:
    row, _ = objects.locate(ctx, ctx.subject, None, "UPLOAD")
    if row["state"] != "open":  # closing or closed: no effect, success (docs "Data Object Lifecycle")
        return {"id": ctx.subject}
    size = _checked_parts_size(ctx)
    closing_ms = ctx.settings.closing_ms
    state, closed_at = ("closing", ctx.now + closing_ms) if closing_ms > 0 else ("closed", None)
    # The sniffed type becomes the media type when the file is closed (while closing the platform describes
    # media "": real traffic), unless /file/new named one.
    sniffed = _sniffed_media(ctx)
    ctx.conn.execute(
        "UPDATE objects SET state = ?, closed_at = ?, size = ?, sniffed_media = ?, "
        "media = CASE WHEN ? = 'closed' THEN COALESCE(media, ?) ELSE media END, modified = ? WHERE id = ?",
        (state, closed_at, size, sniffed, state, sniffed, ctx.now, ctx.subject))
    return {"id": ctx.subject}


def _sniffed_media(ctx: Context) -> str:
    """The media type of the file's first bytes (content.sniff_media), kept unless /file/new named one."""
    first = ctx.conn.execute("SELECT substr(data, 1, ?) AS head FROM parts WHERE file_id = ? ORDER BY idx LIMIT 1",
                             (content.SNIFF_BYTES, ctx.subject)).fetchone()
    return content.sniff_media(bytes(first["head"] or b"") if first is not None else b"")


def _checked_parts_size(ctx: Context) -> int:
    """The file size; InvalidState unless parts are 1..n, all complete, non-last ones >= minimumPartSize."""
    s = ctx.settings
    parts = ctx.conn.execute("SELECT idx, size, state FROM parts WHERE file_id = ? ORDER BY idx",
                             (ctx.subject,)).fetchall()
    for expected, part in enumerate(parts, start=1):
        if part["idx"] != expected:
            raise InvalidState(f"Cannot close {ctx.subject}: part {expected} is missing (parts must be "
                               "numbered consecutively from 1)")
        if part["state"] != "complete":
            raise InvalidState(f"Cannot close {ctx.subject}: part {part['idx']} has not been uploaded")
        last = expected == len(parts)
        if not last and part["size"] < s.minimum_part_size:
            raise InvalidState(f"Cannot close {ctx.subject}: part {part['idx']} is smaller than the minimum "
                               f"part size {s.minimum_part_size} (only the last part may be smaller)")
        if last and part["size"] == 0 and expected > 1 and not s.empty_last_part_allowed:
            raise InvalidState(f"Cannot close {ctx.subject}: an empty last part is not allowed")
    total = sum(p["size"] for p in parts)
    if total > s.maximum_file_size:
        raise InvalidState(f"Cannot close {ctx.subject}: the file exceeds {s.maximum_file_size} bytes")
    return total


# Longest life of a download URL: 7 days, the most an S3 presigned URL (what the platform hands out) can
# live. A larger duration is clamped to it, never an overflow or an implausible `expires`.
MAX_DOWNLOAD_SECONDS = 7 * 24 * 3600


@route("/file-xxxx/download")
def download(ctx: Context, inp: dict) -> dict[str, Any]:
    """A URL for the file's bytes. Preauthenticated: `/_dx/download/<secret>/<filename>` with `expires`;
    otherwise, as the platform answers (real traffic), `{url, headers}` without `expires`, the URL naming the
    file and the hinted project (the platform's `/F/D2PRJ/<file>/<project>`). The same caller asking again for
    the same file, project and options gets the same URL while at least half the asked lifetime is left."""
    duration = validate.field(inp, "duration", int, default=content.DEFAULT_DOWNLOAD_SECONDS)
    if duration <= 0:
        raise InvalidInput('expected key "duration" of input to be a positive integer')
    duration = min(duration, MAX_DOWNLOAD_SECONDS)  # a longer life is cut short, never an overflow
    filename = validate.field(inp, "filename", str)
    preauthenticated = validate.field(inp, "preauthenticated", bool, default=False)
    sticky_ip = validate.field(inp, "stickyIP", bool, default=False)
    hint = objects.project_hint(inp)
    row, _ = objects.locate(ctx, ctx.subject, hint, "VIEW")
    if row["state"] != "closed":
        raise InvalidState(f"{ctx.subject} is not in the closed state; only closed files can be downloaded")
    url_tail = None if preauthenticated else "/".join(quote(part, safe="") for part in (ctx.subject, hint) if part)
    reuse_key = json.dumps([ctx.member, ctx.subject, hint, preauthenticated, duration, filename, sticky_ip])
    reused = content.reused_download(ctx, reuse_key, url_tail, ctx.now + duration * 500)
    if reused is not None:
        url, expires = reused
    else:
        expires = ctx.now + duration * 1000
        url = content.new_transfer(ctx, "download", ctx.subject, expires, filename=filename or row["name"],
                                   url_tail=url_tail, reuse_key=reuse_key)
    if not preauthenticated:
        return {"url": url, "headers": {}}
    return {"url": url, "headers": {}, "expires": expires}


@content_route("PUT", "upload")
def put_part(ctx: Context, rest: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    return content.store_part(ctx, rest, body)


@content_route("GET", "download")
def get_content(ctx: Context, rest: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    return content.serve(ctx, rest, body)


@content_route("HEAD", "download")
def head_content(ctx: Context, rest: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    return content.serve(ctx, rest, body, head=True)
