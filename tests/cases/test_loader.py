"""The case loader: good files become CaseSpecs; every broken file is reported as file:line: message."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance.cases import CaseLoadError, load_suite
from conformance.cases.model import NO_BODY
from conformance.model import Area, Level
from conformance.resources import schemas_dir

DATA = Path(__file__).resolve().parent.parent / "data" / "cases"
GOOD, BROKEN = DATA / "good", DATA / "broken"


@pytest.fixture(scope="module")
def suite():
    return load_suite([GOOD], base=DATA)


def test_the_meta_schema_is_a_valid_draft_2020_12_schema():
    schema = json.loads((schemas_dir() / "meta" / "case-file.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_good_files_load_with_uids_defaults_and_fixtures(suite):
    uids = [case.uid for case in suite.cases]
    assert "good/files-lifecycle.yaml::close-moves-to-closed" in uids
    assert len(uids) == len(set(uids)) == 13  # 11 cases + for-each.yaml expanded over 2 routes
    close = next(c for c in suite.cases if c.id == "close-moves-to-closed")
    assert (close.area, close.topic, close.level, close.profile) == (Area.SEMANTICS, "lifecycle", Level.MUST, "core")
    written = (GOOD / "files-lifecycle.yaml").read_text().splitlines()
    assert written[close.location.line - 1] == "  - id: close-moves-to-closed"
    assert [f.local_name for f in suite.fixture_order(close)] == ["project", "closed_file"]
    assert [f.name for f in suite.fixture_order(close)] == ["good/files-lifecycle.yaml::project",
                                                           "good/files-lifecycle.yaml::closed_file"]
    tags = next(c for c in suite.cases if c.id == "tags-add-remove")
    assert (tags.area, tags.level, tags.topic) == (Area.JSON_OUTPUT, Level.SHOULD, "tags")
    assert tags.routes == ("/record/new", "/{record}/removeTags", "/{record}/describe")
    assert tags.finally_steps[0].route == "/{project}/removeObjects"


def test_steps_keep_what_was_written(suite):
    fixture = suite.fixtures["good/files-lifecycle.yaml::closed_file"]
    assert fixture.provides == {"file", "upload_url", "upload_headers"}
    put = fixture.steps[2]
    assert (put.fetch, put.method, put.headers, put.raw, put.body) == ("{upload_url}", "PUT", "{upload_headers}",
                                                                      "hello", NO_BODY)
    assert put.expect.status == (200, 201, 204)
    poll = fixture.steps[4]
    assert (poll.eventually.timeout, poll.eventually.interval) == (30.0, 0.2)
    protocol = {c.id: c for c in suite.cases}
    anonymous = protocol["bad-token"].steps[1]
    assert anonymous.user is None and protocol["bad-token"].steps[0].token == "not-a-real-token"
    assert protocol["get-is-refused"].steps[0].skip_checks == ("no_server_error",)
    assert protocol["wrong-content-type"].steps[1].headers == {"Content-Type": None}
    assert protocol["malformed-json-is-rejected"].steps[0].expect.error == ("MalformedJSON",)


def _keys_used(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            _keys_used(value, found)
    elif isinstance(node, list):
        for item in node:
            _keys_used(item, found)
    return found


def test_the_good_examples_use_every_feature_of_the_format():
    import yaml

    used: set[str] = set()
    for path in GOOD.glob("*.yaml"):
        _keys_used(yaml.safe_load(path.read_text()), used)
    defs = json.loads((schemas_dir() / "meta" / "case-file.schema.json").read_text())["$defs"]
    for definition in ("case", "fixture", "step", "expect", "operator", "group", "import"):
        declared = set(defs[definition]["properties"])
        assert declared <= used, f"{definition}: examples never use {sorted(declared - used)}"


EXPECTED_ERRORS = {
    "syntax.yaml": (6, "YAML syntax error"),
    "unknown-key.yaml": (9, "unknown key 'stauts'"),
    "bad-enum.yaml": (7, "'MUSTNT' is not one of"),
    "duplicate-id.yaml": (9, "duplicate case id 'same' (first at line 3)"),
    "unknown-fixture.yaml": (6, "unknown fixture 'no_such_fixture'"),
    "unknown-name.yaml": (8, "{never_saved} is not saved"),
    "bad-matcher.yaml": (9, "unknown key '$regx'"),
    "both-body-raw.yaml": (8, "not both `body` and `raw`"),
    "duplicate-key.yaml": (5, "duplicate key 'title'"),
    "missing-level.yaml": (3, "has no level"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_broken_files_are_reported_with_file_and_line(name):
    line, text = EXPECTED_ERRORS[name]
    with pytest.raises(CaseLoadError) as raised:
        load_suite([BROKEN / name], base=DATA)
    [error] = raised.value.errors
    assert (error.file, error.line) == (f"broken/{name}", line)
    assert text in error.message
    assert str(raised.value).startswith(f"broken/{name}:{line}: ")


def test_every_broken_file_has_an_expectation():
    assert {p.name for p in BROKEN.glob("*.yaml")} == set(EXPECTED_ERRORS)


def test_all_errors_of_a_directory_come_together_sorted():
    with pytest.raises(CaseLoadError) as raised:
        load_suite([BROKEN], base=DATA)
    assert len(raised.value.errors) == len(EXPECTED_ERRORS)
    assert raised.value.errors == sorted(raised.value.errors, key=lambda e: (e.file, e.line))


def test_fixture_names_belong_to_their_file(tmp_path):
    text = "fixtures:\n  project:\n    steps: [{route: /project/new}]\n"
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text("\n" + text)
    suite = load_suite([tmp_path], base=tmp_path)
    assert sorted(suite.fixtures) == ["a.yaml::project", "b.yaml::project"]
    assert {f.local_name for f in suite.fixtures.values()} == {"project"}
    (tmp_path / "c.yaml").write_text(
        "defaults: {area: auth, topic: t, level: MUST, source: s}\n"
        "cases:\n  - {id: c, title: t, uses: [project], steps: [{route: /x}]}\n")
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path / "c.yaml"], base=tmp_path)
    [error] = raised.value.errors
    assert (error.file, error.line) == ("c.yaml", 3)
    assert error.message.startswith("unknown fixture 'project' (this file has or imports: none; import one")


def test_fixture_cycles_and_unknown_checks(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "fixtures:\n  a: {uses: [b], steps: [{route: /x}]}\n  b: {uses: [a], steps: [{route: /y}]}\n"
        "cases:\n  - {id: c, title: t, area: auth, topic: t, level: MUST, source: s, uses: [a],\n"
        "     steps: [{route: /z, skip_checks: [no_such_check]}]}\n")
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path], known_checks={"nosniff"})
    messages = [e.message for e in raised.value.errors]
    assert any("uses itself" in m for m in messages)
    assert any("no check named 'no_such_check'" in m for m in messages)


def test_route_or_fetch_is_required_and_exclusive(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "defaults: {area: auth, topic: t, level: MUST, source: s}\ncases:\n"
        "  - id: a\n    title: t\n    steps:\n      - body: {}\n      - route: /x\n        fetch: http://h/\n")
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path])
    found = {(e.line, e.message) for e in raised.value.errors}
    assert (6, "a step needs `route` (an API call), `fetch` (a URL the server gave) or `await` (an execution to "
               "wait for)") in found
    assert (8, "a step has one of `route`, `fetch` or `await`, not route and fetch") in found


def test_empty_and_unreadable_files(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path], base=tmp_path)
    files = sorted(e.file for e in raised.value.errors)
    assert files == ["binary.yaml", "empty.yaml", "list.yaml"]


def test_a_bad_matcher_argument_points_at_its_line(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "defaults: {area: auth, topic: t, level: MUST, source: s}\ncases:\n  - id: a\n    title: t\n"
        "    steps:\n      - route: /x\n        expect:\n          values:\n            $.a: {$len: {min: -1}}\n")
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path])
    [error] = raised.value.errors
    assert error.line == 9 and "$len" in error.message
