"""Forwarding: handed-out URLs rewritten through the proxy, encoded answers, an upstream that goes away."""

from __future__ import annotations

import gzip
import zlib

import pytest
import requests

from conformance.proxy.rewrite import DecodeLimit, UrlRewriter, decoded
from conformance.proxy.server import ProxyRun
from conformance.refserver.server import RefServer


def test_rewriter_points_upstream_urls_at_the_proxy_only():
    rewriter = UrlRewriter("http://127.0.0.1:8124/")
    body = b'{"url": "http://127.0.0.1:8124/_dx/upload/abc", "other": "http://elsewhere/x", "n": 1.0}'
    assert rewriter.rewrite(body, "http://127.0.0.1:9999") == (
        b'{"url": "http://127.0.0.1:9999/_dx/upload/abc", "other": "http://elsewhere/x", "n": 1.0}')
    untouched = b'{"id": "file-x"}'
    assert rewriter.rewrite(untouched, "http://127.0.0.1:9999") is untouched


def test_content_encodings_are_read():
    assert decoded(gzip.compress(b'{"a": 1}'), "gzip") == b'{"a": 1}'
    assert decoded(b"plain", None) == b"plain"
    assert decoded(b"garbage", "gzip") is None and decoded(b"x", "br") is None
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded(raw_deflate.compress(b"[]") + raw_deflate.flush(), "deflate") == b"[]"


def test_decoding_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * 1_000_000)
    assert decoded(bomb, "gzip", limit=1_000_000) == b"\0" * 1_000_000
    with pytest.raises(DecodeLimit) as limit:
        decoded(bomb, "gzip", limit=999_999)
    assert limit.value.limit == 999_999 and len(limit.value.prefix) == 999_999
    with pytest.raises(DecodeLimit):
        decoded(zlib.compress(b"\0" * 5000), "deflate", limit=4096)


def test_an_upstream_that_goes_away_is_a_bad_gateway(tmp_path):
    server = RefServer().start()
    proxy = ProxyRun(server.url).start()
    try:
        headers = {"Authorization": f"Bearer {server.token('alice')}"}
        assert requests.post(proxy.url + "/system/whoami", data=b"{}", headers=headers, timeout=30).ok
        server.stop()
        gone = requests.post(proxy.url + "/system/whoami", data=b"{}", headers=headers, timeout=30)
        assert gone.status_code == 502 and gone.json()["error"]["type"] == "InternalError"
    finally:
        proxy.stop()
    document, files = proxy.finish(tmp_path)
    assert document["traffic"]["no_answer"] == 1 and document["traffic"]["api"] == 2
    assert files["har"].read_text().count('"_error"') == 1
