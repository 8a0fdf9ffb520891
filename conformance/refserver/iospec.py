"""I/O specifications and values of executables: spec entries, input and output checked against them, links and
job-based references found in values, bash variables for a job's input.

Pure functions: no store, no HTTP. Bad input raises InvalidInput naming the key; an output that breaks its
outputSpec is described by check_output (the job then fails with OutputError). Sources: EXECUTABLES-DIGEST §2.5
(entries, value compatibility), §4.4 (JBOR forms), §4.7 (job_output.json), §8.2 (bash variables, as dxpy's
file_load_utils.gen_bash_vars writes them).

The walks that find, rewrite, resolve and check references are iterative (a job's job_output.json may nest
deeper than a request body may); bash_variables writes hashes with json.dumps, so its values must be within
the server's JSON depth limit (limits.MAX_JSON_DEPTH).
"""

from __future__ import annotations

import fnmatch
import json
import math
import os.path
import re
import shlex
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from .errors import InvalidInput
from .ids import DATA_OBJECT_CLASSES as _LINKABLE_CLASSES
from .ids import id_class

# The classes of inputs and outputs; `array:<class>` of each is a class too (digest §2.5).
CLASSES = frozenset({"int", "float", "string", "boolean", "hash", "file", "record", "applet", "workflow"})
# The classes of CLASSES whose values are links to data objects.
DATA_OBJECT_CLASSES = frozenset({"file", "record", "applet", "workflow"})
ARRAY_PREFIX = "array:"
LINK_KEY = "$dnanexus_link"

# An input or output name becomes a Python keyword argument and a bash variable (digest §2.5).
NAME_RE = re.compile(r"[a-zA-Z_][0-9a-zA-Z_]*")
_TEXT_KEYS = ("help", "label", "group")
_EXPECTED = {
    "int": "an integer", "float": "a number", "string": "a string", "boolean": "a boolean", "hash": "a hash",
}
_LINK_FORMS = ('a data object ID, {"id", "project"?} or a job-based reference '
               '{"job" | "analysis", "field", "index"?, "metadata"?}')
_SURROGATE = re.compile("[\ud800-\udfff]")
_DESCEND = object()  # _rewrite: look inside this node

# Bash variables the job's shell depends on or cannot assign (readonly): an input of such a name gets no
# variable, as dxpy's gen_bash_vars skips names already in the environment.
RESERVED_BASH_NAMES = frozenset({
    "HOME", "PATH", "PWD", "OLDPWD", "IFS", "SHELL", "ENV", "BASH_ENV", "CDPATH", "GLOBIGNORE", "PS1", "PS2",
    "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "EUID", "UID", "PPID", "HOSTNAME", "USER", "LOGNAME",
    "TMPDIR", "LANG", "LC_ALL", "TERM", "PYTHONPATH", "PYTHONHOME", "FUNCNAME", "GROUPS", "LINENO", "RANDOM",
    "SECONDS", "SRANDOM", "EPOCHSECONDS", "EPOCHREALTIME", "OPTIND", "OPTARG", "REPLY", "_",
})
RESERVED_BASH_PREFIXES = ("BASH", "DX_", "LD_", "LC_")


# -- links and job-based object references ------------------------------------------------------------------

def link_target(value: Any) -> tuple[str, str | None] | None:
    """(object ID, project or None) of a link {"$dnanexus_link": ID} or {"$dnanexus_link": {"id", "project"?}};
    None for anything else (a JBOR included)."""
    if not isinstance(value, dict) or len(value) != 1 or LINK_KEY not in value:
        return None
    target = value[LINK_KEY]
    if isinstance(target, str):
        return (target, None) if id_class(target) in _LINKABLE_CLASSES else None
    if isinstance(target, dict) and "id" in target and set(target) <= {"id", "project"}:
        object_id, project = target["id"], target.get("project")
        if id_class(object_id) not in _LINKABLE_CLASSES:
            return None
        if project is not None and id_class(project) not in ("project", "container"):
            return None
        return object_id, project
    return None


def is_link(value: Any) -> bool:
    return link_target(value) is not None


