"""The failures section of report.html, and the one HTML rendering of a failure that every report uses.

Run, merge, diff and proxy reports show a failure alike: what broke (the check, or the step's missed
expectation) with its source, the case, level, failing step, the failing request and answer, the
expected-vs-actual difference at the failing path, curl and dxpy lines of the failing request (naming whose
token they need), and for a failed case the line that reruns it with --keep and its reproduction script
(reproduction.py); all read from the results' records, never from their messages.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..checks import check_info
from ..model import FailurePhase
from .evidence import Difference, differences, failing_exchange_index, failure_of, finding_exchange_index
from .html_kit import coloured, esc, shown_json
from .replay_runtime import token_variable
from .repro import curl_command, dxpy_snippet
from .reproduction import REPLAY_KEY, REPRO_DIR, NoScript, rerun_command, script_name, script_text
from .tallies import FAILING

SHOWN_BODY_CHARS = 6000
# A cause's other results are one line each: their message cut to this, and at most this many routes named.
MEMBER_MESSAGE_CHARS = 300
ROUTES_SHOWN = 8
# The page stays within its budget (1 MB with many failures, issue 16) however many failures a run has: the
# largest CAUSES_IN_FULL causes show a failure in full, the others their line; at most MEMBER_LINES_AT_MOST
# failures get a line of their own, the rest of a cause is counted (results.json holds every one).
CAUSES_IN_FULL = 25
MEMBER_LINES_AT_MOST = 500


def failure_anchor(result_id: str) -> str:
    """The id of a failure's block: stable, and safe in an HTML id and a URL fragment."""
    return "dx-failure-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in result_id)


