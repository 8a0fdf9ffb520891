"""`dxconform import` on bad input: exit 2 and one line naming the file (and the line, where the parser gives one),
never a traceback, and no recording written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conformance.cli.main import main

GOOD_REQUEST = {"method": "POST", "uri": "http://api.test/system/whoami", "body": "{}", "headers": {}}
GOOD_RESPONSE = {"status": {"code": 200, "message": "OK"}, "body": {"string": "{}"}, "headers": {}}


def cassette(*interactions: dict) -> str:
    return yaml.safe_dump({"interactions": list(interactions), "version": 1})


def har(*entries: dict) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": list(entries)}})


HAR_ENTRY = {"startedDateTime": "2020-01-01T00:00:00Z", "time": 0, "cache": {}, "timings": {},
             "request": {"method": "POST", "url": "http://api.test/system/whoami", "headers": [],
                         "postData": {"mimeType": "application/json", "text": "{}"}},
             "response": {"status": 200, "headers": [], "content": {"size": 2, "mimeType": "", "text": "{}"}}}

# (file name, content, what the one line says besides the file's name)
BAD_FILES = {
    "not-yaml": ("c.yaml", "interactions:\n  - request: [unclosed\n", "line 3: not YAML"),
    "not-json": ("c.json", '{"log": {\n  "entries": [,]}}', "line 2: not JSON"),
    "json-nested-too-deeply": ("c.json", "[" * 100_000, "not JSON"),
    "yaml-nested-too-deeply": ("c.yaml", "- " * 3000 + "x", "not YAML"),
    "not-utf8": ("c.har", b"\xff\xfe\x00garbage", "not UTF-8"),
    "yaml-not-a-cassette": ("c.yaml", "foo: bar\n", "not a VCR cassette"),
    "yaml-a-list": ("c.yml", "- 1\n- 2\n", "not a VCR cassette"),
    "har-not-har": ("c.har", '{"log": {"pages": []}}', "not a HAR file"),
    "har-an-array": ("c.har", "[1, 2]", "not a HAR file"),
    "json-not-a-recording": ("c.json", '{"hello": 1}', "not a recording"),
    "vcr-no-method": ("c.yaml", cassette({"request": {**GOOD_REQUEST, "method": None}, "response": GOOD_RESPONSE}),
                      "interaction 1: the request has no method"),
    "vcr-no-response": ("c.yaml", cassette({"request": GOOD_REQUEST}), "interaction 1: needs a request and a response"),
    "vcr-bad-status": ("c.yaml", cassette({"request": GOOD_REQUEST, "response": {**GOOD_RESPONSE, "status": "x"}}),
                       "interaction 1: the response status"),
    "vcr-bad-body": ("c.yaml", cassette({"request": {**GOOD_REQUEST, "body": {"a": 1}}, "response": GOOD_RESPONSE}),
                     "a body must be text"),
    "vcr-bad-headers": ("c.yaml", cassette({"request": {**GOOD_REQUEST, "headers": ["x"]}, "response": GOOD_RESPONSE}),
                        "headers must be a mapping"),
    "har-no-method": ("c.har", har(HAR_ENTRY, {**HAR_ENTRY, "request": {**HAR_ENTRY["request"], "method": 3}}),
                      "entry 2: the request needs a method and a url"),
    "har-no-date": ("c.har", har({k: v for k, v in HAR_ENTRY.items() if k != "startedDateTime"}),
                    "entry 1: startedDateTime"),
    "corpus-no-method": ("c.json", json.dumps({"source": {}, "exchanges": [
        {"request": {"url": "http://api.test/system/whoami", "headers": {}, "body": "{}", "auth": True},
         "response": {"status": 200, "reason": "OK", "headers": {}, "body": "{}"}}]}),
                         "exchange 1: the request has no method"),
    "no-api-call": ("c.yaml", cassette({"request": {**GOOD_REQUEST, "method": "GET"}, "response": GOOD_RESPONSE}),
                    "no API call found"),
}


def run_import(args: list[str], capsys) -> tuple[int, list[str]]:
    code = main(["import", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err.splitlines()


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_one_line_naming_it(kind: str, tmp_path: Path, capsys) -> None:
    name, content, says = BAD_FILES[kind]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "recording.json"
    code, lines = run_import([str(path), "--out", str(out)], capsys)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"dxconform: error: {path}: ") and says in lines[0], lines[0]
    assert not out.exists()


def test_bad_file_inside_a_directory_is_named(tmp_path: Path, capsys) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "good.yaml").write_text(cassette({"request": GOOD_REQUEST, "response": GOOD_RESPONSE}))
    (tmp_path / "a" / "z" / "deep").mkdir(parents=True)
    (tmp_path / "a" / "z" / "deep" / "bad.json").write_text("{]")
    code, lines = run_import([str(tmp_path / "a"), "--out", str(tmp_path / "r.json")], capsys)
    assert code == 2 and len(lines) == 1 and f"{tmp_path / 'a' / 'z' / 'deep' / 'bad.json'}: line 1" in lines[0]


@pytest.mark.parametrize("what", ["missing file", "empty directory"])
def test_missing_or_empty_input(what: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "nothing.yaml"
    if what == "empty directory":
        path = tmp_path / "empty"
        path.mkdir()
        (path / "README.md").write_text("not a recording")
    code, lines = run_import([str(path)], capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"dxconform: error: {path}: ")
    assert ("no such file" if what == "missing file" else "no recordings in it") in lines[0]


def test_bad_api_server_option(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(cassette({"request": GOOD_REQUEST, "response": GOOD_RESPONSE}))
    code, lines = run_import([str(path), "--api-server", "api.test"], capsys)
    assert code == 2 and lines == ["dxconform: error: --api-server must be an http:// or https:// URL, got 'api.test'"]


def test_nested_aliases_stay_bounded(tmp_path: Path, capsys) -> None:
    """A YAML bomb (aliases of aliases) in a header value list: refused as not text, not expanded."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 12)]
    text = "\n".join(levels) + (
        "\ninteractions:\n- request: {method: POST, uri: 'http://api.test/system/whoami', body: '{}', "
        "headers: {X: *a11}}\n  response: {status: {code: 200}, body: {string: '{}'}, headers: {}}\n")
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    code, lines = run_import([str(path), "--out", str(tmp_path / "r.json")], capsys)
    assert code == 2 and len(lines) == 1 and "header 'X' has a value that is not text" in lines[0]


def test_help_names_the_command(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["import", "--help"])
    assert stop.value.code == 0
    assert "FILE_OR_DIR" in capsys.readouterr().out
