"""Templates: placeholders keep types when alone, become text inside strings, and fail on unknown names."""

from __future__ import annotations

import pytest

from conformance.cases.template import TemplateError, names_in, render, render_string

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