def failures_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The results that count against the server (failed, error): MUST first, then by id."""
    order = {"MUST": 0, "SHOULD": 1, "MAY": 2}
    found = [r for r in document["results"] if r["outcome"] in FAILING]
    return sorted(found, key=lambda r: (order.get(r["level"], 3), r.get("kind") == "check", r["id"]))


_URL_ENDS = frozenset(" \t\n;,)")
# Misses of one failure named in its rule field; the table under it lists them all.
RULE_MISSES_SHOWN = 3
RULE_VALUE_CHARS = 80


def _link(source: str) -> str:
    """The source text, its first URL (wherever it stands) a link."""
    starts = [i for i in (source.find("https://"), source.find("http://")) if i >= 0]
    if not starts:
        return esc(source)
    start = end = min(starts)
    while end < len(source) and source[end] not in _URL_ENDS:
        end += 1
    url = source[start:end].rstrip(".")
    end = start + len(url)
    return f"{esc(source[:start])}<a href='{esc(url)}'>{esc(url)}</a>{esc(source[end:])}"


def _cut(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + f"\n... [{len(text)} chars in all]"


def _exchange_text(exchange: Mapping[str, Any]) -> tuple[str, str]:
    request, response = exchange.get("request") or {}, exchange.get("response")
    sent = "\n".join([f"{request.get('method', '')} {request.get('url', '')}"]
                     + [f"{k}: {v}" for k, v in (request.get("headers") or {}).items()]
                     + ["", _cut(request.get("body", ""))])
    if response:
        got = "\n".join([f"HTTP {response.get('status')} ({exchange.get('elapsed_ms', 0)} ms)"
                         + (" [cut off]" if response.get("truncated") else "")]
                        + [f"{k}: {v}" for k, v in (response.get("headers") or {}).items()]
                        + ["", _cut(response.get("body", ""))])
    else:
        got = "no answer"
    if exchange.get("error"):
        got += f"\n[{exchange['error'].get('kind')}] {exchange['error'].get('message')}"
    return sent, got


def _unified(expected: Any, actual: Any) -> str:
    """A line diff of two JSON values (only for objects and arrays; scalars read fine side by side)."""
    if not isinstance(expected, dict | list) or not isinstance(actual, dict | list):
        return ""
    lines = difflib.unified_diff(shown_json(expected).splitlines(), shown_json(actual).splitlines(),
                                 "expected", "actual", lineterm="", n=2)
    shown = []
    for line in lines:
        kind = "del" if line.startswith("-") else "ins" if line.startswith("+") else ""
        shown.append(f"<span class='{kind}'>{esc(line)}</span>" if kind else esc(line))
    return f"<pre class='udiff'>{chr(10).join(shown)}</pre>" if shown else ""


def differences_html(found: Sequence[Difference]) -> str:
    if not found:
        return "<p class='muted'>No structured difference was recorded; see the message and the answer.</p>"
    rows = []
    for diff in found:
        rule = esc(diff.rule) + (f" ({esc(diff.level)})" if diff.level else "")
        rule += f" <code>{esc(diff.matcher)}</code>" if diff.matcher and diff.matcher != diff.rule else ""
        rule += f"<br><span class='muted'>{_link(diff.source)}</span>" if diff.source else ""
        rows.append(f"<tr><td><code>{esc(diff.path or '-')}</code></td><td>{rule}</td>"
                    f"<td><pre>{esc(shown_json(diff.expected))}</pre></td>"
                    f"<td><pre>{esc(shown_json(diff.actual))}</pre>{_unified(diff.expected, diff.actual)}</td></tr>")
    return ("<table class='diff'><tr><th>at</th><th>rule</th><th>expected</th><th>actual</th></tr>"
            + "".join(rows) + "</table>")


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= RULE_VALUE_CHARS else text[:RULE_VALUE_CHARS] + "..."


def _expected_status(expected: Any) -> str:
    if isinstance(expected, list) and expected:
        shown = [str(v) for v in expected]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    return str(expected)


def _miss_words(miss: Mapping[str, Any]) -> str:
    """One miss of an expectation: `expects status 401: got 200`, `expects $.tags equals ["a"]: got []`."""
    path, matcher = str(miss.get("path", "")), str(miss.get("matcher", ""))
    got = _value(miss["actual"]) if "actual" in miss else "nothing"
    if path == "status":
        return f"expects status {_expected_status(miss.get('expected'))}: got {got}"
    if matcher == "save":
        return f"expects a value to save at {path}: got nothing"
    if matcher == "error" and isinstance(miss.get("expected"), Mapping):
        wanted = miss["expected"].get("type")
        actual = miss.get("actual")
        if isinstance(actual, Mapping) and isinstance(actual.get("error"), Mapping):
            actual = actual["error"]
        kind = actual.get("type") if isinstance(actual, Mapping) else None
        got = f"error {_value(kind)}" if kind is not None else f"no error envelope ({got})"
        return f"expects error {_expected_status(wanted)}: got {got}"
    what = f"{path} {matcher}" if matcher and matcher != path else path
    return f"expects {what} {_value(miss.get('expected'))}: got {got}"


def rule_of(result: Mapping[str, Any]) -> tuple[str, str]:
    """What broke, as (text, source): the check (its registry title) for a check result or a failure in phase
    `check`; else the failing step's missed expectations (`step 2 expects status 401: got 200`) with the case's
    source; else why the step got no answer. The case's title when the result carries no failure record."""
    if result.get("kind") == "check":
        info = check_info(_check_name(result))
        if info is not None:
            return f"check {info.name}: {info.title}", info.source
    failure = failure_of(result)
    source = str(result.get("source", ""))
    if failure is None:
        return str(result.get("title", "")), source
    if failure.phase == FailurePhase.CHECK:
        names = list(dict.fromkeys(miss.matcher for miss in failure.misses if miss.matcher))
        infos = [info for info in map(check_info, names) if info is not None]
        if infos:
            paths = ", ".join(dict.fromkeys(miss.path for miss in failure.misses if miss.path))
            where = f" (on the answer to {failure.place}{' at ' + paths if paths else ''})"
            return "; ".join(f"check {i.name}: {i.title}" for i in infos) + where, \
                "; ".join(dict.fromkeys(i.source for i in infos))
    record = result.get("failure") or {}
    misses = list(record.get("misses") or [])
    if misses:
        words = [_miss_words(miss) for miss in misses[:RULE_MISSES_SHOWN]]
        more = f" (+{len(misses) - RULE_MISSES_SHOWN} more)" if len(misses) > RULE_MISSES_SHOWN else ""
        return f"{failure.place} " + "; ".join(words) + more, source
    if failure.error:
        return f"{failure.place}: {failure.error}", source
    return str(result.get("title", "")), source


def _rule_html(result: Mapping[str, Any]) -> str:
    text, source = rule_of(result)
    return esc(text) + (f"<br><span class='muted'>source: {_link(source)}</span>" if source else "")


def _check_name(result: Mapping[str, Any]) -> str:
    return str(result["id"]).split("::", 1)[0].removeprefix("checks/")


