"""The engine of a reproduction script (repro/<case>.py): standard library only, copied into every script.

reproduction.py writes a script as: a header, `PLAN = {...}` (the case's requests up to the failing one, as
data), the source of this module, and `main(PLAN)`. Nothing here may import from conformance: the script
must run with a bare python3. The functions are also imported by the tests.

What a replay does, step by step:
- sends each recorded request again to $DX_SERVER (default: the run's server), as the user the case files
  name (token from $DX_TOKEN_<USER>, e.g. $DX_TOKEN_ALICE), with no token where the run sent none, and with the
  case file's own deliberately bad token where it sent one;
- reads, from each answer, the values later requests need (`capture`: IDs, upload/download URLs and their
  headers, `next` paging cursors) at the same JSON path as in the run's answer, and substitutes the replay's
  values for the run's in every later request; the run prefix (dxc-xxxxxxxx) in names becomes a fresh one;
- at the failing request, compares the answer with the run's (see `same` and `verdict`) and exits 1 when the
  failure reproduces, 0 when it does not, 2 when the replay could not get there.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import secrets
import sys
import time
import urllib.parse
from typing import Any

REPRODUCED, NOT_REPRODUCED, CANNOT_REPLAY = 1, 0, 2
# An entity ID anywhere in a text (path, body, URL), and a whole value that is one.
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[a-z]+-[0-9A-Za-z]{24}(?![0-9A-Za-z])")
ID_VALUE = re.compile(r"^([a-z]+)-[0-9A-Za-z]{24}$")
STRICT_ID = re.compile(r"^[a-z]+-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$")
RUN_PREFIX = re.compile(r"dxc-[0-9a-f]{8}")
# Numbers this large (timestamps in ms or s, big sizes) differ from run to run: they are compared by their
# number of digits (so seconds against milliseconds still shows); smaller numbers by value.
VOLATILE_NUMBER = 10 ** 9
# Headers an answer without a JSON path to compare is judged by: present or not, and the media type.
JUDGED_HEADERS = ("content-type", "x-content-type-options", "retry-after", "access-control-allow-origin",
                  "access-control-allow-methods", "access-control-allow-headers")
SHOWN_CHARS = 160
_PATH_PART = re.compile(r'\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\[(\*)\]')


class _Missing:
    def __repr__(self) -> str:
        return "(nothing)"


MISSING: Any = _Missing()
_STAR: Any = object()   # the `[*]` of a parsed path


# --- JSON paths ---------------------------------------------------------------------------------------------

def get_path(document: Any, path: str) -> Any:
    """The value at `$.a[0]["b c"]` (MISSING if the path leads nowhere); `[*]` gives the list of values."""
    if not path.startswith("$"):
        return MISSING
    parts: list[Any] = []
    position = 1
    while position < len(path):
        found = _PATH_PART.match(path, position)
        if not found:
            return MISSING
        name, index, quoted, star = found.groups()
        parts.append(name if name is not None else int(index) if index is not None
                     else _STAR if star else json.loads(quoted))
        position = found.end()
    return _walk(document, parts)


def _walk(node: Any, parts: list[Any]) -> Any:
    for at, part in enumerate(parts):
        if part is _STAR:
            items = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else None
            if items is None:
                return MISSING
            found = [_walk(item, parts[at + 1:]) for item in items]
            return [value for value in found if value is not MISSING]
        if isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def parse_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return MISSING


# --- the substitutions: the run's values -> the replay's --------------------------------------------------

class Substitutions:
    """What the replay learnt from its own answers, applied to every later request."""

    def __init__(self, run_prefix: str = "", fresh_prefix: str = ""):
        self.ids: dict[str, str] = {}         # run ID -> replay ID (replaced wherever it appears in a text)
        self.whole: dict[str, str] = {}       # run URL / header value -> the replay's (replaced as a whole)
        self.values: list[tuple[Any, Any]] = []   # run `next` cursor -> the replay's (JSON values)
        self.run_prefix, self.fresh_prefix = run_prefix, fresh_prefix

    def learn(self, kind: str, run: Any, replay: Any) -> str | None:
        """Map `run` (a value of the run's answer) to `replay` (the value at the same path of the replay's
        answer); the first answer to hand out a value wins. A problem (nothing there) as text, else None."""
        if replay is MISSING:
            return "nothing there in the replay's answer"
        if kind == "id":
            if not (isinstance(replay, str) and ID_VALUE.match(replay)):
                return f"not an ID in the replay's answer: {shown(replay)}"
            self.ids.setdefault(run, replay)
        elif kind == "next":
            if not any(seen == run for seen, _ in self.values):
                self.values.append((run, replay))
        elif isinstance(run, str) and isinstance(replay, str):
            self.whole.setdefault(run, replay)
        return None

    def text(self, text: str) -> str:
        """A text of the run (path, body, URL, header) as the replay sends it: the prefix renewed, each
        learnt ID replaced by the replay's."""
        if self.run_prefix and self.fresh_prefix:
            text = text.replace(self.run_prefix, self.fresh_prefix)
        return ID_IN_TEXT.sub(lambda found: self.ids.get(found.group(0), found.group(0)), text)

    def string(self, value: str) -> str:
        """A whole string value (a JSON string, a header value, a URL)."""
        return self.whole[value] if value in self.whole else self.text(value)

    def value(self, value: Any) -> Any:
        """A JSON value of a request body: learnt cursors replaced whole, strings as `string`."""
        for run, replay in self.values:
            if value == run and type(value) is type(run):
                return replay
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.string(value)
        return value

    def body(self, text: str) -> bytes:
        """A recorded body as the replay sends it. JSON written the way json.dumps writes it (how the suite
        sends JSON) is rewritten value by value; any other text (malformed on purpose, odd spacing) keeps
        every byte but the learnt IDs and the prefix."""
        try:
            document = json.loads(text)
            canonical = json.dumps(document) == text
        except ValueError:
            canonical = False
        if canonical:
            return json.dumps(self.value(document)).encode()
        return self.text(text).encode()