def jbor_parts(value: Any) -> tuple[str, str, int | None, str | None] | None:
    """(job ID, field, index or None, metadata or None) of a job-based object reference: {"$dnanexus_link":
    {"job", "field", "index"?, "metadata"?}} or the legacy bare {"job", "field"} (exactly those two keys, as
    dx-jobutil-add-output writes it); None for anything else."""
    if not isinstance(value, dict):
        return None
    if set(value) == {"job", "field"}:
        ref, source = value, "job"
    elif len(value) == 1 and isinstance(value.get(LINK_KEY), dict):
        ref = value[LINK_KEY]
        source = "analysis" if "analysis" in ref else "job"  # an analysis' output field: digest 4.4
        if not {source, "field"} <= set(ref) <= {source, "field", "index", "metadata"}:
            return None
    else:
        return None
    job, field, index, metadata = ref[source], ref["field"], ref.get("index"), ref.get("metadata")
    if id_class(job) != source or not isinstance(field, str) or not field:
        return None
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        return None
    if metadata is not None and (not isinstance(metadata, str) or not metadata):
        return None
    return job, field, index, metadata


def is_jbor(value: Any) -> bool:
    return jbor_parts(value) is not None


def _is_reference(node: Any) -> bool:
    """A link, a JBOR (either form) or any other hash with the link key: walks never look inside one."""
    return isinstance(node, dict) and (LINK_KEY in node or is_jbor(node))


def _nodes(value: Any) -> Iterator[Any]:
    """Every node of `value` in document order, not looking inside links and JBORs."""
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        if _is_reference(node):
            continue
        if isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def find_links(value: Any) -> list[tuple[str, str | None]]:
    """The (object ID, project or None) of every link in `value`, de-duplicated, in document order."""
    found = (link_target(node) for node in _nodes(value))
    return list(dict.fromkeys(t for t in found if t is not None))


def find_jbors(value: Any) -> list[tuple[str, str, int | None, str | None]]:
    """The parts (jbor_parts) of every JBOR in `value`, de-duplicated, in document order."""
    found = (jbor_parts(node) for node in _nodes(value))
    return list(dict.fromkeys(t for t in found if t is not None))


def _rewrite(value: Any, replace: Callable[[Any], Any]) -> Any:
    """A copy of `value` where each node is replace(node), or, where that is _DESCEND, the node itself with its
    children rewritten the same way (a new container; `value` is not changed)."""
    def step(node: Any, pending: list) -> Any:
        new = replace(node)
        if new is not _DESCEND:
            return new
        if isinstance(node, dict):
            new = {}
        elif isinstance(node, list):
            new = [None] * len(node)
        else:
            return node
        pending.append((node, new))
        return new

    pending: list[tuple[Any, Any]] = []
    root = step(value, pending)
    while pending:
        source, target = pending.pop()
        for k, child in (source.items() if isinstance(source, dict) else enumerate(source)):
            target[k] = step(child, pending)
    return root


def _jbor_link(parts: tuple[str, str, int | None, str | None]) -> dict:
    job, field, index, metadata = parts
    ref: dict[str, Any] = {"analysis" if id_class(job) == "analysis" else "job": job, "field": field}
    if index is not None:
        ref["index"] = index
    if metadata is not None:
        ref["metadata"] = metadata
    return {LINK_KEY: ref}


def normalize_jbors(value: Any) -> Any:
    """`value` with every bare JBOR {"job", "field"} rewritten as {"$dnanexus_link": {"job", "field"}}."""
    def replace(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"job", "field"} and is_jbor(node):
            return _jbor_link(jbor_parts(node))  # type: ignore[arg-type]
        return node if _is_reference(node) else _DESCEND

    return _rewrite(value, replace)


