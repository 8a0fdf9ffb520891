"""Reproduction scripts of failed cases (DIR/repro/<case>.py), the rerun line, and what --keep left behind.

A failed case's results.json entry carries, besides its exchanges and its `failure` record, a `replay` record
(written by the pytest plugin from the case files, see `replay_record`): for each exchange, the step that sent
it and as whom (`user`, or the case file's own `token` / `authorization` value), whether it fetched a URL the
server handed out, its generated body, its polling. From these alone `plan` builds the requests of the case
up to and including the failing one, what each answer hands on to later requests (`capture`), and what the
failing answer is compared on; `script_text` writes them as a Python script (standard library only, see
replay_runtime.py, whose code each script carries).

Why Python and not a shell script of curl lines: the requests must be sent byte for byte (malformed JSON,
odd spacing, UTF-8 and binary bodies), values must be read out of JSON answers and put into later JSON
bodies, and the failing answer must be compared as JSON; a shell script would need python3 for all of that
anyway, and its quoting is where replays go wrong. python3 (3.8 or later, nothing installed) is the one
requirement.
"""

from __future__ import annotations

import hashlib
import json
import pprint
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..model import BODY_RECORD_LIMIT, format_path
from . import replay_runtime
from .encodable import write_text
from .replay_runtime import (
    ID_VALUE,
    JUDGED_HEADERS,
    MISSING,
    RUN_PREFIX,
    get_path,
    parse_json,
    token_variable,
    walk_summary,
)

