"""The checks of an executable's spec (runSpec, inputSpec, outputSpec, access), as /applet/new, /app/new and
/app-xxxx/update take them. Sources: EXECUTABLES-DIGEST 2.1-2.5; schemas/types/executables.json."""

from __future__ import annotations

from typing import Any

from . import executions, iospec, validate
from .errors import InvalidInput

INTERPRETERS = ("bash", "python3")
# Keys of /applet/new kept with the applet (the rest of the input is data-object metadata or ignored).
SPEC_KEYS = ("dxapi", "runSpec", "inputSpec", "outputSpec", "access", "title", "summary", "description",
             "developerNotes", "ignoreReuse", "httpsApp", "treeTurnaroundTimeThreshold")
ACCESS_LEVELS = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
# runSpec keys besides interpreter and code, by JSON type (schemas/types/executables.json runSpecFields).
RUN_SPEC_STRINGS = ("distribution", "release", "version", "restartableEntryPoints")


def _depends(value: Any, key: str, bundled: bool) -> None:
    """execDepends ({name, version?, package_manager?, stages?}) or bundledDepends ({name, id: link, stages?})."""
    validate.expect(isinstance(value, list), key, "an array")
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        validate.expect(isinstance(item, dict), where, "a hash")
        validate.expect(isinstance(item.get("name"), str) and item["name"] != "", f"{where}.name", "a non-empty string")
        if "stages" in item:
            validate.strings(item["stages"], f"{where}.stages")
        if bundled:
            validate.expect(iospec.is_link(item.get("id")), f"{where}.id", 'a link to a data object ({"$dnanexus_link": ...})')
        for name in () if bundled else ("version", "package_manager"):
            if name in item:
                validate.expect(isinstance(item[name], str), f"{where}.{name}", "a string")


def check_execution_policy(value: Any, key: str) -> None:
    """An executionPolicy (of a runSpec, a run, a workflow stage): a hash; restartOn a hash of integers."""
    validate.expect(isinstance(value, dict), key, "a hash")
    if "restartOn" in value:
        validate.expect(isinstance(value["restartOn"], dict) and all(map(lambda v: validate.is_of(v, int), value["restartOn"].values())),
                f"{key}.restartOn", "a hash of integers")
    if "maxRestarts" in value:
        validate.expect(validate.is_of(value["maxRestarts"], int), f"{key}.maxRestarts", "an integer")


def check_run_spec(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput('expected key "runSpec" of input to be a hash')
    interpreter = value.get("interpreter")
    if interpreter not in INTERPRETERS:
        raise InvalidInput('expected key "runSpec.interpreter" of input to be one of '
                           + ", ".join(INTERPRETERS) + " (the interpreters this server runs)")
    if not isinstance(value.get("code"), str):
        raise InvalidInput('expected key "runSpec.code" of input to be a string (the source of the applet)')
    for key in RUN_SPEC_STRINGS:
        if key in value:
            validate.expect(isinstance(value[key], str), f"runSpec.{key}", "a string")
    if "headJobOnDemand" in value:
        validate.expect(isinstance(value["headJobOnDemand"], bool), "runSpec.headJobOnDemand", "a boolean")
    for key, bundled in (("execDepends", False), ("bundledDepends", True)):
        if key in value:
            _depends(value[key], f"runSpec.{key}", bundled)
    if "systemRequirements" in value:
        executions.check_system_requirements(value["systemRequirements"], "runSpec.systemRequirements")
    if "executionPolicy" in value:
        check_execution_policy(value["executionPolicy"], "runSpec.executionPolicy")
    policy = value.get("timeoutPolicy")
    if policy is not None:
        executions.timeout_seconds(policy, "main")  # raises InvalidInput when malformed
    return value


def check_access(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput('expected key "access" of input to be a hash')
    for key in ("project", "allProjects"):
        if key in value and value[key] not in ACCESS_LEVELS:
            raise InvalidInput(f'expected key "access.{key}" of input to be one of {", ".join(ACCESS_LEVELS)}')
    if "network" in value and not (isinstance(value["network"], list)
                                   and all(isinstance(n, str) for n in value["network"])):
        raise InvalidInput('expected key "access.network" of input to be an array of strings')
    if "developer" in value and not isinstance(value["developer"], bool):
        raise InvalidInput('expected key "access.developer" of input to be a boolean')
    return value


def check(inp: dict, *, run_spec_required: bool) -> None:
    """The spec keys of an input that has them: runSpec (required for /applet/new), inputSpec, outputSpec, access."""
    if run_spec_required or "runSpec" in inp:
        check_run_spec(validate.field(inp, "runSpec", dict, required=True))
    for key in ("inputSpec", "outputSpec"):
        if key in inp:
            iospec.check_spec(inp[key], key)
    if "access" in inp:
        check_access(inp["access"])