def resolve_jbors(value: Any, outputs: Callable[[str], dict | None], *, keep_unresolvable: bool = False) -> Any:
    """`value` with every JBOR replaced by the output field it references. `outputs(job_id)` is the output of a
    done job, or None while the job is not done: a JBOR to such a job stays as it is. ValueError when the
    field is missing, the index is out of range or applied to a non-array, or the JBOR asks for metadata; with
    `keep_unresolvable`, such a JBOR stays as it is instead (what a describe shows while the others resolve)."""
    def replace(node: Any) -> Any:
        if not keep_unresolvable:
            return resolve_one(node)
        try:
            return resolve_one(node)
        except ValueError:
            return node

    def resolve_one(node: Any) -> Any:
        parts = jbor_parts(node)
        if parts is None:
            return node if _is_reference(node) else _DESCEND
        job, field, index, metadata = parts
        if metadata is not None:
            raise ValueError(f'the reference to "{field}" of {job} asks for metadata ("{metadata}"), '
                             "which this server does not resolve")
        output = outputs(job)
        if output is None:
            return node
        if not isinstance(output, dict) or field not in output:
            raise ValueError(f'{job} has no output field "{field}"')
        resolved = output[field]
        if index is None:
            return resolved
        if not isinstance(resolved, list):
            raise ValueError(f'output field "{field}" of {job} is not an array, so it has no index {index}')
        if index >= len(resolved):
            raise ValueError(f'output field "{field}" of {job} has {len(resolved)} elements, no index {index}')
        return resolved[index]

    return _rewrite(value, replace)


# -- values of a class ----------------------------------------------------------------------------------------

def _split_class(cls: str) -> tuple[str, bool]:
    """(base class, is an array class)."""
    if cls.startswith(ARRAY_PREFIX):
        return cls[len(ARRAY_PREFIX):], True
    return cls, False


def _expected(base: str) -> str:
    if base in DATA_OBJECT_CLASSES:
        return f'a DNAnexus link to a {base}, {{"{LINK_KEY}": "{base}-xxxx"}}'
    return _EXPECTED[base]


def _scalar_problem(base: str, value: Any) -> str | None:
    """None if `value` is one value of `base` (JBORs aside); else what was expected instead."""
    if base == "int":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    elif base == "float":
        ok = isinstance(value, int) and not isinstance(value, bool) or \
            isinstance(value, float) and math.isfinite(value)
    elif base == "string":
        ok = isinstance(value, str)
    elif base == "boolean":
        ok = isinstance(value, bool)
    elif base == "hash":
        ok = isinstance(value, dict)
    else:
        target = link_target(value)
        if target is None:
            if isinstance(value, str):
                return f"{_expected(base)}: data objects must be given as a DNAnexus link"
            return _expected(base)
        if id_class(target[0]) != base:
            return f"{_expected(base)}, not a link to a {id_class(target[0])}"
        return None
    return None if ok else _expected(base)


def _elements(value: list, key: str) -> Iterator[tuple[Any, str]]:
    """The (element, key) pairs of an array value with nested arrays flattened, in order."""
    stack = [(value, key)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed([(item, f"{path}[{i}]") for i, item in enumerate(node)]))
        else:
            yield node, path


def _value_problem(cls: str, value: Any, key: str, *, jbors: bool) -> tuple[str, str] | None:
    """(key, what was expected) for the first part of `value` that is not of `cls`, or None. JBORs stand for
    any value or array element where `jbors` is true."""
    base, is_array = _split_class(cls)
    if jbors and is_jbor(value):
        return None
    if not is_array:
        problem = _scalar_problem(base, value)
        return None if problem is None else (key, problem)
    if not isinstance(value, list):
        return key, f"an array (class {cls})"
    for item, path in _elements(value, key):
        if jbors and is_jbor(item):
            continue
        problem = _scalar_problem(base, item)
        if problem is not None:
            return path, problem
    return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, but a boolean is never a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _choice_value(base: str, choice: Any) -> Any:
    """The value a choice stands for: a data-object choice may be {"value": link, "project"?, "name"?}."""
    if base in DATA_OBJECT_CLASSES and isinstance(choice, dict) and "value" in choice and LINK_KEY not in choice:
        return choice["value"]
    return choice


def _in_choices(base: str, value: Any, choices: list) -> bool:
    if base in DATA_OBJECT_CLASSES:  # the same object, whichever project the link names
        target = link_target(value)
        return target is not None and \
            any((link_target(_choice_value(base, c)) or (None,))[0] == target[0] for c in choices)
    return any(_same(value, c) for c in choices)


# -- spec entries --------------------------------------------------------------------------------------------

