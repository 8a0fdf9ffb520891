"""YAML to JSON-like data that remembers the line of every node, so errors can say `file:line`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml composes the same nodes (with the same line marks) about 10x faster than the pure-Python parser;
# loading the ~1000 cases is part of every `dxconform run` start-up.
COMPOSING_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(ValueError):
    """A file that is not one readable YAML document; carries the 1-based line of the trouble."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class MarkedDocument:
    """The data of a YAML file, plus the line of each node by JSON path (a mapping entry: its key's line)."""

    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, path: tuple | list) -> int:
        """The line of the node at `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def load_marked_file(path: str | Path) -> MarkedDocument:
    """load_marked of a file's text; an unreadable file is a YamlProblem at line 1 too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise YamlProblem(1, f"cannot read the file: {problem}") from None
    return load_marked(text)


def load_marked(text: str) -> MarkedDocument:
    """Parse one YAML document (safe tags only) into data plus line marks; YamlProblem on any trouble."""
    try:
        documents = list(yaml.compose_all(text, Loader=COMPOSING_LOADER))
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        raise YamlProblem(mark.line + 1 if mark else 1, f"YAML syntax error: {problem.problem or problem}") from None
    except yaml.YAMLError as problem:
        raise YamlProblem(1, f"YAML error: {problem}") from None
    if not documents or documents[0] is None:
        raise YamlProblem(1, "the file is empty")
    if len(documents) > 1:
        raise YamlProblem(documents[1].start_mark.line + 1, "a case file holds one YAML document (found a second '---')")
    document = MarkedDocument(None)
    document.data = _convert(documents[0], (), document.lines, SafeConstructor())
    return document


def _convert(node: Node, path: tuple, lines: dict[tuple, int], constructor: SafeConstructor) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        try:
            constructor.flatten_mapping(node)  # YAML merge keys (<<) become ordinary entries
        except ConstructorError as problem:
            raise YamlProblem(node.start_mark.line + 1, f"YAML error: {problem.problem}") from None
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, constructor)
            if not isinstance(key, str):
                raise YamlProblem(key_node.start_mark.line + 1, f"mapping key {key!r} is not a string")
            if key in result:
                raise YamlProblem(key_node.start_mark.line + 1, f"duplicate key {key!r}")
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, path + (key,), lines, constructor)
        return result
    if isinstance(node, SequenceNode):
        return [_convert(item, path + (index,), lines, constructor) for index, item in enumerate(node.value)]
    return _scalar(node, constructor)


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(node: Node, constructor: SafeConstructor) -> Any:
    if not isinstance(node, ScalarNode):
        raise YamlProblem(node.start_mark.line + 1, "a mapping key must be a plain string")
    if node.tag == _STR_TAG:   # most scalars: the constructor would return node.value after a few lookups
        return node.value
    try:
        return constructor.construct_object(node, deep=True)
    except ConstructorError as problem:
        raise YamlProblem(node.start_mark.line + 1, f"YAML error: {problem.problem}") from None
