"""Templates: placeholders keep types when alone, become text inside strings, and fail on unknown names."""

from __future__ import annotations

import pytest

from conformance.cases.template import (
    BUILTIN_NAMES,
    TemplateError,
    fill,
    names_in,
    placeholders_as,
    render,
    render_path,
    render_string,
)

SAVED = {"file": "file-B0000000000000000000000Q", "n": 5, "hdrs": {"x-a": "1"}, "list": ["a", "b"],
         "run_prefix": "dxc-1"}


def test_a_lone_placeholder_keeps_the_saved_value():
    assert render_string("{n}", SAVED) == 5
    assert render_string("{hdrs}", SAVED) == {"x-a": "1"}
    assert render_string("{list.1}", SAVED) == "b"


def test_placeholders_inside_text():
    assert render_string("/{file}/close", SAVED) == "/file-B0000000000000000000000Q/close"
    assert render_string("{run_prefix}-n{n}", SAVED) == "dxc-1-n5"
    assert render_string("{{file}} {{", SAVED) == "{file} {"
    # Braces around things that are not names stay as they are (raw JSON in a string, for instance).
    assert render_string('{"a": 1}', SAVED) == '{"a": 1}'


def test_render_walks_json_including_keys():
    body = {"objects": ["{file}"], "{run_prefix}": {"count": "{n}"}, "flag": True}
    assert render(body, SAVED) == {"objects": [SAVED["file"]], "dxc-1": {"count": 5}, "flag": True}


def test_unknown_names_fail_clearly():
    with pytest.raises(TemplateError, match=r"no saved value 'project' \(known: file, hdrs, list, n, run_prefix\)"):
        render_string("/{project}/describe", SAVED)
    with pytest.raises(TemplateError, match="has no 'nope'"):
        render_string("{hdrs.nope}", SAVED)


def test_names_in():
    assert names_in({"a": ["{file}", "x{n}y"], "{k.v}": 1, "b": "{{literal}}"}) == {"file", "n", "k"}
    assert names_in(7) == set()


def test_a_saved_list_is_sent_back_as_a_json_list():
    saved = {"ids": ["record-1", "record-2"], "n": 2}
    assert render({"objects": "{ids}", "first": "{ids.0}", "text": "ids: {ids}"}, saved) == {
        "objects": ["record-1", "record-2"], "first": "record-1", "text": 'ids: ["record-1", "record-2"]'}


def test_fill_writes_only_the_names_it_knows():
    assert fill("a{i}", {"i": 3}) == "a3"
    assert fill("{i}", {"i": 3}) == 3
    assert fill("/{record{i}}/close", {"i": 0}) == "/{record0}/close"
    assert fill({"r{i}": ["{i}", "{project}", "{{i}}"]}, {"i": 1}) == {"r1": [1, "{project}", "{{i}}"]}
    assert fill(7, {"i": 1}) == 7


def test_render_path_escapes_values_into_quoted_keys():
    assert render_path('$["{project}"].level', {"project": "project-B0000000000000000000000Q"}) == \
        '$["project-B0000000000000000000000Q"].level'
    assert render_path('$["{odd}"]', {"odd": 'a"b'}) == '$["a\\"b"]'
    assert render_path("$.results[0]", {}) == "$.results[0]"
    with pytest.raises(TemplateError):
        render_path('$["{nope}"]', {})


def test_placeholders_as():
    assert placeholders_as('$["{project}"].x', "x") == '$["x"].x'
    assert placeholders_as("{{a}}", "x") == "{a}"


def test_now_ms_is_a_builtin_name():
    assert {"now_ms", "run_prefix", "case_id", "work_project"} <= BUILTIN_NAMES