def _entry_problem(entry: dict, key: str) -> str | None:
    """The InvalidInput message for the first fault of one spec entry, or None."""
    if "name" not in entry:
        return f'expected key "{key}" of input to have property "name"'
    if not isinstance(entry["name"], str) or not NAME_RE.fullmatch(entry["name"]):
        return f'expected key "{key}.name" of input to be an identifier ([a-zA-Z_][0-9a-zA-Z_]*)'
    if "class" not in entry:
        return f'expected key "{key}" of input to have property "class"'
    cls = entry["class"]
    if not isinstance(cls, str) or _split_class(cls)[0] not in CLASSES:
        return (f'expected key "{key}.class" of input to be one of {", ".join(sorted(CLASSES))}, '
                "or array:<one of them>")
    base, _ = _split_class(cls)
    if "optional" in entry and not isinstance(entry["optional"], bool):
        return f'expected key "{key}.optional" of input to be a boolean'
    if "default" in entry:
        problem = _value_problem(cls, entry["default"], f"{key}.default", jbors=False)
        if problem is not None:
            return f'expected key "{problem[0]}" of input to be {problem[1]} (class {cls})'
    if "choices" in entry:
        choices = entry["choices"]
        if not isinstance(choices, list):
            return f'expected key "{key}.choices" of input to be an array'
        for i, choice in enumerate(choices):
            problem = _value_problem(base, _choice_value(base, choice), f"{key}.choices[{i}]", jbors=False)
            if problem is not None:
                return f'expected key "{problem[0]}" of input to be {problem[1]} (a choice of class {cls})'
    if "patterns" in entry and not _patterns_ok(entry["patterns"]):
        return (f'expected key "{key}.patterns" of input to be an array of strings or a hash '
                '{"name"?: [strings], "class"?: string, "tag"?: [strings]}')
    for text_key in _TEXT_KEYS:
        if text_key in entry and not isinstance(entry[text_key], str):
            return f'expected key "{key}.{text_key}" of input to be a string'
    if "suggestions" in entry and not isinstance(entry["suggestions"], list):
        return f'expected key "{key}.suggestions" of input to be an array'
    if "type" in entry and not isinstance(entry["type"], (str, dict)):
        return f'expected key "{key}.type" of input to be a string or a hash'
    return None


def _patterns_ok(patterns: Any) -> bool:
    def strings(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(s, str) for s in v)

    if isinstance(patterns, dict):
        return set(patterns) <= {"name", "class", "tag"} and strings(patterns.get("name", [])) and \
            strings(patterns.get("tag", [])) and isinstance(patterns.get("class", ""), str)
    return strings(patterns)


def check_spec(value: Any, key: str) -> list[dict]:
    """`value` unchanged if it is a valid inputSpec/outputSpec (`key` names it in messages); else InvalidInput."""
    if not isinstance(value, list):
        raise InvalidInput(f'expected key "{key}" of input to be an array')
    seen: set[str] = set()
    for i, entry in enumerate(value):
        entry_key = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise InvalidInput(f'expected key "{entry_key}" of input to be a hash')
        problem = _entry_problem(entry, entry_key)
        if problem is not None:
            raise InvalidInput(problem)
        if entry["name"] in seen:
            raise InvalidInput(f'key "{entry_key}.name" of input repeats the name "{entry["name"]}" '
                               f"of an earlier entry of {key}")
        seen.add(entry["name"])
    return value


def spec_patterns(spec: list[dict] | None) -> dict[str, list[str]]:
    """Input name -> its file-name patterns that bash prefixes use: globs with a '*' (as dxpy's
    get_input_spec_patterns; a {name, class, tag} patterns hash has none)."""
    found: dict[str, list[str]] = {}
    for entry in spec or []:
        patterns = entry.get("patterns")
        if isinstance(patterns, list):
            found[entry["name"]] = [p for p in patterns if isinstance(p, str) and "*" in p]
    return found


# -- input and output against a spec -------------------------------------------------------------------------

