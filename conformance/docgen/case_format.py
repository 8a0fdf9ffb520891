"""The case-format reference page, generated from schemas/meta/case-file.schema.json."""

from __future__ import annotations

import json
from typing import Any

from ..resources import schemas_dir
from .markdown import code, table

SCHEMA_PATH = "meta/case-file.schema.json"
# The sections of the page: (title, where in the schema, the anchor a type links to). A $ref to a
# definition with a section below links there; other definitions are spelled out inline.
SECTIONS = (
    ("The file", "#", "the-file"),
    ("defaults", "#/properties/defaults", "defaults"),
    ("A case", "#/$defs/case", "a-case"),
    ("for_each", "#/$defs/for_each", "for_each"),
    ("A fixture", "#/$defs/fixture", "a-fixture"),
    ("A step", "#/$defs/step", "a-step"),
    ("expect", "#/$defs/expect", "expect"),
    ("Matcher operators", "#/$defs/operator", "matcher-operators"),
)
VALUE_DEFS = ("name", "area", "topic", "level", "profile", "source", "path", "matcher")


def load_case_schema() -> dict[str, Any]:
    return json.loads((schemas_dir() / SCHEMA_PATH).read_text(encoding="utf-8"))


def resolve(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    node: Any = schema
    for part in pointer.lstrip("#").strip("/").split("/"):
        if part:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class TypeNamer:
    """Says in a few words what a schema node accepts, linking $refs to the page's sections."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self.links = {pointer: anchor for _, pointer, anchor in SECTIONS}
        self.links.update({f"#/$defs/{name}": f"value-{name}" for name in VALUE_DEFS})

    def __call__(self, node: dict[str, Any]) -> str:
        if "$ref" in node:
            ref = node["$ref"]
            name = ref.rsplit("/", 1)[-1]
            if ref in self.links:
                return f"[{name}](#{self.links[ref]})"
            return self(resolve(self.schema, ref))
        if "const" in node:
            return code(json.dumps(node["const"]))
        if "enum" in node:
            return "one of " + ", ".join(code(json.dumps(v) if not isinstance(v, str) else v) for v in node["enum"])
        for combinator in ("oneOf", "anyOf"):
            if combinator in node:
                return " or ".join(self(option) for option in node[combinator])
        kind = node.get("type")
        if isinstance(kind, list):
            return " or ".join(kind)
        if kind == "array":
            items = node.get("items")
            text = f"list of {self._nested(items)}" if isinstance(items, dict) else "list"
            return text + self._bounds(node, "minItems", "maxItems", "items")
        if kind == "string":
            if "pattern" in node:
                return f"string matching {code(node['pattern'])}"
            return "string" + (" (not empty)" if node.get("minLength") else "")
        if kind == "object":
            values = node.get("additionalProperties")
            if isinstance(values, dict) and "properties" not in node:
                return f"mapping of {self._nested(values)}"
            return "mapping"
        if kind in ("number", "integer"):
            return kind + self._range(node)
        if kind == "boolean":
            return "boolean"
        return "any JSON value"

    def _nested(self, node: dict[str, Any]) -> str:
        text = self(node)
        return f"({text})" if " or " in text else text

    @staticmethod
    def _bounds(node: dict[str, Any], low: str, high: str, noun: str) -> str:
        parts = []
        if node.get(low):
            parts.append(f"at least {node[low]}")
        if high in node:
            parts.append(f"at most {node[high]}")
        if node.get("uniqueItems"):
            parts.append("no repeats")
        return f" ({', '.join(parts)})" if parts else ""

    @staticmethod
    def _range(node: dict[str, Any]) -> str:
        parts = []
        for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                          ("exclusiveMaximum", "<")):
            if key in node:
                parts.append(f"{word} {node[key]}")
        return f" ({', '.join(parts)})" if parts else ""


def property_table(node: dict[str, Any], name_type: TypeNamer) -> str:
    required = set(node.get("required", ()))
    rows = []
    for key, sub in node.get("properties", {}).items():
        target = resolve(name_type.schema, sub["$ref"]) if set(sub) == {"$ref"} else sub
        # A matcher's own description says what a matcher is, not what this key means.
        inherited = "" if sub.get("$ref") == "#/$defs/matcher" else target.get("description", "")
        description = sub.get("description") or inherited
        rows.append((code(key), "yes" if key in required else "", name_type(sub), description))
    return table(("key", "required", "value", "meaning"), rows)


def constraints(node: dict[str, Any]) -> list[str]:
    """Rules the schema states about a node as a whole, in words."""
    notes = []
    for option_list, word in (("anyOf", "at least one of"), ("oneOf", "exactly one of")):
        keys = [opt["required"][0] for opt in node.get(option_list, ()) if len(opt.get("required", ())) == 1]
        if keys:
            notes.append(f"Holds {word} " + ", ".join(code(k) for k in keys) + ".")
    forbidden = node.get("not", {}).get("required")
    if forbidden:
        notes.append("Never both " + " and ".join(code(k) for k in forbidden) + ".")
    if node.get("additionalProperties") is False:
        notes.append("No other keys.")
    return notes


def render() -> str:
    schema = load_case_schema()
    name_type = TypeNamer(schema)
    out = ["# Case format reference", "",
           f"Generated from `schemas/{SCHEMA_PATH}`, the schema every YAML file under `cases/` must pass before "
           "anything runs (`dxconform run` stops with `file:line: message` for each problem). A worked example "
           "is in [Write a case](write-a-case.md).", "",
           schema.get("description", ""), ""]
    for title, pointer, anchor in SECTIONS:
        node = resolve(schema, pointer)
        out += [f'<a id="{anchor}"></a>', "", f"## {title}", ""]
        if node.get("description") and pointer != "#":
            out += [node["description"], ""]
        notes = constraints(node)
        if notes:
            out += [" ".join(notes), ""]
        out.append(property_table(node, name_type))
    out += ["## Values", ""]
    rows = []
    for name in VALUE_DEFS:
        node = schema["$defs"][name]
        shown = "a literal, or a mapping with one operator key" if name == "matcher" else name_type(node)
        rows.append((f'<a id="value-{name}"></a>{code(name)}', shown, node.get("description", "")))
    out.append(table(("value", "form", "meaning"), rows))
    return "\n".join(out)
