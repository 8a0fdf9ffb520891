"""Answer bodies on their way to the client: decoding Content-Encoding, and pointing handed-out URLs at the proxy."""

from __future__ import annotations

import zlib

# Content-Encodings the proxy can read (what dxpy asks for: gzip, deflate).
_DECODERS = {"gzip": lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS),
             "x-gzip": lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS),
             "deflate": lambda data: _inflate(data)}


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:  # some servers send raw deflate without the zlib wrapper
        return zlib.decompress(data, -zlib.MAX_WBITS)


def decoded(body: bytes, content_encoding: str | None) -> bytes | None:
    """The body without its Content-Encoding; None if the encoding is unknown or the data is corrupt."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    decoder = _DECODERS.get(encoding)
    if decoder is None:
        return None
    try:
        return decoder(body)
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