def _malformed_reference(value: Any, key: str) -> str | None:
    """The key of the first hash with the link key that is neither a link nor a JBOR, or None."""
    stack = [(value, key)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if LINK_KEY in node:
                if not is_link(node) and not is_jbor(node):
                    return path
                continue
            stack.extend(reversed([(v, f"{path}.{k}") for k, v in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(v, f"{path}[{i}]") for i, v in enumerate(node)]))
    return None


def check_input(spec: list[dict] | None, given: Any) -> dict:
    """The original input: `given` (a mapping) with the defaults of the spec's entries it leaves out.

    With a spec, InvalidInput names the key of an unknown input, a missing required one (not optional, no
    default), a value not of the entry's class (array:<c> values may nest; data objects are links) or not
    among its choices; a JBOR stands for any value or array element. Without a spec `given` comes back as it
    is. Either way a hash with the link key that is neither a link nor a JBOR is refused; whether the linked
    objects and jobs exist is for the caller (find_links, find_jbors)."""
    if not isinstance(given, dict):
        raise InvalidInput('expected key "input" of input to be a hash')
    bad = _malformed_reference(given, "input")
    if bad is not None:
        raise InvalidInput(f'the value of "{LINK_KEY}" in key "{bad}" of input must be {_LINK_FORMS}')
    if spec is None:
        return given
    entries = {entry["name"]: entry for entry in spec}
    for name in given:
        if name not in entries:
            raise InvalidInput(f'unexpected key "input.{name}" of input: the inputSpec has no input "{name}"')
    original = dict(given)
    for name, entry in entries.items():
        if name not in given:
            if "default" in entry:
                original[name] = json.loads(json.dumps(entry["default"]))  # a copy the caller may change
            elif not entry.get("optional", False):
                raise InvalidInput(f'expected key "input" of input to have property "{name}" '
                                   "(a required input: not optional and without a default)")
            continue
        cls = entry["class"]
        problem = _value_problem(cls, given[name], f"input.{name}", jbors=True)
        if problem is not None:
            raise InvalidInput(f'expected key "{problem[0]}" of input to be {problem[1]} (class {cls})')
        if "choices" in entry:
            _check_choices(entry, given[name], f"input.{name}")
    return original


def _check_choices(entry: dict, value: Any, key: str) -> None:
    base, is_array = _split_class(entry["class"])
    items = _elements(value, key) if is_array and isinstance(value, list) else iter([(value, key)])
    for item, path in items:
        if not is_jbor(item) and not _in_choices(base, item, entry["choices"]):
            raise InvalidInput(f'expected key "{path}" of input to be one of the choices of input '
                               f'"{entry["name"]}"')


def check_output(spec: list[dict] | None, output: Any) -> str | None:
    """None if `output` (a job's output hash) follows the outputSpec; else the failureMessage of the job's
    OutputError. JBORs (either form) stand for any value. Without a spec any hash is an output."""
    if not isinstance(output, dict):
        return "the job's output is not a hash (a JSON object)"
    if spec is None:
        return None
    entries = {entry["name"]: entry for entry in spec}
    for name in output:
        if name not in entries:
            return f'the output field "{name}" is not in the outputSpec of the executable'
    for name, entry in entries.items():
        if name not in output:
            if not entry.get("optional", False):
                return f'the required output field "{name}" is missing'
            continue
        problem = _value_problem(entry["class"], output[name], name, jbors=True)
        if problem is not None:
            return f'the output field "{problem[0]}" should be {problem[1]} (class {entry["class"]})'
    return None


# -- bash variables ------------------------------------------------------------------------------------------

def _bash_text(value: Any) -> str:
    """The text of one value in a bash variable: a string as it is, anything else as JSON (true, 3, {...})."""
    if isinstance(value, str):
        # A bash variable cannot hold NUL (bash drops it from a sourced file anyway); a lone surrogate has no
        # UTF-8 form, so it becomes U+FFFD.
        return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    return json.dumps(value)


def _bash_value(value: Any) -> str:
    """A bash word (or `( words )` array) that is `value`, quoted so that nothing in it is expanded."""
    if isinstance(value, list):
        return "( " + " ".join(shlex.quote(_bash_text(v)) for v in value) + " )"
    return shlex.quote(_bash_text(value))


def _file_prefix(name: str, patterns: list[str]) -> str:
    """As dxpy's analyze_bash_vars: the name without what follows the last '*' of a matching pattern (the
    shortest result wins: "zebra.sam" with "z*ra.sam" gives "zeb", as dxpy's code does, whatever its docstring
    says), else without its last extension (".gz" and the one before it). A pattern ending in '*' keeps the
    whole name (dxpy's name[:-0] would give "")."""
    best: str | None = None
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern):
            tail = pattern.rpartition("*")[2]
            prefix = name[: len(name) - len(tail)]
            if best is None or len(prefix) < len(best):
                best = prefix
    if best is not None:
        return best
    stem, ext = os.path.splitext(name)
    if ext == ".gz":
        stem = os.path.splitext(stem)[0]
    return stem