def _evidence_case(result: Mapping[str, Any], cases: Sequence[Mapping[str, Any]]
                   ) -> tuple[Mapping[str, Any], int] | None:
    """For a failed check: the first case with an exchange on that route that drew a finding of that check,
    and that exchange's index."""
    check = _check_name(result)
    routes = set(result.get("routes") or [])
    for case in cases:
        index = finding_exchange_index(case, check)
        if index is not None and (case.get("exchanges") or [])[index].get("route") in routes:
            return case, index
    return None


def _failing_step(result: Mapping[str, Any]) -> str:
    """The failure record's step, method, path and file:line (or its phase and error), as HTML."""
    failure = failure_of(result)
    if failure is None:
        return ""
    where = f"{failure.method} {failure.path}".strip()
    text = f"{esc(failure.place)}" + (f" <code>{esc(where)}</code>" if where else "")
    text += f" <span class='muted'>({esc(failure.location)})</span>" if failure.location else ""
    if failure.error:
        text += f"<br>{esc(failure.error)}"
    return text


def _sender(result: Mapping[str, Any], index: int) -> Mapping[str, Any] | None:
    """Who sent the result's exchange `index` (its replay record), or None when not recorded."""
    senders = (result.get(REPLAY_KEY) or {}).get("senders") or []
    return senders[index] if 0 <= index < len(senders) else None


def _with_token(command: str, variable: str, literal: str) -> str:
    """A command with the case file's own (bad) token written out in place of a token variable."""
    shell = literal.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
    return command.replace(f"${variable}", shell).replace(f'os.environ["{variable}"]', repr(literal))


def _exchange_block(exchange: Mapping[str, Any], sent_by: Mapping[str, Any] | None = None) -> str:
    sent, got = _exchange_text(exchange)
    request = exchange.get("request") or {}
    user = (sent_by or {}).get("user")
    literal = (sent_by or {}).get("token")
    variable = token_variable(user) if user else "DX_TOKEN"
    curl, dxpy = curl_command(request, variable), dxpy_snippet(request, variable)
    if literal is not None:
        curl, dxpy = _with_token(curl, variable, literal), _with_token(dxpy, variable, literal)
        whose = "It sends the case file's own (deliberately wrong) token."
    elif user:
        whose = f"Set ${variable} to {esc(user)}'s token first (the user this step ran as)."
    else:
        whose = "Set $DX_TOKEN to the token of the user the step ran as."
    note = (f"<p class='muted'>{whose} This is the failing request as the run sent it: its IDs are the run's, "
            "which cleanup destroyed (unless the run had --keep); the reproduction script recreates them.</p>")
    return (f"<h4>request</h4><pre>{esc(sent)}</pre><h4>response</h4><pre>{esc(got)}</pre>"
            f"<h4>the failing request with curl</h4>{note}<pre>{esc(curl)}</pre>"
            f"<h4>the failing request with dxpy</h4><pre>{esc(dxpy)}</pre>")


SCRIPT_ENGINE_MARK = "\nimport hashlib\n"


def reproduction_html(result: Mapping[str, Any], server: str = "", embedded: bool = False) -> str:
    """How to reproduce a failed case: the line that reruns it keeping its objects, and its reproduction
    script (folded; the file is DIR/repro/<case>.py). report.html shows the script's header and plan, not the
    replay engine every script carries (replay_runtime.py), which the file holds in full."""
    if result.get("kind") in ("check", "profile") or result.get("outcome") not in FAILING:
        return ""
    rerun = rerun_command(str(result["id"]), server, embedded)
    parts = ["<h4>reproduce</h4>",
             f"<p>Rerun this case alone, leaving what it creates on the server: <code>{esc(rerun)}</code> "
             "<span class='muted'>(tokens from $DXCONFORM_TOKEN and $DXCONFORM_TOKEN2, or --token and "
             "--token2; --keep prints the IDs it left and how to delete them)</span></p>"]
    try:
        script = script_text(result, server, rule_of(result)[0])
    except NoScript as why:
        parts.append(f"<p class='muted'>No reproduction script: {esc(str(why))}.</p>")
        return "".join(parts)
    name = f"{REPRO_DIR}/{script_name(str(result['id']))}"
    head, mark, _engine = script.partition(SCRIPT_ENGINE_MARK)
    shown = head + ("\n# ... the replay engine (replay_runtime.py) follows here: see the file for the whole "
                    "script\n" if mark else "")
    requests = script.count("'label': ")
    parts.append(f"<details class='dx-repro'><summary>reproduction script <a href='{esc(name)}'>{esc(name)}</a>: "
                 f"replays the case's {requests} request(s) up to the failing one against a server, creating "
                 "its own objects; exit 1 when it sees the same failure</summary>"
                 f"<pre>{esc(shown)}</pre></details>")
    return "".join(parts)


