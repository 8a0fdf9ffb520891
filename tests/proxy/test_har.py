"""HAR 1.2: what the proxy writes reads back as the same exchanges; broken files are refused in one line."""

from __future__ import annotations

import json

import pytest

from conformance.model import Exchange, Headers, Request, Response, TransportError
from conformance.proxy.har import Entry, HarError, read_har, write_har

STARTED = 1_764_150_000_123


def entry(request_body: bytes = b'{"a": 1}', response: Response | None = None, **kw) -> Entry:
    request = Request("POST", "http://127.0.0.1:9/system/whoami?x=1", "/system/whoami",
                      Headers({"Authorization": "Bearer secret-token", "Content-Type": "application/json"}),
                      request_body)
    return Entry(Exchange(request, response, kw.pop("error", None), 7, "/system/whoami"), STARTED, **kw)


def test_round_trip_keeps_what_the_checks_read(tmp_path):
    answer = Response(200, Headers({"Content-Type": "application/json"}), b'{"id": "user-alice", "n": 1.0}')
    binary = Response(206, Headers({"Content-Type": "application/octet-stream"}), bytes(range(256)))
    failed = entry(error=TransportError("refused", "nothing listens"))
    path = write_har(tmp_path / "x.har", [entry(response=answer), entry(b"\xff\x00", binary), failed],
                     creator_version="0.1.0", notes={"upstream": "http://127.0.0.1:9"})
    log = json.loads(path.read_text())["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "dxconform"
    first = log["entries"][0]
    assert first["startedDateTime"] == "2025-11-26T09:40:00.123+00:00"
    assert first["request"]["queryString"] == [{"name": "x", "value": "1"}]
    assert first["response"]["statusText"] == "OK" and first["response"]["content"]["size"] == len(answer.body)
    entries, notes = read_har(path)
    assert notes == {"upstream": "http://127.0.0.1:9"}
    back = [e.exchange for e in entries]
    assert back[0].response.body == answer.body and back[0].response.has_fractional_numbers
    assert back[0].request.headers["authorization"] == "Bearer ***"
    assert back[0].request.path == "/system/whoami" and back[0].route == "/system/whoami"
    assert (back[1].request.body, back[1].response.body, back[1].response.status) == (b"\xff\x00", bytes(range(256)),
                                                                                       206)
    assert back[2].response is None and back[2].error.kind == "refused"
    assert entries[0].started_ms == STARTED and back[0].elapsed_ms == 7


def test_cut_bodies_say_so(tmp_path):
    cut = entry(b"x" * 10, request_size=5_000_000)
    log = json.loads(write_har(tmp_path / "c.har", [cut], creator_version="0").read_text())["log"]
    assert log["entries"][0]["request"]["bodySize"] == 5_000_000
    assert "kept 10 of 5000000" in log["entries"][0]["request"]["postData"]["comment"]


def test_secrets_are_scrubbed_from_bodies(tmp_path):
    leaky = entry(b'{"token": "secret-token"}')
    text = write_har(tmp_path / "s.har", [leaky], ["secret-token"], creator_version="0").read_text()
    assert "secret-token" not in text


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON"),
    ('{"log": {}}', "no log.entries"),
    ('{"log": {"entries": [{"response": {}}]}}', "entry 0: an entry needs a request"),
    ('{"log": {"entries": [{"request": {"method": "POST", "url": "http://h/system/whoami", "headers": []},'
     ' "startedDateTime": "yesterday"}]}}', "startedDateTime"),
    ('{"log": {"entries": [{"request": {"method": "POST", "url": "http://h/a/b", "headers": [],'
     ' "postData": {"text": "%%%", "_encoding": "base64"}}, "startedDateTime": "2025-01-01T00:00:00Z"}]}}',
     "not base64"),
])
def test_broken_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.har"
    path.write_text(content)
    with pytest.raises(HarError, match=message):
        read_har(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(HarError, match="cannot read"):
        read_har(tmp_path / "nope.har")
