"""`for_each`: one case expanded over the route registry, with template values, ids and profiles per route."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from conformance.cases import CaseLoadError, load_suite
from conformance.cases.expand import ABSENT_ID, registry_routes
from conformance.resources import schemas_dir
from conformance.spec import load_spec

STRICT_ID = re.compile(r"^[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$")
HEAD = """
defaults: {area: url-forms, topic: ids, level: MUST, source: tests}
cases:
  - id: each
    title: one item per route
"""


def _load(tmp_path, for_each: str, step: str = '      - route: "{path}"\n'):
    text = HEAD + f"    for_each: {for_each}\n    steps:\n" + step
    (tmp_path / "c.yaml").write_text(textwrap.dedent(text))
    return load_suite([tmp_path / "c.yaml"], base=tmp_path)


def test_an_empty_filter_expands_over_all_208_routes(tmp_path):
    suite = _load(tmp_path, "{}")
    routes = json.loads((schemas_dir() / "routes.json").read_text())["routes"]
    assert len(routes) == 208
    assert [c.values["route"] for c in suite.cases] == [r["route"] for r in routes]
    assert [c.id for c in suite.cases][:1] == [f"each[{routes[0]['route']}]"]
    assert suite.cases[0].uid == f"c.yaml::each[{routes[0]['route']}]"
    assert len({c.uid for c in suite.cases}) == 208


def test_each_item_has_the_values_and_profile_of_its_route(tmp_path):
    suite = _load(tmp_path, "{}")
    spec = load_spec()
    by_route = {c.values["route"]: c for c in suite.cases}
    close = by_route["/file-xxxx/close"]
    assert close.values == {"route": "/file-xxxx/close", "path": f"/file-{ABSENT_ID}/close",
                            "subject": f"file-{ABSENT_ID}", "class": "file", "method": "close", "profile": "core"}
    assert close.routes == ("/file-xxxx/close",)
    assert by_route["/system/whoami"].values["path"] == "/system/whoami"
    assert by_route["/system/whoami"].values["class"] == ""
    assert by_route["/record/new"].values["path"] == "/record/new"
    assert by_route["/notifications/get"].values["subject"] == "notifications"
    assert by_route["/app-xxxx/run"].profile == "apps"
    assert by_route["/applet-xxxx/run"].profile == "executables"
    for case in suite.cases:
        route = spec.route(case.values["route"])
        assert case.profile == route.profile
        # {path} is a concrete path that routes back to its route, with a strict-alphabet ID.
        assert spec.match(case.values["path"]).route == route.route
        if route.subject_kind == "instance":
            assert STRICT_ID.match(case.values["subject"].split("-", 1)[1])


@pytest.mark.parametrize(("for_each", "expected"), [
    ("{subject_kind: instance, class: file, method: [close, describe]}", ["/file-xxxx/close", "/file-xxxx/describe"]),
    ("{routes: [/system/whoami, /record/new]}", ["/record/new", "/system/whoami"]),
    ("{subject_kind: [class], profile: core}", ["/file/new", "/project/new", "/record/new"]),
    ("{class: record, exclude: [/record-xxxx/describe], method: [describe, close]}", ["/record-xxxx/close"]),
    ("{accepts_nonce: true, profile: core}", ["/file/new", "/record/new"]),
])
def test_filters_select_routes(tmp_path, for_each, expected):
    assert sorted(c.values["route"] for c in _load(tmp_path, for_each).cases) == expected


def test_schema_filters_use_the_shipped_method_schemas(tmp_path):
    with_output = {c.values["route"] for c in _load(tmp_path, "{has_output_schema: true}").cases}
    spec = load_spec()
    assert with_output == {r.route for r in spec.routes if r.has_output_schema}
    assert with_output and len(with_output) < len(registry_routes())


def test_a_filter_matching_nothing_is_an_error_with_the_line(tmp_path):
    with pytest.raises(CaseLoadError) as raised:
        _load(tmp_path, "{class: file, method: noSuchMethod}")
    [error] = raised.value.errors
    assert (error.file, error.line) == ("c.yaml", 4)
    assert "for_each matches no route" in error.message


def test_an_unknown_filter_key_is_an_error_with_the_line(tmp_path):
    with pytest.raises(CaseLoadError) as raised:
        _load(tmp_path, "{klass: file}")
    [error] = raised.value.errors
    assert error.line == 6 and "unknown key 'klass'" in error.message


def test_route_values_exist_only_in_for_each_cases(tmp_path):
    (tmp_path / "c.yaml").write_text(textwrap.dedent(HEAD + '    steps:\n      - route: "{path}"\n'))
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path / "c.yaml"], base=tmp_path)
    assert "{path} is not saved by an earlier step" in raised.value.errors[0].message
