"""One-off converter, kept for provenance: the real-traffic corpus of counsyl/stor (JSON, one file per test) to
the project's copy in HAR 1.2 (one file per test class, one page per test) under tests/data/real-traffic/stor/.

Usage: python tools/convert_stor.py [SOURCE_DIR] [OUT_DIR]
(defaults: /work/shared/spec/real-traffic/stor and tests/data/real-traffic/stor next to this file's parent).

What it does (docs: tests/data/real-traffic/stor/NOTICE.md): every exchange of the corpus becomes one HAR entry,
in recorded order, bodies kept as the recorded text (byte-faithful); request headers as recorded, plus
`Authorization: Bearer REDACTED` on requests that carried a token (`auth: true`), `Bearer PUBLIC` on the one
request that carried the literal public token; `startedDateTime` from the answer's `Date` header. The tests do
not need the source: they read the copy only.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SOURCE = Path("/work/shared/spec/real-traffic/stor")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "real-traffic" / "stor"
CREATOR = {"name": "dxconform convert (from counsyl/stor vcrpy cassettes)", "version": "1"}
# The one request that carried the literal public token (INDEX.md "Redaction"): (class, test, exchange 1-based).
PUBLIC_TOKEN_EXCHANGE = ("TestLoginAuth", "test_login_auth", 3)
SOURCE_FIELD = "_source"
REDACTION_NOTE = ("bearer tokens and preauthenticated download-URL keys replaced by REDACTED; the Authorization "
                  "header of requests that carried a token reads `Bearer REDACTED` (`Bearer PUBLIC`: the public token)")
STORE_PROVENANCE = ("real-traffic corpus of /work/shared/spec/real-traffic (INDEX.md), converted to HAR 1.2 by "
                    "tools/convert_stor.py")


def _header_list(headers: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, values in headers.items() for value in values]


def _started(response_headers: dict[str, list[str]]) -> str:
    date = next(values[0] for name, values in response_headers.items() if name.lower() == "date")
    return parsedate_to_datetime(date).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _mime(headers: dict[str, list[str]]) -> str:
    return next((values[0] for name, values in headers.items() if name.lower() == "content-type"), "")


def entry(exchange: dict[str, Any], pageref: str, authorization: str | None) -> dict[str, Any]:
    recorded_request, recorded_response = exchange["request"], exchange["response"]
    headers = _header_list(recorded_request["headers"])
    if authorization is not None:
        headers.append({"name": "Authorization", "value": authorization})
        headers.sort(key=lambda header: header["name"].lower())
    body = recorded_request["body"]
    request: dict[str, Any] = {
        "method": recorded_request["method"], "url": recorded_request["url"], "httpVersion": "HTTP/1.1",
        "cookies": [], "headers": headers,
        "queryString": [{"name": k, "value": v}
                        for k, v in parse_qsl(urlsplit(recorded_request["url"]).query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(body.encode("utf-8")) if body is not None else 0}
    if body is not None:
        request["postData"] = {"mimeType": _mime(recorded_request["headers"]), "text": body}
    text = recorded_response["body"]
    size = len(text.encode("utf-8"))
    response = {"status": recorded_response["status"], "statusText": recorded_response["reason"],
                "httpVersion": "HTTP/1.1", "cookies": [], "headers": _header_list(recorded_response["headers"]),
                "content": {"size": size, "mimeType": _mime(recorded_response["headers"]), "text": text},
                "redirectURL": "", "headersSize": -1, "bodySize": size}
    return {"pageref": pageref, "startedDateTime": _started(recorded_response["headers"]), "time": 0,
            "request": request, "response": response, "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}}


def _page_comment(source: dict[str, Any]) -> str:
    return (f"{source['repo']}@{source['commit']}:{source['path']} ({source['test_module']}, {source['recorder']}, "
            f"{source['python']}); recorded {source['recorded_first']} .. {source['recorded_last']}; "
            f"{REDACTION_NOTE}")


def convert_class(files: list[Path]) -> dict[str, Any]:
    pages, entries, sources = [], [], []
    for file in files:
        document = json.loads(file.read_text(encoding="utf-8"))
        source = document["source"]
        sources.append(source)
        page_id = f"{source['test_class']}::{source['test_name']}"
        exchanges = document["exchanges"]
        pages.append({"id": page_id, "title": page_id, "startedDateTime": _started(exchanges[0]["response"]["headers"]),
                      "pageTimings": {}, "comment": _page_comment(source)})
        for number, exchange in enumerate(exchanges, 1):
            authorization = None
            if exchange["request"]["auth"]:
                public = (source["test_class"], source["test_name"], number) == PUBLIC_TOKEN_EXCHANGE
                authorization = "Bearer PUBLIC" if public else "Bearer REDACTED"
            entries.append(entry(exchange, page_id, authorization))
    first = sources[0]
    comment = (f"{STORE_PROVENANCE}; source {first['repo']} commit {first['commit']} "
               f"(stor/tests/cassettes_py3/{first['test_class']}/*.yaml, {first['test_module']}), license "
               f"{first['license']}, {first['copyright']} (see NOTICE.md); recorded "
               f"{min(s['recorded_first'] for s in sources)} .. {max(s['recorded_last'] for s in sources)}; "
               f"bearer tokens and preauthenticated download-URL keys replaced by REDACTED")
    # The provenance as data too (HAR allows fields whose names start with "_"): `dxconform import` keeps it.
    provenance = {"repo": first["repo"], "commit": first["commit"],
                  "path": f"stor/tests/cassettes_py3/{first['test_class']}/*.yaml", "license": first["license"],
                  "copyright": first["copyright"]}
    return {"log": {"version": "1.2", "creator": CREATOR, "comment": comment, SOURCE_FIELD: provenance,
                    "pages": pages, "entries": entries}}


def dumps(document: dict[str, Any]) -> str:
    """Minified JSON, one page and one entry per line (readable diffs)."""
    log = document["log"]
    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    head = ",".join(f"{one(key)}:{one(value)}" for key, value in log.items() if key not in ("pages", "entries"))
    pages = ",\n".join(one(page) for page in log["pages"])
    entries = ",\n".join(one(record) for record in log["entries"])
    return f'{{"log":{{{head},"pages":[\n{pages}],\n"entries":[\n{entries}]}}}}\n'


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else SOURCE
    out = Path(argv[1]) if len(argv) > 1 else OUT
    by_class: dict[str, list[Path]] = defaultdict(list)
    for file in sorted(source.glob("*/*.json")):
        by_class[file.parent.name].append(file)
    out.mkdir(parents=True, exist_ok=True)
    for test_class, files in sorted(by_class.items()):
        document = convert_class(files)
        assert json.loads(dumps(document)) == document
        (out / f"{test_class}.har").write_text(dumps(document), encoding="utf-8")
    print(f"wrote {len(by_class)} HAR files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