def _other_exchanges(exchanges: Sequence[Mapping[str, Any]], failing: int | None) -> str:
    if len(exchanges) < 2:
        return ""
    rows = []
    for index, exchange in enumerate(exchanges):
        request, response = exchange.get("request") or {}, exchange.get("response") or {}
        mark = " &larr; failed here" if index == failing else ""
        rows.append(f"<tr><td class='n'>{index + 1}</td><td>{esc(request.get('method', ''))} "
                    f"<code>{esc(request.get('path', ''))}</code>{mark}</td>"
                    f"<td class='n'>{esc(response.get('status', '-'))}</td></tr>")
    return (f"<details><summary>all {len(exchanges)} exchanges of this case</summary><table>"
            "<tr><th>#</th><th>request</th><th>status</th></tr>" + "".join(rows) + "</table></details>")


def failure_html(result: Mapping[str, Any], cases: Sequence[Mapping[str, Any]] = (), *, server: str = "",
                 embedded: bool = False) -> str:
    """One failure in full: what broke and where that rule comes from, the case, the failing step, the evidence
    and how to reproduce it. `cases`: the run's case results, where a failed check (which records no exchange
    of its own) finds its evidence; `server`: the run's server (the default of the reproduction script)."""
    kind = f" ({esc(result['kind'])})" if result.get("kind") else ""
    whole = "check" if result.get("kind") == "check" else "case"
    meta = [("result", f"<code>{esc(result['id'])}</code>{kind}"),
            ("rule", _rule_html(result)),
            (whole, esc(result.get("title", "")) + (f"<br><span class='muted'>source: "
                                                   f"{_link(str(result['source']))}</span>"
                                                   if result.get("source") and whole == "case" else "")),
            ("level", esc(result["level"])),
            ("area / topic", f"{esc(result['area'])} / {esc(result.get('topic', ''))}"),
            ("profile", esc(result["profile"])),
            ("outcome", coloured(result["outcome"])), ("message", f"<code>{esc(result.get('message', ''))}</code>")]
    step = _failing_step(result)
    if step:
        meta.append(("failing step", step))
    parts = ["<table class='meta'>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in meta) + "</table>",
             "<h4>expected against actual</h4>", differences_html(differences(result))]
    exchanges = list(result.get("exchanges") or [])
    index = failing_exchange_index(result) if exchanges else None
    owner = result
    if not exchanges and result.get("kind") == "check":
        seen = _evidence_case(result, cases)
        if seen is not None:
            case, index = seen
            owner = case
            name = f"<code>{esc(case['id'])}</code>"
            if case["outcome"] in FAILING:   # only failures have a block of their own to link to
                name = f"<a href='#{failure_anchor(case['id'])}'>{name}</a>"
                if REPLAY_KEY in case:
                    name += (f" (its reproduction script: <a href='{esc(REPRO_DIR)}/"
                             f"{esc(script_name(str(case['id'])))}'>{esc(REPRO_DIR)}/"
                             f"{esc(script_name(str(case['id'])))}</a>)")
            parts.append(f"<p>Seen in case {name}; its exchange:</p>")
            exchanges = list(case.get("exchanges") or [])
    if index is not None:
        parts.append(_exchange_block(exchanges[index], _sender(owner, index)))
        parts.append(_other_exchanges(exchanges, index))
    elif not exchanges:
        parts.append("<p class='muted'>No exchange was recorded for this result.</p>")
    else:
        parts.append("<p class='muted'>No exchange is named as the failing one.</p>")
        parts.append(_other_exchanges(exchanges, None))
    parts.append(reproduction_html(result, server, embedded))
    return "".join(parts)


def _one_line(result: Mapping[str, Any]) -> str:
    return (f"<p class='member' id='{failure_anchor(result['id'])}'>{coloured(result['outcome'])} "
            f"<b>{esc(result['level'])}</b> <code>{esc(result['id'])}</code> &mdash; "
            f"<span class='muted'>{esc(str(result.get('message', ''))[:MEMBER_MESSAGE_CHARS])}</span></p>")


