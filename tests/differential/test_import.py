"""`dxconform import`: the project's copy of the real traffic, the corpus format, real vcrpy cassettes of dxpy
against the reference server, and that no token of the input survives in the recording written."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conformance.cli.main import main
from conformance.differential.golden import read_golden
from conformance.differential.importer import build_imported, read_recordings
from conformance.redaction import Redactor, base64_middles

from .support import dxconform

STOR = Path(__file__).resolve().parents[1] / "data" / "real-traffic" / "stor"
SUMMARY = re.compile(r"^imported (\d+) exchanges \((\d+) API calls over (\d+) routes\) from (\d+) files, recorded "
                     r"(\S+)\.\.(\S+), clients (.+): (.+)$")
STOR_COMMIT = "9821ad84e16122dedffd93074108246fbc255fd4"


def exchanges(document: dict) -> list[tuple[str, str, dict]]:
    """(case id, step, exchange) of every exchange of a recording, in order."""
    return [(case["id"], step["step"], exchange) for case in document["cases"] for step in case["steps"]
            for exchange in step["exchanges"]]


def assert_no_token(text: str, token: str) -> None:
    """Not raw, not in base64 (whole, in any alignment, with or without the `Bearer ` prefix), in no encoding."""
    assert token not in text
    for form in (token, f"Bearer {token}"):
        assert base64.b64encode(form.encode()).decode() not in text
        assert not any(middle in text for middle in base64_middles(form))
    assert not Redactor([token]).contains(text)


# -- the project's copy of the real traffic ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def stor_import(tmp_path_factory) -> tuple[str, dict, Path]:
    out = tmp_path_factory.mktemp("stor") / "recording.json"
    finished = dxconform("import", str(STOR), "--out", str(out), timeout=120)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout, json.loads(out.read_text(encoding="utf-8")), out


def test_har_copy_is_the_whole_corpus() -> None:
    files = sorted(STOR.glob("*.har"))
    assert len(files) == 19 and (STOR / "NOTICE.md").is_file()
    entries = [entry for file in files for entry in json.loads(file.read_text(encoding="utf-8"))["log"]["entries"]]
    hosts = Counter(entry["request"]["url"].split("/")[2] for entry in entries)
    assert len(entries) == 2742 and hosts["api.dnanexus.com"] == 2530
    notice = (STOR / "NOTICE.md").read_text(encoding="utf-8")
    assert "Copyright (c) 2016-2018 Counsyl, Inc." in notice and "MIT License" in notice and STOR_COMMIT in notice


def test_import_of_the_project_copy(stor_import) -> None:
    stdout, document, out = stor_import
    summary = SUMMARY.match(stdout.strip())
    assert summary, stdout
    assert summary.group(1, 2, 3, 4) == ("2742", "2530", "21", "19")
    assert summary.group(5, 6) == ("2018-10-26T22:27:55Z", "2020-04-06T23:50:50Z")
    assert summary.group(7).startswith("dxpy/0.265.0-80-g4b601687, ") and summary.group(8) == str(out)
    read_golden(out)    # a valid dxconform-golden/1 recording

    about = document["imported"]
    assert (about["exchanges"], about["api_exchanges"]) == (2742, 2530)
    assert about["api_server"] == document["placeholders"]["server"] == "https://api.dnanexus.com"
    assert about["user"] == "user-akumar_counsyl"
    assert about["recorded_first"] == 1540592875000 and about["recorded_last"] == document["recorded"]
    assert set(about["clients"]) == {"dxpy/0.265.0-80-g4b601687", "dxpy/0.289.1", "dxpy/0.278.0", "dxpy/0.291.1",
                                     "python-requests/2.22.0"}
    assert [source["file"] for source in about["sources"]] == sorted(p.name for p in STOR.glob("*.har"))
    assert all(source == {"file": source["file"], "format": "har", "license": "MIT", "repo": "counsyl/stor",
                          "commit": STOR_COMMIT, "copyright": "Copyright (c) 2016-2018 Counsyl, Inc."}
               for source in about["sources"])
    assert document["users"] == ["token"] and document["server"] == {"embedded": False}


def test_cases_are_the_recorded_tests(stor_import) -> None:
    _, document, _ = stor_import
    pages = {page["id"] for file in STOR.glob("*.har")
             for page in json.loads(file.read_text(encoding="utf-8"))["log"]["pages"]}
    assert len(document["cases"]) == 158 == len(pages)
    assert {case["id"] for case in document["cases"]} == {f"stor::{page}" for page in pages}
    for case in document["cases"]:
        assert re.fullmatch(r"stor::Test\w+::test_\w+", case["id"]) and case["title"] == case["id"][len("stor::"):]
        assert [step["step"] for step in case["steps"]] == [f"exchange {n}" for n in range(1, len(case["steps"]) + 1)]
        assert all(len(step["exchanges"]) == 1 for step in case["steps"])


def test_requests_hold_no_token_and_placeholders(stor_import) -> None:
    _, document, _ = stor_import
    found = exchanges(document)
    for _, _, exchange in found:
        request = exchange["request"]
        assert not {"authorization", "x-authorization", "cookie"} & {name.lower() for name in request["headers"]}
        assert "REDACTED" not in json.dumps(request["headers"])
    api = [e for _, _, e in found if "storage" not in e]
    assert len(api) == 2530 and all(e["route"] and e["request"]["url"].startswith("{{server}}/") for e in api)
    assert all(e["request"]["auth"] for e in api)
    assert Counter(e["storage"] for _, _, e in found if "storage" in e) == {"upload": 181, "download": 31}
    assert not any("route" in e or e["request"]["auth"] for _, _, e in found if "storage" in e)
    public = [(case, step) for case, step, e in found if e["request"].get("public_token")]
    assert public == [("stor::TestLoginAuth::test_login_auth", "exchange 3")]
    routes = Counter(e["route"] for e in api)
    assert routes["/file-xxxx/describe"] == 418 and routes["/system/findProjects"] == 284 and len(routes) == 21
    # IDs of requests are placeholders; answers are as recorded
    first = next(e for _, _, e in found if e["route"] == "/project-xxxx/describe")
    assert re.fullmatch(r"\{\{server\}\}/\{\{id:\d+\}\}/describe", first["request"]["url"])
    assert first["response"]["json"]["id"].startswith("project-")


def test_corpus_format(tmp_path: Path) -> None:
    """Two files of the corpus format (INDEX.md "Format"): the test names become the case ids, the provenance the
    sources; a token in a Set-Cookie and echoed in a body is scrubbed; `auth` gives the request a token back."""
    secret = "corpusSecretToken0123456789"
    source = {"repo": "counsyl/stor", "commit": STOR_COMMIT, "license": "MIT", "copyright": "Copyright (c) x",
              "test_class": "TestA"}
    api, storage = "https://api.example.test", "https://storage.example.test"
    project = "project-" + "B" * 24

    def answer(status: int, body: str, **headers: str) -> dict:
        return {"status": status, "reason": "OK", "body": body,
                "headers": {"Content-Type": ["application/json"], "Date": ["Wed, 31 Oct 2018 19:34:08 GMT"],
                            **{name.replace("_", "-"): [value] for name, value in headers.items()}}}

    one = {"source": {**source, "test_name": "test_one"}, "exchanges": [
        {"request": {"method": "POST", "url": f"{api}/project/new", "path": "/project/new", "auth": True,
                     "headers": {"Content-Type": ["application/json"], "User-Agent": ["dxpy/0.265.0 (x)"]},
                     "body": '{"name": "a"}'},
         "response": answer(200, json.dumps({"id": project, "echo": secret}),
                            Set_Cookie=f"authorization={secret}; Path=/")}]}
    two = {"source": {**source, "test_name": "test_two"}, "exchanges": [
        {"request": {"method": "POST", "url": f"{api}/{project}/describe", "path": f"/{project}/describe",
                     "auth": True, "headers": {}, "body": "{}"},
         "response": answer(404, '{"error": {"type": "ResourceNotFound", "message": "no"}}')},
        {"request": {"method": "GET", "url": f"{storage}/F/D/x", "path": "/F/D/x", "auth": False, "headers": {},
                     "body": None},
         "response": answer(200, "data")}]}
    folder = tmp_path / "mycorpus" / "TestA"
    folder.mkdir(parents=True)
    (folder / "test_one.json").write_text(json.dumps(one))
    (folder / "test_two.json").write_text(json.dumps(two))
    out = tmp_path / "out.json"
    assert main(["import", str(tmp_path / "mycorpus"), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert_no_token(text, secret)
    document = read_golden(out)
    assert [case["id"] for case in document["cases"]] == ["mycorpus::TestA::test_one", "mycorpus::TestA::test_two"]
    assert document["imported"]["sources"] == [
        {"file": f"TestA/{name}.json", "format": "corpus", "license": "MIT", "copyright": "Copyright (c) x",
         "repo": "counsyl/stor", "commit": STOR_COMMIT} for name in ("test_one", "test_two")]
    found = [e for _, _, e in exchanges(document)]
    assert [e.get("route") for e in found] == ["/project/new", "/project-xxxx/describe", None]
    assert [e["request"]["auth"] for e in found] == [True, True, False]
    assert found[2]["storage"] == "download" and found[2]["response"]["text"] == "data"
    assert "set-cookie" not in {name.lower() for name in found[0]["response"]["headers"]}
    assert found[1]["response"]["json"]["error"]["type"] == "ResourceNotFound"
    assert document["imported"]["api_server"] == api and document["imported"]["clients"] == ["dxpy/0.265.0"]


def test_cassette_with_binary_keys_bodies_and_compression(tmp_path: Path) -> None:
    """A cassette as old vcrpy wrote dxpy's bytes: `!!binary` header names and values, bytes bodies; repeated
    header values joined; a gzip-encoded recorded answer decoded; a PUT to another host is an upload."""
    secret = "binarySecretToken_abcdefghij"
    answer = gzip.compress(b'{"id": "file-' + b"Q" * 24 + b'"}')
    cassette = {"version": 1, "interactions": [
        {"request": {"method": "POST", "uri": "http://api.test:80/file/new", "body": b'{"project": "x"}',
                     "headers": {b"Authorization": [f"Bearer {secret}".encode()], b"Accept": [b"a", b"b"],
                                 "User-Agent": ["dxpy/0.417.1 (Linux)"]}},
         "response": {"status": {"code": 200, "message": "OK"}, "body": {"string": answer},
                      "headers": {"Content-Encoding": ["gzip"], b"Content-Type": [b"application/json"]}}},
        {"request": {"method": "PUT", "uri": "http://storage.test/upload/1", "body": b"data", "headers": {}},
         "response": {"status": {"code": 200, "message": "OK"}, "body": {"string": ""}, "headers": {}}}]}
    path = tmp_path / "cassettes" / "TestX" / "test_bin.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(cassette))
    assert "!!binary" in path.read_text()
    imported = build_imported(read_recordings([tmp_path / "cassettes"]), suite_version="1",
                              schemas_sha256="0" * 64)
    document = imported.document
    assert imported.secrets == {secret} and imported.routes == 1 and imported.files == 1
    assert_no_token(json.dumps(document), secret)
    new, put = (e for _, _, e in exchanges(document))
    assert document["cases"][0]["id"] == "cassettes::TestX::test_bin"
    assert new["request"]["headers"]["Accept"] == "a, b" and new["request"]["json"] == {"project": "x"}
    assert new["response"]["json"] == {"id": "file-" + "Q" * 24} and "Content-Encoding" not in new["response"]["headers"]
    assert new["request"]["url"] == "{{server}}/file/new" and document["imported"]["api_server"] == "http://api.test:80"
    assert put["storage"] == "upload" and put["request"]["text"] == "data"
    assert document["imported"]["sources"] == [{"file": "TestX/test_bin.yaml", "format": "vcr"}]


def test_api_server_option_overrides_the_guess(tmp_path: Path) -> None:
    cassette = {"interactions": [
        {"request": {"method": "POST", "uri": f"http://{host}/system/whoami", "body": "{}", "headers": {}},
         "response": {"status": {"code": 200}, "body": {"string": '{"id": "user-a"}'}, "headers": {}}}
        for host in ("a.test", "a.test", "b.test")]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cassette))
    guessed = build_imported(read_recordings([tmp_path / "c.yaml"]), suite_version="1", schemas_sha256="0" * 64)
    assert guessed.document["imported"]["api_server"] == "http://a.test" and guessed.api_exchanges == 2
    assert guessed.document["imported"]["user"] == "user-a"
    given = build_imported(read_recordings([tmp_path / "c.yaml"]), suite_version="1", schemas_sha256="0" * 64,
                           api_server="http://b.test/")
    assert given.document["imported"]["api_server"] == "http://b.test" and given.api_exchanges == 1


# -- a real vcrpy cassette of dxpy against the reference server ------------------------------------------------

@pytest.fixture
def vcr_with_bytes_headers(monkeypatch):
    """vcrpy (9.x) cannot read the headers dxpy sends with urllib3 2 (names and values are bytes: urllib3's
    HTTPHeaderDict fails to join them); given as a plain dict they are recorded as `!!binary`, as the stor
    cassettes have them."""
    vcr = pytest.importorskip("vcr")
    stubs = pytest.importorskip("vcr.stubs")

    original = stubs.VCRConnection.request

    def request(self, method, url, body=None, headers=None, *args, **kwargs):
        return original(self, method, url, body, dict(headers.items()) if headers is not None else None,
                        *args, **kwargs)

    monkeypatch.setattr(stubs.VCRConnection, "request", request)
    return vcr


def test_real_vcr_cassette_of_dxpy(tmp_path: Path, dx_server, vcr_with_bytes_headers) -> None:
    import dxpy

    cassette = tmp_path / "recorded" / "test_dxpy.yaml"
    missing = "project-" + "B" * 24
    with vcr_with_bytes_headers.use_cassette(str(cassette), record_mode="all"):
        assert dxpy.api.system_whoami()["id"] == dx_server.user
        project = dxpy.api.project_new({"name": "vcr import"})["id"]
        dxpy.api.project_describe(project)
        with pytest.raises(dxpy.exceptions.ResourceNotFound):
            dxpy.api.project_describe(missing)
    recorded = cassette.read_text(encoding="utf-8")
    token = dx_server.token
    assert "!!binary" in recorded and base64.b64encode(f"Bearer {token}".encode()).decode() in recorded.replace(
        "\n        ", "")   # the real token is in the cassette (base64, as vcrpy writes bytes)

    out = tmp_path / "recording.json"
    finished = dxconform("import", str(cassette), "--out", str(out), timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert SUMMARY.match(finished.stdout.strip()).group(1, 2, 3, 4) == ("4", "4", "3", "1")
    text = out.read_text(encoding="utf-8")
    assert_no_token(text, token)
    assert_no_token(finished.stdout + finished.stderr, token)
    document = read_golden(out)
    found = [e for _, _, e in exchanges(document)]
    assert [(e["route"], e["response"]["status"]) for e in found] == [
        ("/system/whoami", 200), ("/project/new", 200), ("/project-xxxx/describe", 200),
        ("/project-xxxx/describe", 404)]
    assert found[3]["response"]["json"]["error"]["type"] == "ResourceNotFound"
    assert found[2]["request"]["url"] == found[2]["request"]["url"].replace(project, "") == "{{server}}/{{id:1}}/describe"
    assert document["placeholders"]["ids"][:2] == [project, missing]
    assert document["imported"]["api_server"] == dx_server.url and document["imported"]["user"] == dx_server.user
    assert document["imported"]["clients"] == [f"dxpy/{dxpy.TOOLKIT_VERSION}"]
    assert document["cases"][0]["id"] == "recorded::test_dxpy"


def test_the_docs_show_what_importing_the_copy_prints(tmp_path) -> None:
    """docs/differential.md shows `dxconform import` of the project's copy with its output: the very line."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "recording.json"
    done = subprocess.run([sys.executable, "-m", "conformance.cli.main", "import", "tests/data/real-traffic/stor",
                           "--out", str(out)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().replace(str(out), "recording.json")
    assert line in (repo / "docs" / "differential.md").read_text(encoding="utf-8"), line
