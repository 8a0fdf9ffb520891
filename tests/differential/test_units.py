"""The normaliser, the comparer and the configuration file, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.differential.compare import Comparer
from conformance.differential.config import DiffConfigError, default_config, load_config
from conformance.differential.volatile import Placeholders, volatile_pattern
from conformance.differential.walker import IdMap, Walker

P1, P2 = "project-" + "B" * 24, "project-" + "F" * 24
Q1, Q2 = "project-" + "G" * 24, "project-" + "J" * 24
NOW = 1_764_150_000_000


def walker() -> Walker:
    return Walker(IdMap(), volatile_pattern("dxc-aaaa", "http://127.0.0.1:1"),
                  volatile_pattern("dxc-bbbb", "http://127.0.0.1:2"), now_ms=NOW)


def kinds(found) -> list[tuple[str, str]]:
    return [(m.kind, m.path) for m in found]


def test_ids_map_one_to_one() -> None:
    w = walker()
    assert w.compare({"id": P1, "p": f"/{P1}/x"}, {"id": P2, "p": f"/{P2}/x"}) == []
    # P1 already stands for P2: another candidate ID in its place is a difference, and so is P2 for another
    assert kinds(w.compare({"id": P1}, {"id": Q2})) == [("value", "$.id")]
    assert kinds(w.compare({"id": Q1}, {"id": P2})) == [("value", "$.id")]


def test_run_prefix_server_and_timestamps_are_normalised() -> None:
    w = walker()
    golden = {"name": "dxc-aaaa-x", "url": "http://127.0.0.1:1/a", "host": "127.0.0.1:1", "created": NOW - 5000}
    assert w.compare(golden, {"name": "dxc-bbbb-x", "url": "http://127.0.0.1:2/a", "host": "127.0.0.1:2",
                              "created": NOW - 10}) == []
    assert kinds(w.compare({"created": NOW}, {"created": NOW + 10 ** 11})) == [("timestamp", "$.created")]
    assert kinds(w.compare({"created": NOW}, {"created": "yesterday"})) == [("type", "$.created")]
    assert kinds(w.compare({"name": "dxc-aaaa-x"}, {"name": "dxc-bbbb-y"})) == [("value", "$.name")]


def test_keys_types_lengths_and_id_keyed_objects() -> None:
    w = walker()
    found = w.compare({"a": 1, "b": [1, 2], "c": 1, "perm": {P1: "VIEW"}},
                      {"a": 1.0, "b": [1], "d": 1, "perm": {P2: "VIEW"}})
    assert sorted(kinds(found)) == [("length", "$.b"), ("only-in-candidate", "$.d"), ("only-in-golden", "$.c"),
                                    ("type", "$.a")]


def test_arrays_of_ids_are_matched_through_the_map_not_by_position() -> None:
    w = walker()
    w.compare([P1, Q1], [P2, Q2])
    assert w.compare({"results": [{"id": Q1}, {"id": P1}]}, {"results": [{"id": P2}, {"id": Q2}]}) == []


def test_error_type_and_status_differences() -> None:
    marks_g, marks_c = Placeholders("dxc-aaaa", "http://127.0.0.1:1"), Placeholders("dxc-bbbb", "http://127.0.0.1:2")
    comparer = Comparer(marks_g, marks_c, now_ms=NOW)
    request = {"method": "POST", "url": "{{server}}/x", "path": "/x", "auth": True, "headers": {}, "json": {}}

    def answer(status, kind):
        return {"request": request, "route": "/x",
                "response": {"status": status, "headers": {"Content-Type": "application/json"},
                             "json": {"error": {"type": kind, "message": "m"}}}}
    found = comparer.compare_exchange("c::d", "step 1", answer(404, "ResourceNotFound"), answer(422, "InvalidInput"))
    assert sorted((d.kind, d.path) for d in found) == [("error-type", "$.error.type"), ("status", "status")]


def test_config_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "diff.yaml"
    path.write_text("level: SHOULD\nignore:\n  - path: $.a\n  - path: $.b\n    reason: ok\n    colour: red\n"
                    "levels:\n  - kind: nonsense\n    level: MUST\n")
    with pytest.raises(DiffConfigError) as problem:
        load_config(path)
    errors = problem.value.errors
    assert f"{path}:3: ignore[0] needs a reason (say why it is ignored)" in errors
    assert any(e.startswith(f"{path}:6: unknown key 'colour'") for e in errors)
    assert any(e.startswith(f"{path}:8: unknown kind 'nonsense'") for e in errors)


def test_default_ignores_each_have_a_reason() -> None:
    config = default_config()
    assert config.level == "SHOULD" and config.ignore and all(rule.reason for rule in config.ignore)