# --- comparing the failing answer with the run's -------------------------------------------------------------

def _digits(number: float) -> int:
    return len(str(abs(int(number))))


def same(run: Any, got: Any, subs: Substitutions) -> bool:
    """Whether the replay's value `got` has the shape of the run's value `run`:
    - objects: the same keys, each value alike; lists: the same length, each element alike;
    - strings: equal once the replay's IDs, URLs and prefix are put in for the run's; an ID the replay
      learnt must be the replay's own, an ID it did not learn (a new one) any ID of the same class, and in
      both cases inside the strict ID alphabet exactly when the run's was;
    - numbers: an int is never a float; below 10**9 equal, above by their number of digits;
    - true, false, null: equal; nothing there: nothing there in both."""
    if run is MISSING or got is MISSING:
        return run is got
    if isinstance(run, bool) or isinstance(got, bool) or run is None or got is None:
        return type(run) is type(got) and run == got
    if isinstance(run, (int, float)) and isinstance(got, (int, float)):  # noqa: UP038 - the script runs on 3.8
        if type(run) is not type(got):
            return False
        if max(abs(run), abs(got)) < VOLATILE_NUMBER:
            return run == got
        return _digits(run) == _digits(got)
    if isinstance(run, str) and isinstance(got, str):
        run_id, got_id = ID_VALUE.match(run), ID_VALUE.match(got)
        if run_id and got_id:
            strict_alike = bool(STRICT_ID.match(run)) == bool(STRICT_ID.match(got))
            if run in subs.ids:
                return subs.ids[run] == got and strict_alike
            return run_id.group(1) == got_id.group(1) and strict_alike and (run == got or got not in
                                                                            subs.ids.values())
        return subs.string(run) == got
    if isinstance(run, dict) and isinstance(got, dict):
        keys = {subs.text(k): v for k, v in run.items()}
        return set(keys) == set(got) and all(same(keys[k], got[k], subs) for k in keys)
    if isinstance(run, list) and isinstance(got, list):
        if len(run) != len(got):
            return False
        if all(same(a, b, subs) for a, b in zip(run, got)):  # noqa: B905
            return True
        # A list of entities (a search's results) may come in the order of their random IDs: as a set.
        return any(_entity(item) for item in run) and _same_set(run, list(got), subs)
    return False


def _entity(value: Any) -> bool:
    return bool(isinstance(value, str) and ID_VALUE.match(value)) or (
        isinstance(value, dict) and isinstance(value.get("id"), str) and bool(ID_VALUE.match(value["id"])))


