"""`generate:` in a case: template values drawn from a JSON Schema or a named strategy, as hypothesis strategies.

A case with `generate` runs once per generated example; each example's values are template values like
saved ones ({new_name} in a body, an expectation ...). Named strategies encode documented value rules the
cases want to explore (an object name: UTF-8, non-empty, no character below U+0020).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_EXAMPLES = 10
MAX_EXAMPLES = 200
# Characters a name may never hold: C0 controls (docs: "must not match [\x00-\x1F]") and lone surrogates
# (not UTF-8 at all).
_NAME_EXCLUDED = ("Cs",)
_BELOW_SPACE = 0x20


def _name_characters(extra_excluded: str = ""):
    from hypothesis import strategies as st

    return st.characters(min_codepoint=_BELOW_SPACE, exclude_categories=_NAME_EXCLUDED,
                         exclude_characters=extra_excluded)


def _object_name():
    from hypothesis import strategies as st

    return st.text(_name_characters(), min_size=1, max_size=100)


def _folder_name():
    from hypothesis import strategies as st

    # A folder name: as an object name, without "/" (the path separator), and never "." or "..".
    return st.text(_name_characters("/"), min_size=1, max_size=64).filter(lambda name: name not in (".", ".."))


def _tag():
    from hypothesis import strategies as st

    return st.text(st.characters(exclude_categories=_NAME_EXCLUDED), min_size=1, max_size=64)


# name -> (what it draws, strategy factory)
NAMED_STRATEGIES = {
    "object-name": ("a data object or project name: 1-100 characters of any script, none below U+0020",
                    _object_name),
    "folder-name": ("one folder name: as object-name, without '/' and never '.' or '..'", _folder_name),
    "tag": ("a tag: a non-empty string (1-64 characters, control characters included)", _tag),
}


@dataclass(frozen=True)
class GeneratedValue:
    """One template value of a generating case: from a JSON Schema, or from a named strategy."""

    name: str
    schema: Mapping[str, Any] | None = None
    strategy: str | None = None


@dataclass(frozen=True)
class Generate:
    """A case's `generate`: how many examples to try, and the values each example draws."""

    examples: int
    values: tuple[GeneratedValue, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(value.name for value in self.values)


def build_generate(raw: Mapping[str, Any]) -> tuple[Generate, list[str]]:
    """The Generate of a schema-valid `generate` mapping, and the problems the meta schema cannot see."""
    problems = []
    values = []
    for name, source in raw["values"].items():
        value = GeneratedValue(name, schema=source.get("schema"), strategy=source.get("strategy"))
        if value.schema is not None and not _schema_is_valid(value.schema):
            import jsonschema  # only for the readable message: its import costs ~0.8 s of a run's start-up

            try:
                jsonschema.Draft202012Validator.check_schema(value.schema)
            except jsonschema.SchemaError as problem:
                problems.append(f"generate.values.{name}.schema is not a valid JSON Schema: {problem.message}")
        values.append(value)
    return Generate(examples=raw.get("examples", DEFAULT_EXAMPLES), values=tuple(values)), problems


def _schema_is_valid(schema: Any) -> bool:
    import jsonschema_rs

    try:
        return jsonschema_rs.meta.is_valid(schema)
    except (ValueError, TypeError):
        return False   # a value jsonschema-rs cannot take: jsonschema's check decides


def value_strategy(value: GeneratedValue):
    """The hypothesis strategy of one generated value."""
    if value.strategy is not None:
        return NAMED_STRATEGIES[value.strategy][1]()
    # schemathesis's JSON Schema engine (already ours through the fuzzer): every draft 2020-12 keyword.
    import jsonschema_rs
    from schemathesis.generation.jsonschema.builder import build
    from schemathesis.generation.jsonschema.context import Alphabet

    # Characters: every code point but the surrogates, which is what its default (those UTF-8 encodes) means;
    # said by category, because hypothesis works the codec's set out code point by code point, holding a
    # tuple for each (about 175 MiB for a moment, a second of CPU) in every process whose working directory
    # has no cache of it yet: a run's peak memory was that, not its cases.
    return build(dict(value.schema), draft=jsonschema_rs.Draft202012, formats={}, alphabet=Alphabet(codec=None))


def values_strategy(generate: Generate):
    """Each example: {name: value} for every generated value of the case."""
    from hypothesis import strategies as st

    return st.fixed_dictionaries({value.name: value_strategy(value) for value in generate.values})


@contextlib.contextmanager
def global_constants_only() -> Iterator[None]:
    """Hypothesis mixes literals from the caller's own loaded modules (any module outside site-packages, e.g.
    an editable install) into what it draws. Which modules are loaded differs between a CLI run, a pytest
    worker and a test, so the same seed would draw different values: fuzzing and generated cases draw from its
    global constants only. (If hypothesis moves this internal, nothing is patched and tests/fuzz notices.)"""
    try:
        from hypothesis.internal.conjecture import providers

        original, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE, providers.Constants()
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()
