"""Batch runs: /system/generateBatchInputs (files of a folder grouped by a regex per input) and the
expansion that validateBatch answers.

The contract is what `dx generate_batch_inputs` sends and reads (dxpy scripts/dx.py generate_batch_inputs;
the docs' method table is not in our sources): input {"project", "folder"?, "inputs": {input name: regex
with one capturing group}}; answer {"batchInputs": [{"batchPattern": the group's text, "inputs": {input
name: {"name": file name, "ids": [file IDs with that name]}}, "error"?: why the batch is unusable}]}.
A file matches an input when its whole name matches the regex; the first group is the batch ID. A batch
is in error when some input matched no file of it, or when one file name stands for several files (dx
prints both cases as errors). Files are searched in the folder and its subfolders; batches come sorted
by batch ID. Regexes run on RE2 (linear time): a regex RE2 cannot run is refused with InvalidInput.
"""

from __future__ import annotations

from typing import Any

import re2

from . import access, containers, iospec, objects, validate
from .context import Context
from .errors import InvalidInput
from .limits import MAX_PATTERN_CHARS

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def _programs(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise InvalidInput('expected key "inputs" of input to be a non-empty hash {input name: regex}')
    programs = {}
    for name, pattern in value.items():
        key = f"inputs.{name}"
        if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
            raise InvalidInput(f'expected key "{key}" of input to be a regular expression (a string of at most '
                               f"{MAX_PATTERN_CHARS} characters)")
        try:
            program = re2.compile(pattern, _OPTIONS)
        except re2.error:
            raise InvalidInput(f'key "{key}" of input is not a regular expression this server can run (RE2 '
                               "syntax: no backreferences or lookaround)") from None
        if program.groups < 1:
            raise InvalidInput(f'key "{key}" of input needs a capturing group: the part of the file name '
                               "that is the batch ID")
        programs[name] = program
    return programs


def generate(ctx: Context, inp: dict) -> dict[str, list[dict[str, Any]]]:
    project = objects.project_hint(inp, required=True)
    folder = validate.normalize_folder(inp["folder"]) if "folder" in inp else "/"
    programs = _programs(inp.get("inputs"))
    access.container(ctx, project, "VIEW")
    rows = ctx.conn.execute(
        "SELECT c.object_id, c.name FROM copies c JOIN objects o ON o.id = c.object_id "
        "WHERE c.container_id = ? AND o.class = 'file' AND o.state = 'closed' "
        "AND (c.folder = ? OR c.folder LIKE ? ESCAPE '\\') ORDER BY c.name, c.object_id",
        (project, folder, containers.subtree_like(folder))).fetchall()
    # batch ID -> input name -> file name -> IDs
    batches: dict[str, dict[str, dict[str, list[str]]]] = {}
    for row in rows:
        for name, program in programs.items():
            m = program.fullmatch(row["name"])
            if m is not None and m.group(1) is not None:
                files = batches.setdefault(m.group(1), {}).setdefault(name, {})
                files.setdefault(row["name"], []).append(row["object_id"])
    out = []
    for batch_id in sorted(batches):
        matched = batches[batch_id]
        inputs = {name: {"name": file_name, "ids": ids}
                  for name, files in sorted(matched.items()) for file_name, ids in list(files.items())[:1]}
        problems = [f'input "{n}" matched no file' for n in sorted(programs) if n not in matched]
        problems += [f'input "{n}" matched several files: ' + ", ".join(sorted(f))
                     for n, f in sorted(matched.items()) if len(f) > 1]
        problems += [f'file name "{v["name"]}" (input "{n}") stands for several files'
                     for n, v in inputs.items() if len(v["ids"]) > 1]
        entry: dict[str, Any] = {"batchPattern": batch_id, "inputs": inputs}
        if problems:
            entry["error"] = "; ".join(problems)
        out.append(entry)
    return {"batchInputs": out}


def expand(spec: list[dict] | None, inp: dict) -> dict[str, list[dict[str, Any]]]:
    """validateBatch ({batchInput: {name: [one value per run]}, commonInput?, files?, instanceTypes?}): one
    input hash per run, commonInput merged in, each checked against `spec`; {"expandedBatch": [...]}."""
    batch = validate.field(inp, "batchInput", dict, required=True)
    common = validate.field(inp, "commonInput", dict, default={})
    for i, item in enumerate(validate.field(inp, "files", list, default=[])):
        validate.expect(iospec.is_link(item), f"files[{i}]", 'a link to a file ({"$dnanexus_link": ...})')
    validate.field(inp, "instanceTypes", list)
    lengths = set()
    for key, values in batch.items():
        if not isinstance(values, list):
            raise InvalidInput(f'expected key "batchInput.{key}" of input to be an array')
        lengths.add(len(values))
    if len(lengths) > 1:
        raise InvalidInput('expected every array of "batchInput" to have the same length')
    runs = []
    for i in range(next(iter(lengths), 0)):
        one = dict(common)
        one.update({key: values[i] for key, values in batch.items()})
        iospec.check_input(spec, one)
        runs.append(one)
    return {"expandedBatch": runs}
