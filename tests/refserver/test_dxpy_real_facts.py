"""Unmodified dxpy against the reference server, on what the real platform does and dxpy's own tests expect
(issue 20): download URLs handed out again, a handler whose project does not hold the file, and dxpy's retry of
/system/comeBackLater (dx-toolkit test_dxpy.py TestDXFile, TestHTTPResponses)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def test_get_download_url_twice_gives_the_same_url(dx, dx_project):
    dxfile = dx.upload_string("foo\n", wait_on_close=True)
    url, headers = dxfile.get_download_url()
    assert dxfile.get_download_url() == (url, headers)
    # a new handler asks the server again: the same file, project and options get the same URL
    assert dx.DXFile(dxfile.get_id(), project=dx_project).get_download_url()[0] == url
    signed = dx.DXFile(dxfile.get_id()).get_download_url(preauthenticated=True, filename="foo")[0]
    assert dx.DXFile(dxfile.get_id()).get_download_url(preauthenticated=True, filename="foo")[0] == signed
    # other options, another URL (test_download_url_helper: duration 30, then the default)
    assert dx.DXFile(dxfile.get_id()).get_download_url(preauthenticated=True, filename="foo",
                                                        duration=30)[0] != signed


def test_a_handler_whose_project_lacks_the_file_still_downloads(dx, dx_project, client):
    dxfile = dx.upload_string("foo\n", wait_on_close=True)
    other = client.new_project("holds-nothing")
    handler = dx.DXFile(dxfile.get_id(), project=other)
    url, _ = handler.get_download_url()
    # test_get_download_url_from_handler: the URL names the file, never the project that does not hold it
    assert dxfile.get_id() in url and other not in url
    assert dx.DXFile(dxfile.get_id(), project=other).read() == "foo\n"
    # an explicit project that does not hold the file is refused (test_download_url_rejects_invalid_project)
    with pytest.raises(dx.exceptions.ResourceNotFound):
        dx.DXFile(dxfile.get_id()).get_download_url(project=other)


def test_dxpy_retries_come_back_later_until_wait_until(dx):
    server_time = dx.DXHTTPRequest("/system/comeBackLater", {})["currentTime"]
    assert abs(server_time - time.time() * 1000) < 5_000
    started = time.monotonic()
    answer = dx.DXHTTPRequest("/system/comeBackLater", {"waitUntil": int(time.time() * 1000) + 3000})
    elapsed = time.monotonic() - started
    assert 3.0 <= elapsed < 10, elapsed
    assert answer["currentTime"] >= server_time + 3000
