"""Answer bodies on their way to the client: decoding Content-Encoding, and pointing handed-out URLs at the proxy."""

from __future__ import annotations

import zlib

# Content-Encodings the proxy can read (what dxpy asks for: gzip, deflate), as zlib's window bits.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
# How much one answer may decode to: past it, the proxy passes the answer on as it came (a gzip bomb of a few
# MB would otherwise decode to gigabytes in the proxy's memory). docs/proxy.md documents it.
MAX_DECODED_BYTES = 32 * 1024 * 1024


class DecodeLimit(Exception):
    """The body decodes to more than the limit; `prefix` holds its first decoded bytes."""

    def __init__(self, limit: int, prefix: bytes):
        super().__init__(f"decodes to more than {limit} bytes")
        self.limit, self.prefix = limit, prefix


def _decompress(data: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    plain = inflater.decompress(data, limit + 1)
    if len(plain) > limit:
        raise DecodeLimit(limit, plain[:limit])
    return plain + inflater.flush()


def decoded(body: bytes, content_encoding: str | None, limit: int = MAX_DECODED_BYTES) -> bytes | None:
    """The body without its Content-Encoding; None if the encoding is unknown or the data is corrupt.
    DecodeLimit if it decodes to more than `limit` bytes (never more than that is held)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    wbits = _WBITS.get(encoding)
    if wbits is None:
        return None
    try:
        return _decompress(body, wbits, limit)
    except zlib.error:
        if encoding != "deflate":
            return None
    try:  # some servers send raw deflate without the zlib wrapper
        return _decompress(body, -zlib.MAX_WBITS, limit)
    except zlib.error:
        return None


class UrlRewriter:
    """Rewrites JSON strings that start with the upstream's base URL so that they start with the proxy's
    origin instead: the client's PUT/GET of upload/download URLs then go through the proxy too.

    A byte replacement of `"<base>/`: the answer's other bytes (number spellings included) stay as the server
    wrote them, which is what the checks must see.
    """

    def __init__(self, upstream_base_url: str):
        self._needle = b'"' + upstream_base_url.rstrip("/").encode("utf-8") + b"/"

    def rewrite(self, body: bytes, proxy_origin: str) -> bytes:
        if self._needle not in body:
            return body
        return body.replace(self._needle, b'"' + proxy_origin.rstrip("/").encode("utf-8") + b"/")