def _same_set(run: list, got: list, subs: Substitutions) -> bool:
    for item in run:
        for index, other in enumerate(got):
            if same(item, other, subs):
                del got[index]
                break
        else:
            return False
    return True


def walk_summary(pages: list, collect: str) -> dict:
    """What a `page_through` walk saw, from its (request body, answer body) pairs: the pages asked with a
    limit, the values collected on them (`collect`, e.g. $.results[*].id), how many differ, and how many the
    unpaged query (a request without limit) gave, if one was sent."""
    collected, unpaged, asked = [], None, 0
    for sent, answer in pages:
        found = get_path(answer, collect)
        found = [] if found is MISSING else found if isinstance(found, list) else [found]
        if isinstance(sent, dict) and "limit" in sent:
            asked += 1
            collected.extend(found)
        else:
            unpaged = len(found)
    return {"pages": asked, "count": len(collected),
            "distinct": len({json.dumps(v, sort_keys=True) for v in collected}), "unpaged": unpaged}


def shown(value: Any) -> str:
    if value is MISSING:
        return "(nothing)"
    text = value if isinstance(value, str) and not value.startswith(("{", "[")) else json.dumps(value,
                                                                                                 ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


class Answer:
    """What came back: a status, headers and a body, or `error` (no complete answer)."""

    def __init__(self, status: int | None, headers: dict[str, str], body: bytes, error: str | None = None):
        self.status, self.body, self.error = status, body, error
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.json = parse_json(body) if error is None else MISSING

    def header(self, name: str) -> Any:
        return self.headers.get(name.lower(), MISSING)


def _media_type(value: Any) -> Any:
    return value.split(";", 1)[0].strip().lower() if isinstance(value, str) else value


def judge(compare: dict[str, Any], answer: Answer, subs: Substitutions, walked: list | None = None
          ) -> tuple[bool, Any]:
    """(alike, the replay's value) for one comparison of the failing step (see `same`); `walked`: the
    (request body, answer body) pairs of the failing step's page walk so far."""
    at, run = compare["at"], compare.get("run", MISSING) if not compare.get("run_missing") else MISSING
    if at == "walk":   # a page walk's totals: pages, values collected, distinct values, the unpaged count
        got = walk_summary(walked or [], compare.get("collect", "$.results[*].id"))
        return got == run, got
    if at == "status":
        return answer.status == run, answer.status
    if at.startswith("$"):
        got = get_path(answer.json, at)
        return same(run, got, subs), got
    if at.startswith("header "):
        got = answer.header(at[len("header "):])
        return same(run, got, subs), got
    if at == "text":
        got = answer.body.decode("utf-8", errors="replace")
        return subs.text(run) == got if isinstance(run, str) else False, got
    if at == "body size":
        return len(answer.body) == run, len(answer.body)
    if at == "body md5":
        got = hashlib.md5(answer.body).hexdigest()
        return got == run, got
    if at == "answer":   # no path to look at: the media type, the judged headers' presence, the body's shape
        got = {"content-type": _media_type(answer.header("content-type")),
               "headers": sorted(h for h in JUDGED_HEADERS if h in answer.headers),
               "body": answer.json if answer.json is not MISSING else "(not JSON)"}
        return same(run, got, subs), got
    return False, MISSING


def verdict(step: dict[str, Any], answer: Answer, subs: Substitutions, walked: list | None = None
            ) -> tuple[bool, list[str]]:
    """Whether the failing step's answer is the run's failure again: the same HTTP status (or, when the run
    got no complete answer, none again) and every comparison alike. Lines saying what was compared."""
    lines = []
    if step.get("error"):
        again = answer.error is not None
        lines.append(f"  no complete answer: {'again' if again else 'this time there was one'} "
                     f"(the run: {step['error']}; now: {answer.error or answer.status})")
        return again, lines
    if answer.error is not None:
        lines.append(f"  no complete answer ({answer.error}); the run got status {step.get('status')}")
        return False, lines
    alike = answer.status == step.get("status")
    lines.append(f"  status {answer.status} (the run: {step.get('status')}){'' if alike else '  <- differs'}")
    for compare in step.get("compare", []):
        if compare["at"] == "status":
            continue
        ok, got = judge(compare, answer, subs, walked)
        alike = alike and ok
        run = MISSING if compare.get("run_missing") else compare.get("run")
        lines.append(f"  {compare['at']}: {shown(got)} (the run: {shown(run)}"
                     + (f"; expected {shown(compare['expected'])}" if "expected" in compare else "")
                     + f"){'' if ok else '  <- differs'}")
    return alike, lines


# --- sending -----------------------------------------------------------------------------------------------

def generated_bytes(size: int, seed: int = 0, offset: int = 0) -> bytes:
    """The suite's generated bodies (cases/blobs.py): SHAKE-256 of the seed, `size` bytes from `offset`."""
    return hashlib.shake_256(f"dxconform-bytes:{seed}".encode()).digest(offset + size)[offset:]


def send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
    """One HTTP request with http.client: no redirect followed, no header added but Host and Content-Length."""
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.netloc, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    except (OSError, http.client.HTTPException) as problem:
        return Answer(None, {}, b"", f"{type(problem).__name__}: {problem}")
    finally:
        connection.close()


def token_variable(user: str) -> str:
    return "DX_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", user).upper()


