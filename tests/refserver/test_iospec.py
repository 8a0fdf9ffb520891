"""iospec: inputSpec/outputSpec entries, input and output checked against them, links and JBORs in values,
JBOR resolution, and the bash variables of a job's input (sourced by a real bash with hostile values)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from conformance.refserver import iospec
from conformance.refserver.errors import InvalidInput

FILE = "file-" + "B" * 24
FILE2 = "file-" + "F" * 24
RECORD = "record-" + "G" * 24
APPLET = "applet-" + "J" * 24
WORKFLOW = "workflow-" + "K" * 24
PROJECT = "project-" + "P" * 24
JOB = "job-" + "Q" * 24
JOB2 = "job-" + "V" * 24


def link(object_id, project=None):
    return {"$dnanexus_link": object_id if project is None else {"project": project, "id": object_id}}


def jbor(job=JOB, field="out", **extra):
    return {"$dnanexus_link": {"job": job, "field": field, **extra}}


BARE = {"job": JOB, "field": "out"}


def refused(fn, *args, match):
    with pytest.raises(InvalidInput, match=match) as info:
        fn(*args)
    assert info.value.status == 422 and info.value.type == "InvalidInput"
    return info.value.message


# -- classes ---------------------------------------------------------------------------------------------------

def test_classes():
    assert iospec.CLASSES == {"int", "float", "string", "boolean", "hash", "file", "record", "applet", "workflow"}
    assert iospec.DATA_OBJECT_CLASSES == {"file", "record", "applet", "workflow"}


# -- check_spec ------------------------------------------------------------------------------------------------

GOOD_ENTRIES = [
    {"name": "n", "class": "int"},
    {"name": "_x9", "class": "float", "optional": True, "default": 1},
    {"name": "s", "class": "string", "choices": ["a", "b"], "default": "a", "help": "h", "label": "l", "group": "g"},
    {"name": "b", "class": "boolean", "default": False},
    {"name": "h", "class": "hash", "default": {"k": [1]}},
    {"name": "f", "class": "file", "patterns": ["*.bam", "x"], "default": link(FILE)},
    {"name": "r", "class": "record", "patterns": {"name": ["*.r"], "class": "record", "tag": ["t"]}},
    {"name": "a", "class": "applet", "default": link(APPLET, PROJECT)},
    {"name": "w", "class": "workflow", "choices": [link(WORKFLOW), {"value": link(WORKFLOW), "name": "w"}]},
    {"name": "xs", "class": "array:int", "default": [1, [2, [3]]], "choices": [1, 2, 3]},
    {"name": "fs", "class": "array:file", "default": [link(FILE), link(FILE2)], "suggestions": []},
    {"name": "hs", "class": "array:hash", "type": {"$and": ["A"]}, "x-unknown": {"kept": True}},
]


def test_check_spec_returns_the_entries_as_given():
    spec = json.loads(json.dumps(GOOD_ENTRIES))
    assert iospec.check_spec(spec, "inputSpec") is spec
    assert spec == GOOD_ENTRIES  # nothing added (no optional: false), unknown keys kept
    assert iospec.check_spec([], "outputSpec") == []


@pytest.mark.parametrize("spec, match", [
    ({"name": "n"}, r'"inputSpec" of input to be an array'),
    (["n"], r'"inputSpec\[0\]" of input to be a hash'),
    ([{"class": "int"}], r'"inputSpec\[0\]" of input to have property "name"'),
    ([{"name": "n"}], r'"inputSpec\[0\]" of input to have property "class"'),
    ([{"name": "1n", "class": "int"}], r'"inputSpec\[0\].name" of input to be an identifier'),
    ([{"name": "a-b", "class": "int"}], r'"inputSpec\[0\].name"'),
    ([{"name": "a\n", "class": "int"}], r'"inputSpec\[0\].name"'),
    ([{"name": "", "class": "int"}], r'"inputSpec\[0\].name"'),
    ([{"name": 5, "class": "int"}], r'"inputSpec\[0\].name"'),
    ([{"name": "n", "class": "int"}, {"name": "n", "class": "string"}], r'"inputSpec\[1\].name" of input repeats'),
    ([{"name": "n", "class": "integer"}], r'"inputSpec\[0\].class" of input to be one of'),
    ([{"name": "n", "class": "array:array:int"}], r'"inputSpec\[0\].class"'),
    ([{"name": "n", "class": "array:"}], r'"inputSpec\[0\].class"'),
    ([{"name": "n", "class": "database"}], r'"inputSpec\[0\].class"'),
    ([{"name": "n", "class": ["int"]}], r'"inputSpec\[0\].class"'),
    ([{"name": "n", "class": "int", "optional": "yes"}], r'"inputSpec\[0\].optional" of input to be a boolean'),
    ([{"name": "n", "class": "int", "help": 3}], r'"inputSpec\[0\].help" of input to be a string'),
    ([{"name": "n", "class": "int", "label": None}], r'"inputSpec\[0\].label"'),
    ([{"name": "n", "class": "int", "group": []}], r'"inputSpec\[0\].group"'),
    ([{"name": "n", "class": "int", "patterns": "*.x"}], r'"inputSpec\[0\].patterns"'),
    ([{"name": "n", "class": "int", "patterns": [1]}], r'"inputSpec\[0\].patterns"'),
    ([{"name": "n", "class": "int", "patterns": {"name": "*.x"}}], r'"inputSpec\[0\].patterns"'),
    ([{"name": "n", "class": "int", "patterns": {"other": []}}], r'"inputSpec\[0\].patterns"'),
    ([{"name": "n", "class": "int", "choices": 1}], r'"inputSpec\[0\].choices" of input to be an array'),
    ([{"name": "n", "class": "int", "suggestions": {}}], r'"inputSpec\[0\].suggestions"'),
    ([{"name": "n", "class": "int", "type": 1}], r'"inputSpec\[0\].type"'),
], ids=lambda v: None)
def test_check_spec_refuses(spec, match):
    refused(iospec.check_spec, spec, "inputSpec", match=match)


@pytest.mark.parametrize("cls, default", [
    ("int", 1.5), ("int", True), ("int", "1"), ("float", "1.0"), ("float", False), ("string", 1),
    ("boolean", 0), ("hash", []), ("file", FILE), ("file", link(RECORD)), ("record", {"id": RECORD}),
    ("applet", jbor()), ("array:int", 1), ("array:int", [1, "2"]), ("array:string", [["a"], [1]]),
    ("array:file", [link(FILE), FILE2]), ("int", None),
])
def test_check_spec_refuses_a_default_not_of_the_class(cls, default):
    refused(iospec.check_spec, [{"name": "x", "class": cls, "default": default}], "outputSpec",
            match=r'"outputSpec\[0\].default')


@pytest.mark.parametrize("cls, choices, bad", [
    ("int", [1, 2.5], 1), ("string", ["a", None], 1), ("boolean", [True, "false"], 1),
    ("array:int", [[1]], 0), ("file", [link(FILE), {"value": FILE}], 1), ("record", [link(FILE)], 0),
    ("hash", [{}, 1], 1),
])
def test_check_spec_refuses_a_choice_not_of_the_class(cls, choices, bad):
    refused(iospec.check_spec, [{"name": "x", "class": cls, "choices": choices}], "inputSpec",
            match=rf'"inputSpec\[0\].choices\[{bad}\]')


# -- links and JBORs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, target", [
    (link(FILE), (FILE, None)),
    (link(RECORD, PROJECT), (RECORD, PROJECT)),
    ({"$dnanexus_link": {"id": FILE}}, (FILE, None)),
    (link(FILE, "container-" + "B" * 24), (FILE, "container-" + "B" * 24)),
    (link("database-" + "B" * 24), ("database-" + "B" * 24, None)),
])
def test_links(value, target):
    assert iospec.is_link(value) and iospec.link_target(value) == target
    assert not iospec.is_jbor(value)


@pytest.mark.parametrize("value", [
    FILE, {"$dnanexus_link": FILE, "x": 1}, link(JOB), link(PROJECT), link("file-short"), link(FILE, JOB),
    {"$dnanexus_link": {"id": FILE, "extra": 1}}, {"$dnanexus_link": {"project": PROJECT}}, jbor(), BARE,
    {"$dnanexus_link": 5}, {"id": FILE}, [link(FILE)], None,
])
def test_not_links(value):
    assert not iospec.is_link(value) and iospec.link_target(value) is None


@pytest.mark.parametrize("value, parts", [
    (jbor(), (JOB, "out", None, None)),
    (jbor(index=0), (JOB, "out", 0, None)),
    (jbor(index=3, metadata="name"), (JOB, "out", 3, "name")),
    (BARE, (JOB, "out", None, None)),
    ({"$dnanexus_link": {"analysis": "analysis-" + "B" * 24, "field": "s.x"}}, ("analysis-" + "B" * 24, "s.x", None, None)),
])
def test_jbors(value, parts):
    assert iospec.is_jbor(value) and iospec.jbor_parts(value) == parts
    assert not iospec.is_link(value)


@pytest.mark.parametrize("value", [
    {"job": JOB, "field": "out", "index": 0},  # the bare form has exactly two keys
    {"$dnanexus_link": {"job": JOB}}, {"$dnanexus_link": {"job": FILE, "field": "x"}},
    jbor(field=""), jbor(field=3), jbor(index=-1), jbor(index=True), jbor(index=1.0), jbor(metadata=""),
    jbor(other=1), {"$dnanexus_link": {"analysis": JOB, "field": "x"}}, {"analysis": "analysis-" + "B" * 24, "field": "x"},
    {"$dnanexus_link": {"analysis": "analysis-" + "B" * 24, "job": JOB, "field": "x"}},
    {"$dnanexus_link": {"job": JOB, "field": "x"}, "y": 1}, {"job": "job-1", "field": "x"}, link(FILE), "job",
])
def test_not_jbors(value):
    assert not iospec.is_jbor(value) and iospec.jbor_parts(value) is None


def test_find_links_and_jbors_walk_arrays_and_hashes_but_not_references():
    value = {
        "a": [link(FILE), {"deep": [link(RECORD, PROJECT)]}, link(FILE)],
        "b": jbor(index=1), "c": BARE, "d": {"e": [jbor(JOB2, "x", metadata="name")]},
        "f": {"$dnanexus_link": {"id": FILE2, "project": PROJECT}}, "g": "file-" + "X" * 24,
        "h": {"$dnanexus_link": {"job": JOB2, "field": "y", "extra": link(APPLET)}},  # malformed: not looked into
    }
    assert iospec.find_links(value) == [(FILE, None), (RECORD, PROJECT), (FILE2, PROJECT)]
    assert iospec.find_jbors(value) == [(JOB, "out", 1, None), (JOB, "out", None, None), (JOB2, "x", None, "name")]
    assert iospec.find_links(link(FILE)) == [(FILE, None)] and iospec.find_jbors(3) == []


def test_normalize_jbors_rewrites_bare_ones_everywhere_and_changes_nothing_else():
    value = {"a": BARE, "b": [1, [BARE]], "c": jbor(index=2), "d": link(FILE), "e": {"job": JOB, "field": 1},
             "f": {"x": BARE}}
    before = json.loads(json.dumps(value))
    out = iospec.normalize_jbors(value)
    assert out == {"a": jbor(), "b": [1, [jbor()]], "c": jbor(index=2), "d": link(FILE),
                   "e": {"job": JOB, "field": 1}, "f": {"x": jbor()}}
    assert value == before  # not changed in place
    assert iospec.normalize_jbors(BARE) == jbor()


def test_walks_take_deep_values():
    deep: object = BARE
    for _ in range(5000):
        deep = [deep]
    assert iospec.find_jbors(deep) == [(JOB, "out", None, None)]
    out = iospec.normalize_jbors(deep)
    for _ in range(5000):
        out = out[0]
    assert out == jbor()


# -- resolve_jbors ---------------------------------------------------------------------------------------------

OUTPUTS = {JOB: {"out": [10, 20, 30], "one": link(FILE), "h": {"k": 1}}}


def test_resolve_jbors_replaces_fields_and_indexes():
    value = {"a": jbor(field="one"), "b": [jbor(index=2), BARE], "c": {"d": jbor(field="h")}, "e": 5}
    assert iospec.resolve_jbors(value, OUTPUTS.get) == {"a": link(FILE), "b": [30, [10, 20, 30]],
                                                        "c": {"d": {"k": 1}}, "e": 5}
    assert value["a"] == jbor(field="one")  # not changed in place


def test_resolve_jbors_keeps_references_to_jobs_not_done():
    value = {"a": jbor(JOB2), "b": jbor(index=0)}
    assert iospec.resolve_jbors(value, OUTPUTS.get) == {"a": jbor(JOB2), "b": 10}


@pytest.mark.parametrize("ref, match", [
    (jbor(field="missing"), 'no output field "missing"'),
    (jbor(index=3), "has 3 elements, no index 3"),
    (jbor(field="one", index=0), "is not an array"),
    (jbor(metadata="name"), "metadata"),
])
def test_resolve_jbors_errors(ref, match):
    with pytest.raises(ValueError, match=match):
        iospec.resolve_jbors({"x": [ref]}, OUTPUTS.get)


# -- check_input ------------------------------------------------------------------------------------------------

def spec_of(cls, **extra):
    return [{"name": "x", "class": cls, **extra}]


@pytest.mark.parametrize("cls, value", [
    ("int", 3), ("int", -2), ("int", 3.0), ("int", 2**53), ("float", 1.5), ("float", 2), ("float", -0.0),
    ("string", ""), ("string", "ünï\n"), ("boolean", True), ("boolean", False), ("hash", {}),
    ("hash", {"a": [1, None]}), ("file", link(FILE)), ("file", link(FILE, PROJECT)), ("record", link(RECORD)),
    ("applet", link(APPLET)), ("workflow", link(WORKFLOW, PROJECT)),
    ("array:int", []), ("array:int", [1, [2, -4], [[104]]]), ("array:float", [1, 2.5]),
    ("array:string", ["a", ["b"]]), ("array:boolean", [True]), ("array:hash", [{}, [{"a": 1}]]),
    ("array:file", [link(FILE), [link(FILE2, PROJECT)]]), ("array:record", [link(RECORD)]),
])
def test_check_input_takes_values_of_the_class(cls, value):
    given = {"x": value}
    assert iospec.check_input(spec_of(cls), given) == {"x": value}
    assert given["x"] is value  # kept as given (nested arrays not flattened)


@pytest.mark.parametrize("cls", sorted(iospec.CLASSES) + [f"array:{c}" for c in sorted(iospec.CLASSES)])
def test_check_input_takes_a_jbor_for_any_class(cls):
    for value in (jbor(), jbor(index=1), BARE):
        assert iospec.check_input(spec_of(cls), {"x": value}) == {"x": value}
    if cls.startswith("array:"):
        value = [jbor(), [BARE, jbor(JOB2, "y", index=0)]]
        assert iospec.check_input(spec_of(cls), {"x": value}) == {"x": value}


@pytest.mark.parametrize("cls, value, key", [
    ("int", 1.5, "input.x"), ("int", True, "input.x"), ("int", "3", "input.x"), ("int", None, "input.x"),
    ("int", [3], "input.x"), ("float", "1.5", "input.x"), ("float", False, "input.x"),
    ("float", float("nan"), "input.x"), ("float", float("inf"), "input.x"), ("string", 3, "input.x"),
    ("string", ["a"], "input.x"), ("boolean", "true", "input.x"), ("boolean", 1, "input.x"),
    ("hash", [], "input.x"), ("hash", "{}", "input.x"),
    ("array:int", 3, "input.x"), ("array:int", [1, [2, "3"]], r"input.x\[1\]\[1\]"),
    ("array:int", [1, True], r"input.x\[1\]"), ("array:string", [["a"], [[None]]], r"input.x\[1\]\[0\]\[0\]"),
    ("array:hash", [{}, 1], r"input.x\[1\]"), ("array:boolean", {"a": True}, "input.x"),
])
def test_check_input_refuses_values_not_of_the_class(cls, value, key):
    message = refused(iospec.check_input, spec_of(cls), {"x": value}, match=rf'expected key "{key}" of input to be')
    assert cls in message


@pytest.mark.parametrize("cls, value", [
    ("file", FILE), ("record", RECORD), ("applet", "applet-x"), ("workflow", WORKFLOW), ("array:file", [FILE]),
])
def test_check_input_wants_data_objects_as_links(cls, value):
    refused(iospec.check_input, spec_of(cls), {"x": value}, match="must be given as a DNAnexus link")


@pytest.mark.parametrize("cls, value", [
    ("file", link(RECORD)), ("record", link(FILE, PROJECT)), ("applet", link(WORKFLOW)),
    ("array:file", [link(FILE), link(RECORD)]), ("file", {"id": FILE}), ("file", 3), ("file", [link(FILE)]),
])
def test_check_input_refuses_links_to_other_classes(cls, value):
    refused(iospec.check_input, spec_of(cls), {"x": value}, match=r'expected key "input.x(\[1\])?" of input to be a '
                                                                   "DNAnexus link to a")


@pytest.mark.parametrize("value", [
    {"$dnanexus_link": 5}, {"$dnanexus_link": "file-1"}, {"$dnanexus_link": FILE, "x": 1},
    {"$dnanexus_link": {"job": JOB, "field": "f", "index": -1}}, {"$dnanexus_link": {"id": FILE, "project": 1}},
])
@pytest.mark.parametrize("spec", [None, spec_of("hash")])
def test_check_input_refuses_malformed_links_anywhere(value, spec):
    refused(iospec.check_input, spec, {"x": {"y": [1, value]}}, match=r'"\$dnanexus_link" in key "input.x.y\[1\]"')


def test_check_input_without_a_spec_returns_the_input_as_given():
    given = {"anything": [1, {"a": link(FILE)}], "j": BARE, "1-not-a-name": None}
    assert iospec.check_input(None, given) is given
    refused(iospec.check_input, None, [1], match='"input" of input to be a hash')


def test_check_input_fills_defaults_and_requires_what_has_none():
    spec = [{"name": "n", "class": "int"}, {"name": "d", "class": "array:int", "default": [1, [2]]},
            {"name": "o", "class": "string", "optional": True},
            {"name": "od", "class": "hash", "optional": True, "default": {"k": "v"}}]
    original = iospec.check_input(spec, {"n": 1})
    assert original == {"n": 1, "d": [1, [2]], "od": {"k": "v"}}
    original["d"][1].append(3)
    assert spec[1]["default"] == [1, [2]]  # the default is copied, not shared
    assert iospec.check_input(spec, {"n": 1, "d": [], "o": "x"}) == {"n": 1, "d": [], "o": "x", "od": {"k": "v"}}
    refused(iospec.check_input, spec, {}, match='expected key "input" of input to have property "n"')
    refused(iospec.check_input, spec, {"d": []}, match='property "n"')


def test_check_input_refuses_unknown_keys():
    message = refused(iospec.check_input, spec_of("int"), {"x": 1, "y": 2}, match='unexpected key "input.y"')
    assert "inputSpec" in message
    refused(iospec.check_input, [], {"x": 1}, match='"input.x"')
    assert iospec.check_input([], {}) == {}


@pytest.mark.parametrize("cls, choices, good, bad, key", [
    ("int", [1, 2], 2, 3, "input.x"),
    ("int", [1, 2], 2.0, True, "input.x"),  # True is refused as an int before choices are looked at
    ("float", [1.5, 2], 2.0, 1, "input.x"),
    ("string", ["a", "b"], "b", "c", "input.x"),
    ("hash", [{"a": 1}], {"a": 1}, {"a": True}, "input.x"),
    ("array:int", [1, 2], [1, [2, 1]], [1, [3]], r"input.x\[1\]\[0\]"),
    ("file", [{"value": link(FILE), "name": "f"}, link(FILE2)], link(FILE, PROJECT), link("file-" + "Z" * 24),
     "input.x"),
    ("array:file", [link(FILE)], [link(FILE), [link(FILE)]], [link(FILE), link(FILE2)], r"input.x\[1\]"),
])
def test_check_input_choices(cls, choices, good, bad, key):
    spec = spec_of(cls, choices=choices)
    assert iospec.check_input(spec, {"x": good}) == {"x": good}
    refused(iospec.check_input, spec, {"x": bad}, match=rf'expected key "{key}" of input to be ')
    assert iospec.check_input(spec, {"x": jbor()}) == {"x": jbor()}  # a JBOR is checked when it is resolved


# -- check_output ----------------------------------------------------------------------------------------------

OUT_SPEC = [{"name": "n", "class": "int"}, {"name": "f", "class": "file", "optional": True},
            {"name": "fs", "class": "array:record", "optional": True}]


@pytest.mark.parametrize("output", [
    {"n": 1}, {"n": 1, "f": link(FILE)}, {"n": jbor(), "f": BARE}, {"n": 2, "fs": [link(RECORD), [BARE]]},
    {"n": 1, "fs": []},
])
def test_check_output_accepts(output):
    assert iospec.check_output(OUT_SPEC, output) is None


@pytest.mark.parametrize("output, match", [
    ({}, 'required output field "n" is missing'),
    ({"f": link(FILE)}, '"n" is missing'),
    ({"n": "1"}, 'output field "n" should be an integer'),
    ({"n": 1, "f": FILE}, 'output field "f" should be a DNAnexus link to a file'),
    ({"n": 1, "f": link(RECORD)}, 'output field "f" should be'),
    ({"n": 1, "fs": [link(RECORD), [RECORD]]}, r'output field "fs\[1\]\[0\]" should be'),
    ({"n": 1, "extra": 2}, 'output field "extra" is not in the outputSpec'),
    ([], "not a hash"),
])
def test_check_output_refuses(output, match):
    message = iospec.check_output(OUT_SPEC, output)
    assert message is not None and re.search(match, message), message


def test_check_output_without_a_spec():
    assert iospec.check_output(None, {"anything": [FILE, 1]}) is None
    assert iospec.check_output(None, {}) is None
    assert iospec.check_output(None, "x") == "the job's output is not a hash (a JSON object)"
    assert iospec.check_output([], {}) is None and iospec.check_output([], {"a": 1}) is not None


# -- bash variables -------------------------------------------------------------------------------------------

def source(tmp_path, text: str, script: str) -> str:
    """Output of `script` run by bash -e after sourcing `text`, with HOME set to /home/job."""
    path = tmp_path / "environment"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(["bash", "-e", "-c", f'source "$1"; {script}', "bash", str(path)],
                            capture_output=True, env={"HOME": "/home/job", "PATH": "/usr/bin:/bin"},
                            timeout=20, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")


def values_of(tmp_path, text: str, name: str) -> list[str]:
    """The elements of bash variable `name` (one for a scalar), NUL-separated by printf."""
    out = source(tmp_path, text, f'printf "%s\\0" "${{{name}[@]}}"')
    return out.split("\0")[:-1]


HOSTILE = [
    "it's", '"double"', "$(touch pwned)", "`touch pwned`", "${HOME}", "a\nb\n", "\\", "; touch pwned",
    "ünïcödé ☃ 🐍", "-e", "*", " lead and trail ", "'", "", "$'x'", "!!", "\t\r",
]


def test_bash_variables_round_trip_hostile_strings_and_run_nothing(tmp_path):
    given = {f"v{i}": s for i, s in enumerate(HOSTILE)} | {"arr": HOSTILE}
    text = iospec.bash_variables(given, {})
    for i, s in enumerate(HOSTILE):
        assert values_of(tmp_path, text, f"v{i}") == [s]
    assert values_of(tmp_path, text, "arr") == HOSTILE
    assert not (tmp_path / "pwned").exists()


def test_bash_variables_of_numbers_booleans_hashes_and_links(tmp_path):
    given = {"i": 3, "f": 1.5, "t": True, "no": False, "nil": None, "h": {"a": "it's", "b": [1]},
             "l": link(RECORD, PROJECT), "j": jbor(), "ints": [1, 2], "mixed": ["a", 1, {"k": None}, [2]],
             "empty": []}
    text = iospec.bash_variables(given, {})
    assert source(tmp_path, text, 'echo "$i $f $t $no $nil"') == "3 1.5 true false null\n"
    assert json.loads(values_of(tmp_path, text, "h")[0]) == given["h"]
    assert json.loads(values_of(tmp_path, text, "l")[0]) == link(RECORD, PROJECT)
    assert json.loads(values_of(tmp_path, text, "j")[0]) == jbor()
    assert values_of(tmp_path, text, "ints") == ["1", "2"]
    assert values_of(tmp_path, text, "mixed") == ["a", "1", '{"k": null}', "[2]"]
    assert source(tmp_path, text, 'echo "${#empty[@]}"') == "0\n"
    assert source(tmp_path, text, "echo $(( i + ${ints[1]} ))") == "5\n"  # numbers are numbers to bash


def test_bash_variables_of_files(tmp_path):
    names = {FILE: "reads.fastq.gz", FILE2: "it's $(touch pwned).tar.gz"}
    f3 = "file-" + "Y" * 24
    names[f3] = "a/b.bam"
    given = {"one": link(FILE, PROJECT), "many": [link(FILE), link(FILE2)] + [link(f3)] * 9}
    text = iospec.bash_variables(given, names)
    assert json.loads(values_of(tmp_path, text, "one")[0]) == link(FILE, PROJECT)
    assert values_of(tmp_path, text, "one_name") == ["reads.fastq.gz"]
    assert values_of(tmp_path, text, "one_prefix") == ["reads"]
    assert values_of(tmp_path, text, "one_path") == ["/home/job/in/one/reads.fastq.gz"]
    assert [json.loads(v) for v in values_of(tmp_path, text, "many")] == given["many"]
    assert values_of(tmp_path, text, "many_name") == ["reads.fastq.gz", names[FILE2]] + ["a%2Fb.bam"] * 9
    assert values_of(tmp_path, text, "many_prefix") == ["reads", "it's $(touch pwned)"] + ["a%2Fb"] * 9
    assert values_of(tmp_path, text, "many_path")[:2] == ["/home/job/in/many/00/reads.fastq.gz",
                                                          f"/home/job/in/many/01/{names[FILE2]}"]
    assert values_of(tmp_path, text, "many_path")[10] == "/home/job/in/many/10/a%2Fb.bam"
    assert source(tmp_path, text, 'dx_like() { echo "$1"; }; dx_like "$one"') == json.dumps(link(FILE, PROJECT)) + "\n"
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name, patterns, prefix", [
    ("x.c", [], "x"), ("xx.c.gz", [], "xx"), ("x.tar.gz", [], "x"), ("a.gz", [], "a"), (".bashrc", [], ".bashrc"),
    ("noext", [], "noext"), ("a.b.c", [], "a.b"),
    ("foo.zed.bam", ["*.bam"], "foo.zed"), ("xxx.bwa-index.tar.gz", ["*.bwa-index.tar.gz", "*.gz"], "xxx"),
    ("food.sam", ["foo*.sam"], "food"), ("zebra.sam", ["z*ra.sam"], "zeb"), ("Z.BAM", ["*.bam"], "Z"),
    ("data", ["d*"], "data"),  # dxpy's own code would give "" (name[:-0]); the whole name is kept here
])
def test_file_prefixes(tmp_path, name, patterns, prefix):
    text = iospec.bash_variables({"f": link(FILE)}, {FILE: name}, patterns={"f": patterns})
    assert values_of(tmp_path, text, "f_prefix") == [prefix]


def test_spec_patterns():
    spec = [{"name": "a", "class": "file", "patterns": ["*.bam", "plain.txt"]},
            {"name": "b", "class": "file", "patterns": {"name": ["*.x"]}}, {"name": "c", "class": "int"}]
    assert iospec.spec_patterns(spec) == {"a": ["*.bam"]}
    assert iospec.spec_patterns(None) == {}


def test_bash_variables_skip_names_that_would_collide_or_are_not_identifiers(tmp_path):
    given = {"ok": "1", "a b": "x", "x;touch pwned": "1", "$(touch pwned)": "1", "9a": "1", "é": "1",
             "PATH": "/nowhere", "HOME": "/x", "IFS": "x", "UID": "0", "BASHOPTS": "x", "DX_JOB_ID": "x",
             "LD_PRELOAD": "x", "MINE": "env", "f": link(FILE), "f_name": "mine wins"}
    text = iospec.bash_variables(given, {FILE: "n.txt"}, environment={"MINE"})
    assert [line.split("=", 1)[0] for line in text.splitlines()] == ["ok", "f_name", "f", "f_prefix", "f_path"]
    assert values_of(tmp_path, text, "f_name") == ["mine wins"]
    assert values_of(tmp_path, text, "f_path") == ["/home/job/in/f/n.txt"]
    assert not (tmp_path / "pwned").exists()


def test_bash_variables_without_a_file_name_give_only_the_link(tmp_path):
    given = {"f": link(FILE), "fs": [link(FILE), link(FILE2)], "r": link(RECORD)}
    text = iospec.bash_variables(given, {FILE: "known.txt"})
    assert [line.split("=", 1)[0] for line in text.splitlines()] == ["fs", "r", "f", "f_name", "f_prefix", "f_path"]
    assert [json.loads(v) for v in values_of(tmp_path, text, "fs")] == given["fs"]


def test_bash_variables_of_strings_bash_cannot_hold(tmp_path):
    text = iospec.bash_variables({"nul": "a\x00b", "sur": "x\ud800y", "h": {"s": "\x00\ud800"}}, {})
    assert "\x00" not in text  # bash would drop it silently; the file never holds one
    text.encode("utf-8")  # writable as UTF-8
    assert values_of(tmp_path, text, "nul") == ["ab"]
    assert values_of(tmp_path, text, "sur") == ["x\ufffdy"]
    assert json.loads(values_of(tmp_path, text, "h")[0]) == {"s": "\x00\ud800"}  # JSON text keeps everything


def test_flatten_arrays_flattens_only_array_classes():
    from conformance.refserver.iospec import flatten_arrays

    spec = [{"name": "nums", "class": "array:int"}, {"name": "h", "class": "hash"}]
    given = {"nums": [1, [2, -4], [[104]]], "h": {"a": [1, [2]]}, "extra": [[1]]}
    assert flatten_arrays(spec, given) == {"nums": [1, 2, -4, 104], "h": {"a": [1, [2]]}, "extra": [[1]]}
    assert flatten_arrays(None, given) is given


def test_resolve_jbors_can_keep_what_does_not_resolve():
    from conformance.refserver.iospec import resolve_jbors

    good = {"$dnanexus_link": {"job": "job-" + "A" * 24, "field": "n"}}
    missing = {"$dnanexus_link": {"job": "job-" + "A" * 24, "field": "absent"}}
    outputs = {"job-" + "A" * 24: {"n": 7}}.get
    with pytest.raises(ValueError):
        resolve_jbors({"a": good, "b": missing}, outputs)
    assert resolve_jbors({"a": good, "b": missing}, outputs, keep_unresolvable=True) == {"a": 7, "b": missing}
