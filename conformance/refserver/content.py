"""File content: the secrets behind upload/download URLs, storing PUT parts, and serving byte ranges.

The URLs the server hands out carry a random secret in the path; the secret is the only credential (the
PUT and the GET carry no Authorization header, as with the platform's pre-signed URLs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from urllib.parse import quote

from .context import Context
from .errors import (
    BadDigest,
    DXError,
    InvalidAuthentication,
    InvalidState,
    RequestedRangeNotSatisfiable,
    ResourceNotFound,
)

UPLOAD_URL_LIFETIME_MS = 60 * 60 * 1000
DEFAULT_DOWNLOAD_SECONDS = 24 * 60 * 60
# An expired URL is remembered this long after it expired, so that using it is answered as the platform answers
# (401 InvalidAuthentication "... token has expired", real traffic stor TestTempUrl::test_on_file_named_timed),
# not as an unknown URL (404).
EXPIRED_KEPT_MS = 24 * 60 * 60 * 1000
_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class BadRequest(DXError):
    """A PUT whose body does not match the size announced to /file-xxxx/upload (400, as S3 answers)."""

    type = "BadRequest"
    status = 400


def new_transfer(ctx: Context, kind: str, file_id: str, expires: int, *, idx: int | None = None,
                 size: int | None = None, md5: str | None = None, filename: str | None = None,
                 url_tail: str | None = None, reuse_key: str | None = None) -> str:
    """Record a URL secret and return the URL: base + /_dx/<kind>/<secret>, then `url_tail` (path segments,
    as given) or else the quoted filename. `reuse_key`: what makes two downloads the same (reused_download)."""
    ctx.conn.execute("DELETE FROM transfers WHERE expires < ?", (ctx.now - EXPIRED_KEPT_MS,))
    secret = secrets.token_urlsafe(32)
    ctx.conn.execute(
        "INSERT INTO transfers(secret, kind, file_id, idx, size, md5, filename, expires, reuse_key) "
        "VALUES (?,?,?,?,?,?,?,?,?)", (secret, kind, file_id, idx, size, md5, filename, expires, reuse_key),
    )
    return _url(ctx, kind, secret, filename, url_tail)


def _url(ctx: Context, kind: str, secret: str, filename: str | None, url_tail: str | None) -> str:
    url = f"{ctx.base_url}/_dx/{kind}/{secret}"
    if url_tail:
        url += "/" + url_tail
    elif filename:
        url += "/" + quote(filename, safe="")
    return url


def reused_download(ctx: Context, reuse_key: str, url_tail: str | None, min_expires: int) -> tuple[str, int] | None:
    """(URL, expires) of a download URL handed out earlier for the same `reuse_key` that stays valid until at
    least `min_expires`, else None. The platform answers the same file, project and options with the same URL
    (real traffic: stor TestCopyTree::test_dx_dir_to_posix exchanges 25 and 34)."""
    row = ctx.conn.execute("SELECT secret, filename, expires FROM transfers WHERE reuse_key = ? AND kind = 'download' "
                           "AND expires >= ? ORDER BY expires DESC LIMIT 1", (reuse_key, min_expires)).fetchone()
    if row is None:
        return None
    return _url(ctx, "download", row["secret"], row["filename"], url_tail), row["expires"]


def transfer(ctx: Context, kind: str, rest: str):
    """The live transfer row named by the URL path after /_dx/<kind>/: ResourceNotFound if unknown,
    InvalidAuthentication (as the platform answers) once expired."""
    secret = rest.split("/", 1)[0]
    row = ctx.conn.execute("SELECT * FROM transfers WHERE secret = ? AND kind = ?", (secret, kind)).fetchone()
    if row is None:
        raise ResourceNotFound("This URL is unknown")
    if row["expires"] < ctx.now:
        raise InvalidAuthentication("The supplied authentication token has expired")
    return row


def store_part(ctx: Context, rest: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """PUT on an upload URL: check the body against the announced md5 and size, then keep it as the part."""
    t = transfer(ctx, "upload", rest)
    obj = ctx.conn.execute("SELECT state FROM objects WHERE id = ?", (t["file_id"],)).fetchone()
    if obj is None:
        raise ResourceNotFound(f"The file {t['file_id']} no longer exists")
    if obj["state"] != "open":
        raise InvalidState(f"{t['file_id']} is not in the open state")
    md5 = hashlib.md5(body).hexdigest()
    if t["md5"] and t["md5"].lower() != md5:
        raise BadDigest(f"The MD5 of the uploaded part ({md5}) does not match the md5 given to /upload "
                        f"({t['md5']})")
    header_md5 = ctx.headers.get("content-md5")
    if header_md5 is not None and _b64_to_hex(header_md5) != md5:
        raise BadDigest("The Content-MD5 header does not match the uploaded part")
    if t["size"] is not None and t["size"] != len(body):
        raise BadRequest(f"The uploaded part has {len(body)} bytes; /upload announced {t['size']}")
    ctx.conn.execute(
        "INSERT INTO parts(file_id, idx, size, md5, state, data) VALUES (?, ?, ?, ?, 'complete', ?) "
        "ON CONFLICT(file_id, idx) DO UPDATE SET size = excluded.size, md5 = excluded.md5, "
        "state = 'complete', data = excluded.data",
        (t["file_id"], t["idx"], len(body), md5, body),
    )
    ctx.conn.execute("UPDATE objects SET modified = ? WHERE id = ?", (ctx.now, t["file_id"]))
    return 200, {"ETag": f'"{md5}"', "Content-Length": "0"}, b""


# Bytes of a closed file looked at to tell its media type, when /file/new named none.
SNIFF_BYTES = 8192
DEFAULT_MEDIA = "application/octet-stream"
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\b\x1b")


def sniff_media(sample: bytes) -> str:
    """The media type the platform gives a file uploaded without one: "text/plain" for text (real traffic: a
    file holding "data" is described, and served, as text/plain), else application/octet-stream."""
    if not sample:
        return DEFAULT_MEDIA
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is still text
        if exc.start < len(sample) - 3:
            return DEFAULT_MEDIA
        text = sample[:exc.start].decode("utf-8")
    if any(ord(ch) < 0x20 and ord(ch) not in _TEXT_CONTROLS or ord(ch) == 0x7f for ch in text):
        return DEFAULT_MEDIA
    return "text/plain"


def _b64_to_hex(value: str) -> str | None:
    try:
        return base64.b64decode(value.strip(), validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def serve(ctx: Context, rest: str, body: bytes, *, head: bool = False) -> tuple[int, dict[str, str], bytes]:
    """GET on a download URL: the whole file (200) or one `Range: bytes=a-b` (206, or 416)."""
    t = transfer(ctx, "download", rest)
    obj = ctx.conn.execute("SELECT state, media FROM objects WHERE id = ?", (t["file_id"],)).fetchone()
    if obj is None or obj["state"] != "closed":
        raise ResourceNotFound(f"The file {t['file_id']} is no longer available")
    data = b"".join(r["data"] or b"" for r in ctx.conn.execute(
        "SELECT data FROM parts WHERE file_id = ? ORDER BY idx", (t["file_id"],)))
    headers = {"Content-Type": obj["media"] or DEFAULT_MEDIA, "Accept-Ranges": "bytes"}
    if t["filename"]:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(t['filename'], safe='')}"
    status, payload = 200, data
    wanted = byte_range(ctx.headers.get("range"), len(data))
    if wanted is not None:
        first, last = wanted
        status, payload = 206, data[first:last + 1]
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    headers["Content-Length"] = str(len(payload))
    return status, headers, b"" if head else payload


def byte_range(header: str | None, total: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range, None to serve the whole file (no or unusable header).

    A syntactically invalid header, or a multi-range one, is ignored as RFC 9110 allows; a valid range that
    starts past the end is RequestedRangeNotSatisfiable (416) with `Content-Range: bytes */total`.
    """
    if header is None:
        return None
    m = _RANGE_RE.match(header)
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else total - 1
        if m.group(2) and last < first:
            return None
        if first >= total:
            raise _unsatisfiable(total)
        return first, min(last, total - 1)
    suffix = int(m.group(2))
    if suffix == 0 or total == 0:
        raise _unsatisfiable(total)
    return max(0, total - suffix), total - 1


def _unsatisfiable(total: int) -> RequestedRangeNotSatisfiable:
    return RequestedRangeNotSatisfiable(f"The requested range is not satisfiable (the file has {total} bytes)",
                                        headers={"Content-Range": f"bytes */{total}"})