REPRO_DIR = "repro"
REPLAY_KEY = "replay"
SCRIPT_SUFFIX = ".py"
_STEP_KEY = re.compile(r"^(?:(?P<run>run )?fixture (?P<fixture>.+) )?(?P<kind>step|finally) (?P<number>\d+)$")
# Characters of a pytest -k identifier (_pytest/mark/expression.py); a case id is cut at any other.
_K_IDENT = re.compile(r"[\w:+\-.\[\]\\/]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# --- the worker's side: who sent each exchange, from the case files ------------------------------------------

def step_of(key: str, case: Any, fixtures: Mapping[str, Any]) -> Any | None:
    """The Step a runner step key (`step 2`, `finally 1`, `fixture F step 1`, `run fixture F finally 1`) names."""
    found = _STEP_KEY.match(key)
    if not found:
        return None
    owner = fixtures.get(found["fixture"]) if found["fixture"] else case
    if owner is None:
        return None
    steps = owner.finally_steps if found["kind"] == "finally" else owner.steps
    index = int(found["number"]) - 1
    return steps[index] if 0 <= index < len(steps) else None


def sender(step: Any, key: str) -> dict[str, Any]:
    """How a step sent its request(s), for a replay: the step's key and file:line, its user (None: no token),
    its own token or Authorization value (a deliberately bad one), a fetch of a handed-out URL, a generated
    body, and its polling (with the paths its expectations read)."""
    record: dict[str, Any] = {"step": key, "where": str(step.location),
                              "user": None if step.fetch is not None else step.user}
    if step.name:
        record["name"] = step.name
    if step.token is not None:
        record["token"] = step.token
    headers = step.headers if isinstance(step.headers, Mapping) else {}
    for name, value in headers.items():
        if str(name).lower() == "authorization" and isinstance(value, str) and "{" not in value:
            record["authorization"] = value
    if step.fetch is not None:
        record["fetch"] = True
    if step.generated is not None:
        record["generated"] = {"size": step.generated.size, "seed": step.generated.seed,
                               "offset": step.generated.offset}
    if step.eventually is not None:
        record["poll"] = {"timeout": step.eventually.timeout, "interval": step.eventually.interval,
                          "paths": [p for p in step.expect.values if "{" not in p]}
    if step.page_through is not None:
        record["walk"] = {"collect": step.page_through.collect}
    return record


def senders_of(step_keys: Sequence[str], case: Any, fixtures: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """One sender per exchange (`step_keys` is the Result's exchange_steps), or None if a key names no step."""
    found = []
    for key in step_keys:
        step = step_of(key, case, fixtures)
        if step is None:
            return None
        found.append(sender(step, key))
    return found


def run_fixture_names(step_keys: Iterable[str]) -> list[str]:
    """The `scope: run` fixtures whose steps are among these exchanges (this case set them up), in order."""
    names: list[str] = []
    for key in step_keys:
        found = _STEP_KEY.match(key)
        if found and found["run"] and found["kind"] == "step" and found["fixture"] not in names:
            names.append(found["fixture"])
    return names


def replay_record(senders: list[dict[str, Any]], before: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """results.json `replay` of a case: its exchanges' senders, and (`before`: {exchange, sender}) the setup of
    the `scope: run` fixtures it used that another case of the same process set up."""
    record: dict[str, Any] = {"senders": senders}
    if before:
        record["before"] = [dict(item) for item in before]
    return record


# --- names and one-line commands -----------------------------------------------------------------------------

def script_name(result_id: str) -> str:
    """A file name for a result's script: its id with `::` as `__` and `/` as `_`; any other character outside
    [A-Za-z0-9._-] becomes `_` and a short hash of the id is added (two ids never share a file)."""
    base = result_id.replace("::", "__").replace("/", "_")
    safe = _UNSAFE.sub("_", base).strip("_")
    if safe != base or len(safe) > 150:
        safe = f"{safe[:150]}-{hashlib.sha1(result_id.encode()).hexdigest()[:8]}"
    return safe + SCRIPT_SUFFIX


def keyword_expression(result_id: str) -> str:
    """A pytest -k expression that selects this case: its file's name and its id (each cut into identifiers
    -k accepts, joined with `and`): `tags-types.yaml and tags-keep-insertion-order`."""
    file, _, case = result_id.rpartition("::")
    words = _K_IDENT.findall(Path(file).name) + _K_IDENT.findall(case or result_id)
    return " and ".join(dict.fromkeys(w for w in words if w.lower() not in ("and", "or", "not")))


def rerun_command(result_id: str, server: str, embedded: bool = False) -> str:
    """`dxconform run --server URL -k '...' --keep`: this case again, leaving what it creates."""
    target = "" if embedded or not server else f" --server {shlex.quote(server)}"
    return f"dxconform run{target} -k {shlex.quote(keyword_expression(result_id))} --keep"


# --- the plan of a script ------------------------------------------------------------------------------------

class NoScript(ValueError):
    """Why a failed result has no reproduction script (no replay record, no failing exchange...)."""


def _run_prefix(exchanges: Iterable[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for exchange in exchanges:
        request = exchange.get("request") or {}
        for found in RUN_PREFIX.findall(f"{request.get('path', '')} {request.get('body', '')}"):
            counts[found] = counts.get(found, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else ""


def _answer_json(exchange: Mapping[str, Any]) -> Any:
    response = exchange.get("response")
    if not response or response.get("truncated"):
        return MISSING
    return parse_json(str(response.get("body", "")).encode())


def _header(headers: Mapping[str, Any] | None, name: str) -> Any:
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), MISSING)


def _answer_shape(exchange: Mapping[str, Any]) -> dict[str, Any]:
    response = exchange.get("response") or {}
    headers = {k.lower() for k in (response.get("headers") or {})}
    content_type = _header(response.get("headers"), "content-type")
    body = _answer_json(exchange)
    return {"content-type": content_type.split(";", 1)[0].strip().lower() if isinstance(content_type, str) else None,
            "headers": sorted(h for h in JUDGED_HEADERS if h in headers),
            "body": body if body is not MISSING else "(not JSON)"}


def _compare(at: str, run: Any, expected: Any = MISSING) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": at}
    if run is MISSING:
        entry["run_missing"] = True
    else:
        entry["run"] = run
    if expected is not MISSING:
        entry["expected"] = expected
    return entry


def comparisons(exchange: Mapping[str, Any], misses: Sequence[Mapping[str, Any]],
                walk: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """What the failing answer is compared on: the status always; then, for each miss of the failure record,
    the run's value where it missed: a JSON path, a header, the text, the size or md5 of the body; a page
    walk's totals (`walk`: {collect, run}) for a miss of the walk as a whole; a miss with no such place (a
    check without a path) compares the whole answer (media type, the judged headers' presence, the body's
    shape)."""
    response = exchange.get("response") or {}
    found: dict[str, dict[str, Any]] = {"status": _compare("status", response.get("status"))}
    if walk is not None and any(str(m.get("path", "")).startswith("walk") for m in misses):
        found["walk"] = {"at": "walk", "collect": walk["collect"], "run": walk["run"]}
        misses = [m for m in misses if not str(m.get("path", "")).startswith("walk")]
    body = _answer_json(exchange)
    cut = bool(response.get("truncated"))   # the recorded body is not the whole answer: the miss's value is
    for miss in misses:
        path, expected = str(miss.get("path", "")), miss.get("expected", MISSING)
        run_actual = miss["actual"] if "actual" in miss else MISSING
        if path == "status":
            continue
        if path.startswith("$"):
            # A body that is not JSON has nothing at any path (as the replay reads it).
            run = run_actual if cut else get_path(body, path)
            found.setdefault(path, _compare(path, run, expected))
        elif path.startswith("header "):
            found.setdefault(path, _compare(path, _header(response.get("headers"), path[len("header "):]),
                                            expected))
        elif path == "text":
            found.setdefault(path, _compare("text", str(response.get("body", "")), expected))
        elif path == "body" and isinstance(run_actual, int):
            found.setdefault("body size", _compare("body size", run_actual, expected))
        elif path == "body" and isinstance(run_actual, str):
            found.setdefault("body md5", _compare("body md5", run_actual, expected))
        else:
            found.setdefault("answer", _compare("answer", _answer_shape(exchange)))
    if len(found) == 1 and not misses and exchange.get("response") is not None:
        found["answer"] = _compare("answer", _answer_shape(exchange))
    return list(found.values())


def _label(sent: Mapping[str, Any]) -> str:
    found = _STEP_KEY.match(str(sent.get("step", "")))
    if not found:
        return str(sent.get("step", ""))
    where = ""
    if found["fixture"]:
        where = ("run fixture " if found["run"] else "fixture ") + found["fixture"].rsplit("::", 1)[-1] + " "
    name = f" [{sent['name']}]" if sent.get("name") else ""
    return f"{where}{found['kind']} {found['number']}{name}"


def _request_step(exchange: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    request = exchange.get("request") or {}
    response = exchange.get("response")
    step: dict[str, Any] = {"label": _label(sent), "where": sent.get("where", ""),
                            "as": sent.get("user"), "method": request.get("method", "POST")}
    for key in ("token", "authorization", "generated"):
        if sent.get(key) is not None:
            step[key] = sent[key]
    if sent.get("fetch"):
        step["fetch"] = True
        step["url"] = request.get("url", "")
    else:
        step["path"] = request.get("path", "")
    step["headers"] = dict(request.get("headers") or {})
    body = str(request.get("body") or "")
    if not sent.get("generated"):
        step["body"] = body
        if len(body) > BODY_RECORD_LIMIT or body.endswith(" bytes in all]"):
            step["cut"] = "the recorded body was cut short: this sends only what results.json kept"
    step["status"] = response.get("status") if response else None
    if exchange.get("error") or response is None:
        step["error"] = (exchange.get("error") or {}).get("kind", "no answer")
    return step


def _strings(value: Any, path: tuple = ()) -> Iterable[tuple[tuple, Any]]:
    """Every (path, value) of a JSON document, parents before children."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _request_text(step: Mapping[str, Any]) -> str:
    return " ".join([str(step.get("path", "")), str(step.get("url", "")), str(step.get("body", "")),
                     *map(str, (step.get("headers") or {}).values())])


def _bodies(step: Mapping[str, Any]) -> Any:
    body = parse_json(str(step.get("body", "")).encode()) if not step.get("fetch") else MISSING
    return body


def _contains(document: Any, value: Any) -> bool:
    return any(item == value and type(item) is type(value) for _, item in _strings(document))


def _captures(answer: Any, later: Sequence[Mapping[str, Any]], later_text: str, seen: set[str]
              ) -> list[dict[str, Any]]:
    """What of an answer later requests use: IDs (in their paths, bodies, headers or the run's values the
    failing step is compared with), URLs (fetched later), header values (sent with a later fetch) and `next`
    cursors (sent as `starting`); each value from the first answer that handed it out."""
    found = []
    later_urls = {s.get("url") for s in later if s.get("fetch")}
    later_headers = {v for s in later if s.get("fetch") for v in (s.get("headers") or {}).values()}
    for path, value in _strings(answer):
        kind = None
        if isinstance(value, str) and ID_VALUE.match(value) and value in later_text:
            kind = "id"
        elif isinstance(value, str) and value.startswith(("http://", "https://")) and (
                value in later_urls or value in later_text):
            kind = "url"
        elif isinstance(value, str) and len(path) >= 2 and path[-2] == "headers" and value in later_headers:
            kind = "header"
        elif path and path[-1] == "next" and value is not None and any(_contains(_bodies(s), value) for s in later):
            kind = "next"
        key = json.dumps([kind, value], sort_keys=True)
        if kind and key not in seen:
            seen.add(key)
            found.append({"at": format_path(path), "kind": kind, "run": value})
    return found


def _mark_walks(steps: list[dict[str, Any]], kept: Sequence[tuple[int, tuple[Mapping, Mapping]]]
                ) -> dict[str, Any] | None:
    """Number the page walks (`page_through` steps: consecutive requests of one step); the last one's
    collect path and what the run's walk saw (its totals), for the failing step's comparison."""
    group, previous, last = 0, None, None
    for step, (_, (_exchange, sent)) in zip(steps, kept, strict=True):
        if not sent.get("walk"):
            previous = None
            continue
        if sent.get("step") != previous:
            group += 1
            previous = sent.get("step")
        step["walk"] = group
        last = (group, sent["walk"].get("collect", "$.results[*].id"))
    if last is None or steps[-1].get("walk") != last[0]:
        return None
    pages = [(parse_json(str((e.get("request") or {}).get("body", "")).encode()), _answer_json(e))
             for step, (_, (e, _s)) in zip(steps, kept, strict=True) if step.get("walk") == last[0]]
    return {"collect": last[1], "run": walk_summary(pages, last[1])}


def plan(result: Mapping[str, Any], server: str) -> dict[str, Any]:
    """The data of a result's script (raises NoScript with the reason when it has none)."""
    failure, replay = result.get("failure"), result.get(REPLAY_KEY)
    if not isinstance(failure, Mapping):
        raise NoScript("it carries no failure record")
    if not isinstance(replay, Mapping):
        raise NoScript("it carries no replay record (the case files' users of its steps)")
    index = failure.get("exchange_index")
    exchanges = list(result.get("exchanges") or [])
    senders = list(replay.get("senders") or [])
    if not isinstance(index, int) or not 0 <= index < len(exchanges):
        raise NoScript(f"no request is named as the failing one ({failure.get('error') or 'nothing was sent'})")
    if len(senders) != len(exchanges):
        raise NoScript("its replay record does not match its exchanges")
    items = [(dict(b["exchange"]), dict(b["sender"])) for b in replay.get("before") or []]
    failing_at = len(items) + index
    items += list(zip(exchanges, senders, strict=True))[: index + 1]
    # A polled step (`eventually`) keeps a few of its polls: the replay sends its last and polls itself.
    kept = [(n, pair) for n, pair in enumerate(items)
            if not (pair[1].get("poll") and n + 1 < len(items) and n != failing_at
                    and items[n + 1][1].get("step") == pair[1].get("step"))]
    steps = [_request_step(exchange, sent) for _, (exchange, sent) in kept]
    walk = _mark_walks(steps, kept)
    failing = steps[-1]
    failing["failing"] = True
    failing_exchange = kept[-1][1][0]
    failing["compare"] = comparisons(failing_exchange, list(failure.get("misses") or []), walk)
    for step, (_, (exchange, sent)) in zip(steps, kept, strict=True):
        if sent.get("poll"):
            poll = sent["poll"]
            step["poll"] = {"timeout": poll.get("timeout", 0), "interval": poll.get("interval", 0.5)}
            if step is not failing:
                answer = _answer_json(exchange)
                step["poll"]["until"] = [_compare(p, get_path(answer, p)) for p in poll.get("paths") or []
                                         if p.startswith("$")]
    compared = json.dumps([failing["compare"]] + [s.get("poll", {}).get("until", []) for s in steps])
    seen: set[str] = set()
    for position, (step, (_, (exchange, _sent))) in enumerate(zip(steps, kept, strict=True)):
        if step is failing:
            break
        later = steps[position + 1:]
        later_text = " ".join(_request_text(s) for s in later) + " " + compared
        answer = _answer_json(exchange)
        if answer is not MISSING:
            step["capture"] = _captures(answer, later, later_text, seen)
            if not step["capture"]:
                del step["capture"]
    users = sorted({s["as"] for s in steps if s.get("as") and _header(s.get("headers"), "authorization")
                    is not MISSING and s.get("token") is None and s.get("authorization") is None})
    return {"case": result["id"], "title": result.get("title", ""), "server": server,
            "run_prefix": _run_prefix(e for _, (e, _s) in kept), "users": users, "steps": steps}


def _runtime_source() -> str:
    """replay_runtime.py without its docstring and its __future__ import (the script puts its own first)."""
    text = Path(replay_runtime.__file__).read_text(encoding="utf-8")
    body = text.split('"""', 2)[2]
    return body.replace("from __future__ import annotations\n", "", 1).strip("\n")


WHAT_IT_COMPARES = (
    "At the failing request it compares the answer with the run's: the same HTTP status, and at every place "
    "the run's answer missed (a JSON path, a header, the text, the body's size or md5; a page walk's totals: "
    "pages, values, distinct values, the unpaged count; the whole answer when the miss names no place) the "
    "same shape: objects with the same keys, lists of the same length (a list of entities in any order), "
    "strings equal once the replay's IDs, URLs and prefix stand for the run's (an ID it did not learn: any ID "
    "of the same class), an ID in the strict alphabet exactly when the run's was, numbers equal below 10**9 "
    "and of the same number of digits above (timestamps), an int never a float, true/false/null equal. A "
    "request that got no answer in the run reproduces when it gets none again.")


def script_text(result: Mapping[str, Any], server: str, rule: str = "") -> str:
    """The reproduction script of a failed result (raises NoScript when it has none)."""
    data = plan(result, server)
    name = script_name(str(result["id"]))
    users = data["users"]
    env = " ".join(f"{token_variable(u)}=..." for u in users)
    usage = f"  {env + ' ' if env else ''}python3 {REPRO_DIR}/{name} [--keep]"
    header = "\n".join([
        f"Reproduce a failure of `dxconform run`: {result['id']}",
        "",
        f"case:   {result.get('title', '')}",
        *([f"broke:  {rule}"] if rule else []),
        f"source: {result.get('source', '')}",
        f"run against {server}",
        "",
        "Usage (python3 3.8 or later, nothing to install):",
        usage,
        f"  DX_SERVER=URL replays against another server (default {server}); DX_TIMEOUT=S per request (30).",
        "  Tokens: " + (", ".join(f"${token_variable(u)} is {u}'s" for u in users) or "none needed") + ".",
        "",
        f"It sends the case's {len(data['steps'])} request(s) up to and including the failing one, in order, each "
        "as the user the case files name (no token where the run sent none; the case's own bad token where it "
        "sent one). IDs, URLs, upload headers and paging cursors that an earlier answer handed out are read "
        "from the replay's own answer (at the same JSON path as in the run's) and put in place of the run's in "
        "every later request; names get a fresh run prefix. So it creates its own objects, and the projects it "
        "creates are destroyed at the end (--keep leaves them). `Bearer ***` in a step's headers stands for "
        "the token of the step's user (`as`), read from the environment; PLAN below is every request.",
        "",
        WHAT_IT_COMPARES,
        "",
        "Exit 1: reproduced (the failing step's status is printed, with each comparison); 0: not reproduced; "
        "2: could not replay up to the failing step (a missing token variable, no answer earlier on).",
    ])
    header = "\n".join(_wrapped(line) for line in header.splitlines())
    plan_text = pprint.pformat(data, width=110, sort_dicts=False)
    return (f'#!/usr/bin/env python3\n"""{_docstring_safe(header)}\n"""\n\nfrom __future__ import annotations\n\n'
            f"PLAN = {plan_text}\n\n{_runtime_source()}\n\n\n"
            'if __name__ == "__main__":\n    sys.exit(main(PLAN))\n')


def _docstring_safe(text: str) -> str:
    """`text` as a docstring's source: backslashes and quotes escaped, and a control character from a server's
    answer (a NUL ends the script's compilation) written as its visible `\\xNN` escape."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return _CONTROLS.sub(lambda found: f"\\\\x{ord(found.group()):02x}", text)


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _wrapped(line: str, width: int = 110) -> str:
    """A header line wrapped at `width` (a command line, indented, is left whole: it is copied, not read)."""
    if len(line) <= width or line.startswith("  "):
        return line
    import textwrap

    indent = " " * 8 if re.match(r"^[a-z]+: +", line) else ""
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False,
                                   break_long_words=False))


def scripts_of(document: Mapping[str, Any], rule_of: Any = None) -> dict[str, str]:
    """{file name: script} for every failed or errored case of a results document that has one."""
    server = str((document.get("server") or {}).get("url", ""))
    found: dict[str, str] = {}
    for result in document.get("results") or []:
        if result.get("outcome") not in ("failed", "error") or REPLAY_KEY not in result:
            continue
        try:
            found[script_name(str(result["id"]))] = script_text(result, server, rule_of(result) if rule_of else "")
        except NoScript:
            continue
    return found


def write_scripts(out: Path, document: Mapping[str, Any], rule_of: Any = None,
                  scrub: Any = None) -> tuple[Path, int]:
    """DIR/repro/<case>.py for every failed case with a script (scripts of an earlier run removed first)."""
    directory = out / REPRO_DIR
    if directory.is_dir():
        for stale in directory.glob(f"*{SCRIPT_SUFFIX}"):
            stale.unlink()
    scripts = scripts_of(document, rule_of)
    if scripts:
        directory.mkdir(parents=True, exist_ok=True)
    for name, text in scripts.items():
        path = directory / name
        write_text(path, scrub(text) if scrub else text)
        path.chmod(0o755)
    return directory, len(scripts)


# --- what --keep left on the server --------------------------------------------------------------------------

def _curl(server: str, path: str, user: str | None, body: Mapping[str, Any]) -> str:
    auth = f' -H "Authorization: Bearer ${token_variable(user)}"' if user else ""
    return (f"curl -sS -X POST {shlex.quote(server.rstrip('/') + path)}{auth} -H 'Content-Type: application/json'"
            f" --data-binary {shlex.quote(json.dumps(body))}")


def merge_kept(into: dict[str, Any], kept: Mapping[str, Any] | None) -> dict[str, Any]:
    """Join the tracker snapshots of several processes (projects, objects and folders in other projects,
    global objects)."""
    if not kept:
        return into
    into.setdefault("projects", {}).update(kept.get("projects") or {})
    for project, track in (kept.get("in_projects") or {}).items():
        mine = into.setdefault("in_projects", {}).setdefault(project, {"objects": {}, "folders": {}})
        mine["objects"].update(track.get("objects") or {})
        mine["folders"].update(track.get("folders") or {})
    into.setdefault("global_objects", {}).update(kept.get("global_objects") or {})
    return into


def objects_by_project(results: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The objects the run's answers say it created (`/<class>/new` with a project), by project; a rerun
    case's earlier attempts included."""
    found: dict[str, list[str]] = {}
    exchanges = (exchange for result in results for record in [result, *(result.get("attempts") or [])]
                 for exchange in record.get("exchanges") or [])
    for exchange in exchanges:
        request, response = exchange.get("request") or {}, exchange.get("response") or {}
        path = str(request.get("path", ""))
        if not (path.count("/") == 2 and path.endswith("/new") and 200 <= int(response.get("status") or 0) < 300):
            continue
        sent, answer = parse_json(str(request.get("body", "")).encode()), _answer_json(exchange)
        if isinstance(sent, dict) and isinstance(answer, dict) and isinstance(sent.get("project"), str) \
                and isinstance(answer.get("id"), str):
            listed = found.setdefault(sent["project"], [])
            if answer["id"] not in listed:
                listed.append(answer["id"])
    return found


def kept_lines(kept: Mapping[str, Any], server: str, embedded: bool = False,
               objects: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """What --keep left, and one command per project to remove it (the token of its creator from
    $DX_TOKEN_<USER>)."""
    projects = dict(kept.get("projects") or {})
    others = {p: t for p, t in (kept.get("in_projects") or {}).items() if t.get("objects") or t.get("folders")}
    global_objects = dict(kept.get("global_objects") or {})
    objects = objects or {}
    inside = sum(len(objects.get(p, ())) for p in projects)
    count = (f"{len(projects)} project(s) ({inside} object(s) in them), "
             f"{sum(len(t.get('objects') or {}) for t in others.values())} object(s) in other projects")
    lines = [f"kept (--keep): {count}; delete each with the command under it"]
    if embedded:
        lines.append("  (the embedded reference server stops with the run, and what it held goes with it: start "
                     "`dxconform serve` and pass --server to keep objects you can look at)")
    for project, user in sorted(projects.items()):
        shown = ", ".join(objects.get(project, ()))
        lines.append(f"  {project} (by {user or 'unknown'}){': ' + shown if shown else ''}")
        lines.append(f"    {_curl(server, f'/{project}/destroy', user or None, {'terminateJobs': True})}")
    for project, track in sorted(others.items()):
        by_user: dict[str, list[str]] = {}
        for obj, user in (track.get("objects") or {}).items():
            by_user.setdefault(user, []).append(obj)
        folders = sorted(track.get("folders") or {})
        lines.append(f"  in {project} (not the run's): objects {', '.join(sorted(track.get('objects') or {})) or '-'}"
                     f"; folders {', '.join(folders) or '-'}")
        for user, ids in sorted(by_user.items()):
            lines.append(f"    {_curl(server, f'/{project}/removeObjects', user or None, {'objects': sorted(ids), 'force': True})}")
    for obj in sorted(global_objects):
        lines.append(f"  {obj} (outside any project: the API has no call to remove it)")
    return lines