def _causes(document: Mapping[str, Any], failures: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    causes = document.get("root_causes")
    if causes is None:   # a document from before root causes: every failure is its own cause
        causes = [{"count": 1, "line": f"1 × {r.get('title', '')}", "results": [r["id"]], "routes": []}
                  for r in failures]
    return causes


def _layout(causes: Sequence[Mapping[str, Any]], failing: set[str]) -> list[tuple[str | None, list[str], int]]:
    """Per cause: (the id shown in full or None, the ids given a line, how many are only counted)."""
    layout, lines_left = [], MEMBER_LINES_AT_MOST
    for index, cause in enumerate(causes):
        members = [rid for rid in cause["results"] if rid in failing]
        full = members[0] if members and index < CAUSES_IN_FULL else None
        rest = members[1:] if full else members
        lined = rest[:max(0, lines_left)]
        lines_left -= len(lined)
        layout.append((full, lined, len(rest) - len(lined)))
    return layout


def shown_failures(document: Mapping[str, Any]) -> set[str]:
    """The ids of the failures the page gives a block or a line (an anchor to link to)."""
    failures = failures_of(document)
    layout = _layout(_causes(document, failures), {r["id"] for r in failures})
    return {rid for full, lined, _ in layout for rid in ([full] if full else []) + lined}


def _cause_block(index: int, cause: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]],
                 cases: Sequence[Mapping[str, Any]], shown: tuple[str | None, list[str], int], server: str = "",
                 embedded: bool = False) -> str:
    """One root cause: its line, its routes, its representative failure in full (for the largest causes), the
    others one line each (up to the page's bound), and how many more results.json holds."""
    full, lined, counted = shown
    members = [rid for rid in cause["results"] if rid in by_id]
    if not members:
        return ""
    routes = cause.get("routes") or []
    shown_routes = ", ".join(f"<code>{esc(r)}</code>" for r in routes[:ROUTES_SHOWN])
    shown_routes += f" (+{len(routes) - ROUTES_SHOWN} more)" if len(routes) > ROUTES_SHOWN else ""
    level = by_id[members[0]]["level"]
    block = (f"<details class='failure level-{esc(level)}' id='dx-cause-{index + 1}'"
             f"{' open' if index == 0 else ''}><summary><b>{cause['count']} &times;</b> "
             f"{esc(cause['line'].split(' × ', 1)[-1])}</summary>"
             + (f"<p>routes: {shown_routes}</p>" if routes else ""))
    if full is not None:
        first = by_id[full]
        block += (f"<h4 id='{failure_anchor(first['id'])}'>{coloured(first['outcome'])} <b>{esc(level)}</b> "
                  f"<code>{esc(first['id'])}</code> <span class='muted'>(shown in full for this cause)</span></h4>"
                  + failure_html(first, cases, server=server, embedded=embedded))
    more = (f"<p class='muted'>... and {counted} more result(s) of this cause, each in results.json</p>"
            if counted else "")
    if lined or counted:
        title = f"the other {len(lined) + counted} result(s) of this cause" if full else \
            f"its {len(lined) + counted} result(s) (past the {CAUSES_IN_FULL} largest causes, none in full)"
        block += (f"<details><summary>{title}</summary>" + "".join(_one_line(by_id[rid]) for rid in lined)
                  + more + "</details>")
    return block + "</details>"


def failures_section(document: Mapping[str, Any]) -> str:
    """Failed and errored results, grouped by root cause (results.json `root_causes`), largest first: each
    cause shows one representative failure in full and lists the others in one line each, within the bounds
    above."""
    failures = failures_of(document)
    head = (f"<h2 id='dx-failures'>Failures (<span id='dx-failure-count'>{len(failures)}</span>), by root cause"
            "</h2>")
    if not failures:
        return head + "<p>None: every judged result passed.</p>"
    by_id = {r["id"]: r for r in failures}
    cases = [r for r in document["results"] if r.get("kind") != "check"]
    causes = _causes(document, failures)
    layout = _layout(causes, set(by_id))
    server = document.get("server") or {}
    blocks = [_cause_block(index, cause, by_id, cases, shown, str(server.get("url", "")),
                           bool(server.get("embedded")))
              for index, (cause, shown) in enumerate(zip(causes, layout, strict=True))]
    return head + "".join(blocks)
