"""report.html of a diff: the usual sections of the report, then every differing step with both answers side by side."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..reporting.html_kit import esc, page
from ..reporting.report_page import REPORT_TITLE, report_sections
from .results import DIFF_KEY
from .traffic_compare import examples_by_kind, figure_line

STYLE = (".dxc .side { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }"
         ".dxc .side > div { min-width: 0; }")
SHOWN_CHARS = 6000


def _answer(exchange: Mapping[str, Any] | None) -> str:
    if exchange is None:
        return "(this step did not run)"
    request, response = exchange["request"], exchange.get("response")
    text = f"{request['method']} {request['path']}\n{_pretty(request.get('body', ''))}\n\n"
    if response is None:
        return text + f"no answer: {(exchange.get('error') or {}).get('kind', '')}"
    return text + f"HTTP {response['status']}\n{_pretty(response.get('body', ''))}"


def _pretty(body: str) -> str:
    try:
        text = json.dumps(json.loads(body), indent=1, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = body
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"... [{len(text)} chars]"


def _step(entry: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><td>{esc(d['level'])}</td><td>{esc(d['title'])}</td><td><code>{esc(d.get('path', ''))}"
                   f"</code></td><td>{esc(json.dumps(d.get('expected', '(absent)'))[:300])}</td>"
                   f"<td>{esc(json.dumps(d.get('actual', '(absent)'))[:300])}</td></tr>" for d in entry["differences"])
    return (f"<h4>{esc(entry['step'])}</h4><table class='dx-diff'><tr><th>level</th><th>kind</th><th>at</th>"
            f"<th>golden</th><th>this server</th></tr>{rows}</table>"
            f"<div class='side'><div><b>golden answer</b><pre>{esc(_answer(entry.get('golden')))}</pre></div>"
            f"<div><b>this server's answer</b><pre>{esc(_answer(entry.get('candidate')))}</pre></div></div>")


def differential_section(document: Mapping[str, Any]) -> str:
    differing = [r for r in document["results"] if r.get(DIFF_KEY)]
    parts = [f"<h2 id='dx-differential'>Differences from the golden recording</h2><p><b>{len(differing)}</b> "
             "case(s) answered differently.</p>"]
    for result in differing:
        parts.append(f"<details open><summary><code>{esc(result['id'])}</code> ({esc(result['level'])}): "
                     f"{esc(result['message'])}</summary>" + "".join(_step(e) for e in result[DIFF_KEY])
                     + "</details>")
    return "".join(parts)


def traffic_section(document: Mapping[str, Any]) -> str:
    """A replayed imported recording: the figure, the differences grouped by kind (count, first examples),
    the API exchanges matching per route and the ignored ones per reason; "" for a diff of the suite's cases."""
    traffic = document.get("traffic")
    if not traffic:
        return ""
    examples = examples_by_kind(document)
    kinds = "".join(f"<tr><td>{esc(kind)}</td><td>{count}</td><td>"
                    + "".join(f"<div><code>{esc(line)}</code></div>" for line in examples.get(kind, []))
                    + "</td></tr>" for kind, count in traffic["by_kind"].items())
    routes = "".join(f"<tr><td><code>{esc(route)}</code></td><td>{row['matched']}/{row['exchanges']}</td></tr>"
                     for route, row in traffic["by_route"].items())
    ignored = "".join(f"<tr><td>{esc(reason)}</td><td>{count}</td></tr>" for reason, count in traffic["ignored"].items())
    return (f"<h2 id='dx-traffic'>Replayed traffic</h2><p><b>{esc(figure_line(traffic))}</b>; "
            f"{traffic['storage_exchanges']} storage exchange(s) replayed.</p>"
            f"<h3>Differences by kind</h3><table class='dx-diff'><tr><th>kind</th><th>count</th>"
            f"<th>first examples</th></tr>{kinds}</table>"
            f"<h3>API exchanges matching, by route</h3><table class='dx-diff'><tr><th>route</th><th>matching</th>"
            f"</tr>{routes}</table>"
            f"<h3>Ignored, by reason</h3><table class='dx-diff'><tr><th>reason</th><th>count</th></tr>{ignored}</table>")


def diff_page(document: Mapping[str, Any], spec: Any | None = None) -> str:
    return page(f"{REPORT_TITLE}: differential", f"<style>{STYLE}</style>" + traffic_section(document)
                + differential_section(document) + report_sections(document, spec))