def authorization(step: dict[str, Any]) -> str | None:
    """The Authorization value the step sends: none where the run sent none; the case file's own value or bad
    token where it had one; else the step's user's token from the environment."""
    recorded = next((v for k, v in step.get("headers", {}).items() if k.lower() == "authorization"), None)
    if recorded is None:
        return None
    if step.get("authorization") is not None:
        return step["authorization"]
    scheme = recorded.split(" ", 1)[0] if " " in recorded else "Bearer"
    if step.get("token") is not None:
        return f"{scheme} {step['token']}"
    if step.get("as"):
        return f"{scheme} {os.environ[token_variable(step['as'])]}"
    return None


def describe_sender(step: dict[str, Any]) -> str:
    if step.get("fetch"):
        return "no token (a URL the server handed out)"
    if step.get("token") is not None:
        return "a bad token"
    if step.get("authorization") is not None:
        return "its own Authorization header"
    return step.get("as") or "no token"


class Replayer:
    def __init__(self, plan: dict[str, Any], server: str, timeout: float, out: Any = sys.stdout):
        self.plan, self.server, self.timeout, self.out = plan, server.rstrip("/"), timeout, out
        self.subs = Substitutions(plan.get("run_prefix", ""), "dxc-" + secrets.token_hex(4))
        self.created: list[tuple[str, str | None]] = []   # (project, user) made by this replay
        self.walks: dict[Any, list] = {}   # page walk -> its (request body, answer body) pairs so far

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def request(self, step: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes | None]:
        headers = {k: self.subs.string(v) for k, v in step.get("headers", {}).items()
                   if k.lower() != "authorization"}
        value = authorization(step)
        if value is not None:
            headers["Authorization"] = value
        if step.get("generated"):
            body: bytes | None = generated_bytes(**step["generated"])
        elif step.get("fetch"):
            body = step.get("body", "").encode()
        else:
            body = self.subs.body(step.get("body", ""))
        if not body and step["method"].upper() in ("GET", "HEAD"):
            body = None
        if step.get("fetch"):
            url = self.subs.string(step["url"])
            run_server = self.plan.get("server", "").rstrip("/")
            if run_server and url.startswith(run_server + "/") and url not in self.subs.whole.values():
                url = self.server + url[len(run_server):]
        else:
            url = self.server + self.subs.text(step["path"])
        return step["method"], url, headers, body

    def exchange(self, step: dict[str, Any]) -> tuple[Answer, str]:
        method, url, headers, body = self.request(step)
        answer = send(method, url, headers, body, self.timeout)
        if step.get("walk") is not None:
            self.walks.setdefault(step["walk"], []).append((parse_json(body or b""), answer.json))
        return answer, f"{method} {url}"

    def capture(self, step: dict[str, Any], answer: Answer) -> None:
        for entry in step.get("capture", []):
            problem = self.subs.learn(entry["kind"], entry["run"], get_path(answer.json, entry["at"]))
            if problem:
                self.say(f"    could not capture {entry['at']} ({entry['kind']} {shown(entry['run'])}): {problem}")
            elif entry["kind"] == "id" and step.get("path") == "/project/new" and entry["at"] == "$.id":
                self.created.append((self.subs.ids.get(entry["run"], ""), step.get("as")))

    def settled(self, step: dict[str, Any], answer: Answer) -> bool:
        """A polled step (`eventually`) has settled when its answer is alike the run's last one at the paths the
        step's expectations name (and in status)."""
        until = step["poll"].get("until", [])
        return answer.status == step.get("status") and all(judge(c, answer, self.subs)[0] for c in until)

    def run(self) -> int:
        steps = self.plan["steps"]
        self.say(f"replaying {self.plan['case']} against {self.server}: {len(steps)} request(s), the last one "
                 f"failed in the run")
        broke = False
        for number, step in enumerate(steps, 1):
            who = describe_sender(step)
            answer, sent = self.exchange(step)
            deadline = time.monotonic() + float(step.get("poll", {}).get("timeout", 0))
            if step.get("failing"):
                walked = self.walks.get(step.get("walk"))
                reproduced, lines = verdict(step, answer, self.subs, walked)
                while reproduced and step.get("poll") and time.monotonic() < deadline:
                    time.sleep(float(step["poll"].get("interval", 0.5)))
                    answer, sent = self.exchange(step)
                    reproduced, lines = verdict(step, answer, self.subs, walked)
                shown_status = answer.status if answer.error is None else f"no answer ({answer.error})"
                self.say(f"{number}/{len(steps)} {step['label']} ({step.get('where', '')}) as {who}: {sent} -> "
                         f"{shown_status}   <- the failing step")
                self.say(f"failing step: {step['label']} answered {shown_status}; the run: "
                         f"{step.get('status') if not step.get('error') else 'no answer (' + step['error'] + ')'}")
                for line in lines:
                    self.say(line)
                if broke:
                    self.say("note: an earlier request did not answer as in the run (see above); the comparison "
                             "may not mean much")
                return REPRODUCED if reproduced else NOT_REPRODUCED
            while step.get("poll") and not self.settled(step, answer) and time.monotonic() < deadline:
                time.sleep(float(step["poll"].get("interval", 0.5)))
                answer, sent = self.exchange(step)
            status = answer.status if answer.error is None else f"no answer ({answer.error})"
            note = ""
            if answer.error is not None and not step.get("error"):
                self.say(f"{number}/{len(steps)} {step['label']} as {who}: {sent} -> {status}")
                self.say(f"cannot replay: step {number} got no answer, the run got {step.get('status')}")
                return CANNOT_REPLAY
            if answer.status != step.get("status") and not step.get("error"):
                note = f"   (the run: {step.get('status')})"
                broke = broke or (answer.status or 0) // 100 != (step.get("status") or 0) // 100
            self.say(f"{number}/{len(steps)} {step['label']} as {who}: {sent} -> {status}{note}")
            self.capture(step, answer)
        self.say("cannot replay: the plan has no failing step")
        return CANNOT_REPLAY

    def clean_up(self, keep: bool) -> None:
        for project, user in self.created:
            if not project:
                continue
            if keep:
                self.say(f"kept {project} (--keep)")
                continue
            headers = {"Content-Type": "application/json"}
            if user and os.environ.get(token_variable(user)):
                headers["Authorization"] = f"Bearer {os.environ[token_variable(user)]}"
            answer = send("POST", f"{self.server}/{project}/destroy", headers, b'{"terminateJobs": true}',
                          self.timeout)
            self.say(f"destroyed {project}, made by this replay" if answer.status == 200 else
                     f"could not destroy {project}: {answer.error or answer.status}")


def main(plan: dict[str, Any], argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__ or "", plan.get("usage", ""), sep="\n")
        return 0
    missing = [token_variable(u) for u in plan.get("users", []) if not os.environ.get(token_variable(u))]
    if missing:
        print(f"set {', '.join('$' + m for m in missing)} (the token of each user the case runs as)",
              file=sys.stderr)
        return CANNOT_REPLAY
    server = os.environ.get("DX_SERVER") or plan["server"]
    replayer = Replayer(plan, server, float(os.environ.get("DX_TIMEOUT") or 30))
    code = CANNOT_REPLAY
    try:
        code = replayer.run()
    finally:
        replayer.clean_up("--keep" in argv)
    replayer.say({REPRODUCED: "REPRODUCED: the failing step answered as in the run (exit 1)",
                  NOT_REPRODUCED: "not reproduced: the failing step answered differently from the run (exit 0)",
                  CANNOT_REPLAY: "could not replay the case up to its failing step (exit 2)"}[code])
    return code
