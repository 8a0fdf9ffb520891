"""`generate:` in case files: validation, named strategies, many examples per case, shrinking, same seed."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.cases import CaseLoadError
from conformance.cases.generate import NAMED_STRATEGIES, GeneratedValue, value_strategy
from conformance.engine import run_case
from conformance.model import Outcome
from conformance.resources import cases_dir, schemas_dir

from ..engine.runner_support import case_of, faulty_server, session_for, write_suite

CASES = """
fixtures:
  g_record:
    steps:
      - route: /project/new
        body: {name: "{run_prefix}-g"}
        save: {project: $.id}
      - route: /record/new
        body: {project: "{project}", name: "{run_prefix}-r"}
        save: {record: $.id}
    finally:
      - route: /{project}/destroy
        body: {terminateJobs: true}
defaults: {area: semantics, topic: names, level: MUST, source: test}
cases:
  - id: tags-round-trip
    title: tags come back as sent
    uses: [g_record]
    generate:
      examples: 8
      values:
        tags: {schema: {type: array, minItems: 1, maxItems: 3, items: {type: string, minLength: 1}}}
    steps:
      - route: /{record}/addTags
        body: {project: "{project}", tags: "{tags}"}
        expect: {status: 200}
      - route: /{record}/describe
        body: {fields: {tags: true}}
        expect:
          values: {$.tags: "{tags}"}
  - id: long-names
    title: names of 900 to 1200 characters are taken
    uses: [g_record]
    generate:
      examples: 25
      values:
        name: {schema: {type: string, minLength: 900, maxLength: 1200, pattern: "^[a-z]+$"}}
    steps:
      - route: /{record}/rename
        body: {project: "{project}", name: "{name}"}
        expect: {status: 200}
