"""The fuzzer's parts on their own: mutations break one documented rule, pinning, steps, repro, results."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.fuzz import FuzzConfig, FuzzFinding, FuzzReport
from conformance.fuzz.choices import DrawnChoices
from conformance.fuzz.edges import edge_candidates, nesting_depth
from conformance.fuzz.mutations import DELETE, mutation_candidates
from conformance.fuzz.pinning import pin
from conformance.fuzz.pool import Slots
from conformance.fuzz.positions import delete_at, input_schema, positions, set_at
from conformance.fuzz.repro import curl_commands, dxpy_snippet
from conformance.fuzz.steps import Step, Unbound, placeholder
from conformance.model import Area, Exchange, Outcome, Request
from conformance.spec import load_spec

PROJECT = "project-" + "B" * 24
ADD_TAGS = {"project": PROJECT, "tags": ["a"]}


def _found(route, body):
    node, resolver = input_schema(load_spec(), route)
    return list(positions(node, body, resolver)), resolver


def _apply(body, mutation):
    return delete_at(body, mutation.path) if mutation.value is DELETE else set_at(body, mutation.path, mutation.value)


def test_every_mutation_of_a_valid_body_is_rejected_by_the_schema_or_not_json():
    validator = load_spec().validator("/file-xxxx/addTags", "input")
    assert validator.is_valid(ADD_TAGS)
    mutations = mutation_candidates(*_found("/file-xxxx/addTags", ADD_TAGS))
    kinds = {m.kind for m in mutations}
    assert {"type", "required", "pattern", "root", "json"} <= kinds
    for mutation in mutations:
        if mutation.kind != "json":
            assert not validator.is_valid(_apply(ADD_TAGS, mutation)), mutation.label
    # The likeliest client mistake comes first for a list: a bare string ("tags": "a").
    first = next(m for m in mutations if m.kind == "type" and m.path == ("tags",))
    assert first.value == "fuzz"


def test_mutations_never_use_unknown_keys_or_a_null_for_an_optional_key():
    mutations = mutation_candidates(*_found("/file-xxxx/download", {"project": PROJECT}))
    assert not any(m.value is None and m.path for m in mutations)
    assert all(len(m.path) <= 1 for m in mutations)   # only declared properties are touched


def test_enum_mutations_pick_a_value_outside_the_enum():
    mutations = mutation_candidates(*_found("/project-xxxx/invite", {"invitee": "user-bob", "level": "VIEW"}))
    enum = [m for m in mutations if m.kind == "enum"]
    assert [m.path for m in enum] == [("level",)]


def test_edges_keep_the_body_valid_and_reach_the_limits():
    body = {"project": PROJECT, "name": "x", "details": {}}
    edges = edge_candidates(*_found("/record/new", body))
    kinds = {e.kind for e in edges}
    assert {"long", "deep", "unknown"} <= kinds
    assert max(nesting_depth(e.value) for e in edges if e.kind == "deep") >= 100
    assert max(len(e.value) for e in edges if e.kind == "long" and e.path == ("name",)) >= 65536


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_pinning_replaces_every_id_with_a_pool_slot(data):
    slots = Slots({"project": ("project",), "file": ("file_open",), "user": ("user_self", "user_other1")},
                  users_as_keys=("user_other1",))
    body = {"project": "project-" + "x" * 24, "objects": ["file-" + "y" * 24, "applet-" + "z" * 24],
            "user-alice": "VIEW", "invitee": "someone@example.com", "name": "file-" + "q" * 24 + "-not-an-id"}
    pinned = pin(DrawnChoices(data.draw), body, slots)
    assert pinned["project"] == placeholder("project")
    assert pinned["objects"] == [placeholder("file_open"), "applet-" + "z" * 24]
    assert placeholder("user_other1") in pinned        # a member key never names the acting user
    assert pinned["invitee"] in (placeholder("user_self"), placeholder("user_other1"))
    assert pinned["name"] == body["name"]


def test_steps_bind_placeholders_and_round_trip_through_json():
    step = Step("/file-xxxx/addTags", subject="file_open", body={"project": placeholder("project"), "tags": []})
    bindings = {"file_open": "file-" + "F" * 24, "project": PROJECT}
    assert step.path(bindings) == "/file-" + "F" * 24 + "/addTags"
    assert json.loads(step.payload(bindings)) == {"project": PROJECT, "tags": []}
    assert Step.from_json(json.loads(json.dumps(step.to_json()))) == step
    null_body = Step("/system/whoami", body=None)
    assert null_body.payload({}) == b"null" and Step.from_json(null_body.to_json()) == null_body
    with pytest.raises(Unbound):
        step.path({})


def test_repro_snippets_never_carry_the_token():
    request = Request("POST", "http://127.0.0.1:1/system/whoami", "/system/whoami",
                      {"Authorization": "Bearer alice-token"}, b'{"fields": {"clientIp": true}}')
    exchanges = [Exchange(request=request)]
    curl, script = curl_commands(exchanges), dxpy_snippet(exchanges)
    assert "alice-token" not in curl + script
    assert " http://127.0.0.1:1/system/whoami " in curl and "$DX_API_TOKEN" in curl
    assert "dxpy.DXHTTPRequest('/system/whoami', {'fields': {'clientIp': True}})" in script


def test_findings_become_failed_results_with_a_stable_id():
    finding = FuzzFinding(mode="negative", route="/file-xxxx/addTags", rule="rejects_invalid_input", level="MUST",
                          area="json-input", title="Invalid input was accepted", message="m", source="s", seed=3,
                          count=4, steps=[Step("/file-xxxx/addTags", "file_open", {"tags": "fuzz"})])
    report = FuzzReport(seed=3, examples=8, modes=["negative"], run_prefix="dxc-fuzz-0")
    report.findings[finding.id] = finding
    report.count("negative", "/file-xxxx/addTags", 8)
    results = report.to_results()
    assert [r.id for r in results] == ["fuzz/negative//file-xxxx/addTags::rejects_invalid_input", "fuzz/negative"]
    assert results[0].area is Area.JSON_INPUT and results[0].outcome is Outcome.FAILED
    assert "seed 3" in results[0].message and "4 generated" in results[0].message
    assert results[1].outcome is Outcome.FAILED
    saved = FuzzFinding.from_json(json.loads(json.dumps(finding.to_json())))
    assert saved.id == finding.id and saved.steps == finding.steps


def test_config_refuses_what_cannot_run():
    with pytest.raises(ValueError):
        FuzzConfig("http://127.0.0.1:1", {})
    with pytest.raises(ValueError):
        FuzzConfig("http://127.0.0.1:1", {"alice": "t"}, examples=-1)
    config = FuzzConfig("http://127.0.0.1:1", {"alice": "t"})
    assert config.run_prefix.startswith("dxc-fuzz-") and config.seed_for("a") == config.seed_for("a")
    assert config.seed_for("a") != config.seed_for("b")


def test_draws_do_not_depend_on_which_local_modules_are_loaded(tmp_path, monkeypatch):
    """Hypothesis mixes literals of loaded local modules into its draws; fuzzing must not (same seed, same
    requests, whether a run loaded the CLI, a pytest worker or a test module)."""
    import importlib

    from hypothesis import strategies as st

    from conformance.fuzz.drive import explore  # (draws under cases.generate.global_constants_only)

    def drawn() -> list:
        seen: list = []
        explore(st.lists(st.text(), min_size=3, max_size=6), 123, 120, seen.append)
        return seen

    before = drawn()
    literals = ", ".join(repr(f"local-constant-{i}") for i in range(300))
    (tmp_path / "dxc_literals_module.py").write_text(f"LITERALS = [{literals}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("dxc_literals_module")
    after = drawn()
    assert after == before
    assert not any("local-constant-" in text for example in after for text in example)


def test_at_each_place_a_wrong_type_comes_before_a_removal():
    """The first candidate of a place is drawn most: for addTags' `tags`, a bare string, not its removal."""
    at_tags = [m for m in mutation_candidates(*_found("/file-xxxx/addTags", ADD_TAGS)) if m.path == ("tags",)]
    assert (at_tags[0].kind, at_tags[0].value) == ("type", "fuzz")
    assert any(m.kind == "required" for m in at_tags)