def _local_name(name: str) -> str:
    """A file name as dx-download-all-inputs writes it: '/' becomes %2F."""
    return name.replace("/", "%2F")


def _file_ids(value: Any, file_names: Mapping[str, str]) -> list[str] | None:
    """The IDs of a file link, or of an array of file links, whose names are all known; else None."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        return None
    ids = []
    for item in items:
        target = link_target(item)
        if target is None or id_class(target[0]) != "file" or target[0] not in file_names:
            return None
        ids.append(target[0])
    return ids


def bash_variables(input: dict, file_names: Mapping[str, str], *, patterns: Mapping[str, list[str]] | None = None,
                   environment: Collection[str] = ()) -> str:
    """The text of a bash file that defines a job's input as variables (`k=value` lines, nothing exported):
    strings as they are, other values as JSON text (numbers, true/false, hashes, links: `dx-jobutil-parse-link
    "$k"` reads them), arrays as bash arrays of those. A file link, or an array of them, also gives `k_name`,
    `k_prefix` and `k_path` (`$HOME/in/k/<name>`, in an array `$HOME/in/k/<i>/<name>`, where
    dx-download-all-inputs puts them). `file_names` maps file IDs to names: a file whose name is missing gives
    only `k`. `patterns` (spec_patterns) shape prefixes as in dxpy.

    Skipped, as dxpy's gen_bash_vars skips names that would collide: names that are not identifiers, names in
    `environment` or reserved for the shell (RESERVED_BASH_NAMES, RESERVED_BASH_PREFIXES), and derived names
    (`k_name`...) that another input already defines. Every value is single-quoted (shlex.quote): sourcing
    the file runs nothing."""
    patterns = patterns or {}
    defined: dict[str, str] = {}

    def define(name: str, text: str) -> None:
        if NAME_RE.fullmatch(name) and name not in defined and name not in environment and \
                name not in RESERVED_BASH_NAMES and not name.startswith(RESERVED_BASH_PREFIXES):
            defined[name] = text

    files = {k: ids for k, v in input.items() if (ids := _file_ids(v, file_names)) is not None}
    for key, value in input.items():  # plain values first: they win over the names files derive
        if key not in files:
            define(key, _bash_value(value))
    for key, ids in files.items():
        if not NAME_RE.fullmatch(key):
            continue
        value = input[key]
        names = [_local_name(file_names[i]) for i in ids]
        prefixes = [_file_prefix(n, patterns.get(key, [])) for n in names]
        if isinstance(value, list):
            width = len(str(len(ids) - 1))
            paths = [f'"$HOME"/in/{key}/{str(i).zfill(width)}/{shlex.quote(n)}' for i, n in enumerate(names)]
            define(key, _bash_value(value))
            define(f"{key}_name", _bash_value(names))
            define(f"{key}_prefix", _bash_value(prefixes))
            define(f"{key}_path", "( " + " ".join(paths) + " )")
        else:
            define(key, _bash_value(value))
            define(f"{key}_name", _bash_value(names[0]))
            define(f"{key}_prefix", _bash_value(prefixes[0]))
            define(f"{key}_path", f'"$HOME"/in/{key}/{shlex.quote(names[0])}')
    return "".join(f"{name}={text}\n" for name, text in defined.items())


def flatten_arrays(spec: list[dict] | None, value: dict) -> dict:
    """The input with every value of an `array:<class>` entry flattened: nested arrays (and the arrays JBORs
    resolved to) become one flat array, [1, [2, -4], [[104]]] -> [1, 2, -4, 104] (docs "Job Input and
    Output"). Keys without an array class stay as they are."""
    if not spec:
        return value
    arrays = {entry["name"] for entry in spec if isinstance(entry, dict)
              and isinstance(entry.get("class"), str) and entry["class"].startswith("array:")}

    def flat(node: Any) -> list:
        if not isinstance(node, list):
            return [node]
        out: list = []
        for item in node:
            out.extend(flat(item))
        return out

    return {k: flat(v) if k in arrays and isinstance(v, list) else v for k, v in value.items()}