"""


def test_a_generated_case_passes_on_every_example_and_says_how_many(tmp_path):
    suite = write_suite(tmp_path, CASES)
    case = case_of(suite, "tags-round-trip")
    with faulty_server() as server:
        result = run_case(session_for(server.url, suite, seed=3), case)
    assert result.outcome is Outcome.PASSED, result.message
    assert "8 generated example(s) passed; seed 3" in result.message
    assert result.id.endswith("::tags-round-trip")


def test_a_failure_is_shrunk_to_the_smallest_failing_example(tmp_path):
    suite = write_suite(tmp_path, CASES)
    with faulty_server("tags-do-not-stick") as server:
        result = run_case(session_for(server.url, suite, seed=3), case_of(suite, "tags-round-trip"))
    assert result.outcome is Outcome.FAILED
    # Every example fails on this server: the shrink ends at the simplest input the schema allows.
    assert 'generated values {"tags": ["0"]}: the smallest failing example' in result.message
    sent = [e.request.json for e in result.exchanges if e.request.path.endswith("/addTags")]
    assert sent and sent[-1]["tags"] == ["0"]


def test_a_fault_on_some_values_only_is_found_and_shrunk_within_budget(tmp_path):
    suite = write_suite(tmp_path, CASES)
    with faulty_server("crash-on-long-name") as server:
        result = run_case(session_for(server.url, suite, seed=0), case_of(suite, "long-names"))
    assert result.outcome is Outcome.FAILED, result.message
    names = [e.request.json["name"] for e in result.exchanges if e.request.path.endswith("/rename")]
    # The fault answers 500 above 1,000 characters: the example reported is one of those, and the shrink
    # (bounded: a shrink step reruns the whole case) found further, smaller failing ones on the way.
    assert len(names) == 1 and len(names[0]) > 1000
    found = re.search(r"of (\d+) run\(s\) \((\d+) failed; found after (\d+)\)", result.message)
    assert found, result.message
    runs, failed, explored = map(int, found.groups())
    assert failed >= 2 and runs > explored


def test_the_same_seed_draws_the_same_values_and_another_seed_others(tmp_path):
    suite = write_suite(tmp_path, CASES)
    case = case_of(suite, "tags-round-trip")

    def values_sent(seed: int) -> list:
        with faulty_server() as server:
            session = session_for(server.url, suite, seed=seed)
            sent: list = []
            original = session.transport.call

            def recording(path, **kwargs):
                if path.endswith("/addTags"):
                    sent.append(kwargs.get("json_body", {}).get("tags"))
                return original(path, **kwargs)

            session.transport.call = recording
            run_case(session, case)
        return sent

    first = values_sent(5)
    assert len(first) == 8
    assert values_sent(5) == first
    assert values_sent(6) != first


@pytest.mark.parametrize(("text", "says"), [
    ("generate: {values: {x: {strategy: no-such}}}", "generate.values.x.strategy"),
    ("generate: {values: {x: {schema: {type: nonsense}}}}", "is not a valid JSON Schema"),
    ("generate: {values: {x: {strategy: tag, schema: {}}}}", "generate.values.x"),
    ("generate: {examples: 0, values: {x: {strategy: tag}}}", "generate.examples"),
])
def test_a_broken_generate_is_a_load_error_with_file_and_line(tmp_path, text, says):
    case = ("cases:\n  - id: c\n    title: t\n    area: semantics\n    topic: t\n    level: MUST\n"
            f"    source: s\n    {text}\n    steps:\n      - route: /system/whoami\n")
    with pytest.raises(CaseLoadError) as problem:
        write_suite(tmp_path, case)
    assert says in str(problem.value) and "cases.yaml:" in str(problem.value)


def test_generated_names_are_known_to_templates(tmp_path):
    case = ("cases:\n  - id: c\n    title: t\n    area: semantics\n    topic: t\n    level: MUST\n    source: s\n"
            "    generate: {values: {n: {strategy: tag}}}\n"
            "    steps:\n      - route: /system/whoami\n        body: {x: '{n}', y: '{not_generated}'}\n")
    with pytest.raises(CaseLoadError) as problem:
        write_suite(tmp_path, case)
    assert "{not_generated}" in str(problem.value) and "{n}" not in str(problem.value)


def test_the_meta_schema_names_exactly_the_named_strategies():
    meta = json.loads((schemas_dir() / "meta" / "case-file.schema.json").read_text())
    declared = meta["$defs"]["generate"]["properties"]["values"]["additionalProperties"]["properties"]
    assert set(declared["strategy"]["enum"]) == set(NAMED_STRATEGIES)


@settings(max_examples=60, database=None)
@given(st.data())
def test_named_strategies_keep_the_documented_rules(data):
    name = data.draw(value_strategy(GeneratedValue("n", strategy="object-name")))
    assert 1 <= len(name) <= 100 and not any(ord(c) < 0x20 for c in name)
    name.encode("utf-8")  # never a lone surrogate
    folder = data.draw(value_strategy(GeneratedValue("f", strategy="folder-name")))
    assert "/" not in folder and folder not in (".", "..") and not any(ord(c) < 0x20 for c in folder)
    tag = data.draw(value_strategy(GeneratedValue("t", strategy="tag")))
    assert tag and tag.encode("utf-8")


def test_the_shipped_suite_has_generated_cases():
    from conformance.cases import load_suite

    suite = load_suite([cases_dir()], base=cases_dir().parent)
    generated = [c for c in suite.cases if c.generate is not None]
    assert len(generated) >= 3
    assert {v.strategy for c in generated for v in c.generate.values} >= {"object-name", "folder-name"}


def test_schema_strings_never_make_hypothesis_work_out_a_codec(monkeypatch):
    """Strings of a schema-generated value are drawn from every code point but the surrogates, said by category:
    with schemathesis's default alphabet (the UTF-8 codec) hypothesis works the codec's set out code point by
    code point, about 175 MiB for a moment in every process whose working directory has no cache of it."""
    from hypothesis.internal import charmap

    def refused(codec_name):
        raise AssertionError(f"hypothesis was asked for the characters of codec {codec_name}")

    monkeypatch.setattr(charmap, "intervals_from_codec", refused)
    strategy = value_strategy(GeneratedValue("s", schema={"type": "string", "minLength": 1, "maxLength": 8}))

    @settings(max_examples=30, database=None, deadline=None)
    @given(st.data())
    def draw(data):
        text = data.draw(strategy)
        assert 1 <= len(text) <= 8 and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)

    draw()
