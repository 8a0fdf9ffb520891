"""Replaying an imported recording against a candidate: each recorded request rebuilt with the candidate's IDs
and sent in recorded order, storage PUTs and GETs sent to the URLs the candidate handed out, each answer
compared with the recorded one as it arrives (docs/differential.md, "Replaying imported traffic")."""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..engine.transport import NO_BODY, USER_AGENT, Transport
from ..model import Exchange
from ..reporting.results_json import build_document
from ..resources import schemas_dir
from ..spec.schemas import tree_sha256
from .compare import Comparer, Difference, StepPair
from .config import DiffConfig
from .golden import build_golden, exchange_record
from .results import case_result
from .runner import DiffOutcome
from .traffic_compare import TrafficFigures, header_differences
from .volatile import ID_PATTERN, Placeholders, map_strings

IMPORTED = "imported"          # the top-level member that makes a recording an imported one
WHOAMI = "/system/whoami"
PUBLIC_TOKEN = "Bearer PUBLIC"
HANDOUT_ROUTES = {"/file-xxxx/upload": "upload", "/file-xxxx/download": "download"}
NOT_REPLAYABLE = "not-replayable"
# A recorded download that answered 401 (its URL had expired) is replayed by waiting out the URL's lifetime,
# when the recorded request asked for one this short (seconds); a longer one is reported as not replayable.
MAX_EXPIRY_WAIT_S = 10
EXPIRY_MARGIN_S = 0.5
# A recorded poll (the same request again until its answer changed) is replayed by asking again, this often,
# for at most this long, while the candidate's answer has not changed yet (TrafficReplay._poll).
POLL_INTERVAL_S = 0.05
POLL_DEADLINE_S = 5.0
_IDS = re.compile(ID_PATTERN)
_USER = re.compile(r"\buser-[A-Za-z0-9._]*[A-Za-z0-9]\b")


def is_imported(golden: Mapping[str, Any]) -> bool:
    return IMPORTED in golden


@dataclass
class Handout:
    """A URL the candidate handed out (its /file-xxxx/upload or /download answer), and the recorded request
    that asked for it (its `duration`)."""

    answer: dict[str, Any]
    received: float                 # time.monotonic() when the answer arrived
    recorded_request: dict[str, Any]


class TrafficReplay:
    """Replays the recorded cases one after the other through one transport, holding the ID correspondence
    (one Comparer for the whole replay) and the storage URLs the candidate handed out."""

    def __init__(self, golden: Mapping[str, Any], transport: Transport, user: str):
        self.recorded = Placeholders.from_json(golden["placeholders"])
        self.candidate = Placeholders(self.recorded.run_prefix, transport.base_url)
        # The recorded requests revealed for sending: the recording's IDs, the candidate's server URL.
        self.sending = Placeholders(self.recorded.run_prefix, transport.base_url, self.recorded.ids)
        self.comparer = Comparer(self.recorded, self.candidate)
        self.transport = transport
        self.user = user
        self.recorded_user: str | None = golden[IMPORTED].get("user")
        self.candidate_user: str | None = None
        self.handouts: dict[tuple[str, str], Handout] = {}
        # Per route, the `next` of the last recorded answer and of the candidate's answer to it: a recorded
        # `starting` equal to the recorded `next` continues the listing, so the candidate gets its own `next`
        # (which object starts a page follows the order of the IDs, which differ between the two servers).
        self.cursors: dict[str, tuple[Any, Any]] = {}
        self.latest: dict[str, Handout] = {}

    # -- users ----------------------------------------------------------------------------------------------
    def pair_users(self) -> None:
        """The candidate's own user (whoami), paired with the recording's caller up front."""
        exchange = self.transport.call(WHOAMI, user=self.user, route=WHOAMI)
        answer = exchange.response.json if exchange.response is not None else None
        if exchange.response is not None and exchange.response.status == 200 and isinstance(answer, dict) \
                and isinstance(answer.get("id"), str):
            self.candidate_user = answer["id"]
            self._stand_for(self.recorded_user)

    def _stand_for(self, recorded_user: str | None) -> None:
        """Pair the candidate's user with `recorded_user`. The recording's caller may change from one recorded
        test to the next (two people ran them); the candidate's one user stands for each in turn."""
        ids = self.comparer.ids
        if not recorded_user or not self.candidate_user or ids.to_candidate.get(recorded_user) == self.candidate_user:
            return
        for golden_id in (recorded_user, ids.to_golden.get(self.candidate_user)):
            if golden_id is not None:
                ids.to_golden.pop(ids.to_candidate.pop(golden_id, ""), None)
        ids.pair(recorded_user, self.candidate_user)

    def _caller_of(self, case: Mapping[str, Any]) -> str | None:
        """The user the recorded test ran as: the recording's caller if the case names it, else the one user
        the case names (if it names exactly one)."""
        named: set[str] = set()
        for step in case["steps"]:
            for exchange in step["exchanges"]:
                answer = exchange.get("response") or {}
                named.update(_USER.findall(str(answer.get("json", answer.get("text", "")))))
        if self.recorded_user in named or len(named) != 1:
            return self.recorded_user
        return named.pop()

    # -- cases ----------------------------------------------------------------------------------------------
    def replay_case(self, case: Mapping[str, Any]) -> tuple[list[StepPair], dict[str, Any]]:
        """Each recorded exchange sent and compared in order: the pairs, and the candidate's case record."""
        self._stand_for(self._caller_of(case))
        pairs: list[StepPair] = []
        steps: list[dict[str, Any]] = []
        # The last exchange of each request (method, path, body): a recorded request sent again whose answer
        # changed is the end of a poll, wherever the client asked in between.
        earlier: dict[tuple, tuple[Mapping[str, Any], dict[str, Any] | None]] = {}
        self.cursors.clear()
        for step in case["steps"]:
            for recorded in step["exchanges"]:
                key = _request_of(recorded)
                pair = self._exchange(case["id"], step["step"], recorded, steps, earlier.get(key))
                pairs.append(pair)
                earlier[key] = (recorded, pair.candidate)
        return pairs, {"id": case["id"], "title": case.get("title", case["id"]),
                       "profile": case.get("profile", "core"), "outcome": "passed", "steps": steps}

    def _exchange(self, case_id: str, step: str, recorded: Mapping[str, Any], steps: list[dict],
                  previous: tuple[Mapping[str, Any], dict[str, Any] | None] | None) -> StepPair:
        storage = recorded.get("storage")
        route = recorded.get("route", "")
        if storage:
            exchange, why_not = self._storage(storage, recorded)
        else:
            exchange, why_not = self._api(recorded), ""
        if exchange is None:
            return StepPair(step, dict(recorded), None, [Difference(case_id, step, route, NOT_REPLAYABLE,
                                                                    detail=why_not)])
        mine = exchange_record(exchange, self.candidate)
        if not storage and previous is not None and _poll_ended(previous[0], recorded):
            exchange, mine = self._poll(case_id, step, recorded, exchange, mine, previous[1])
        if not storage and _state_behind(recorded, mine):
            exchange, mine = self._catch_up(recorded, exchange, mine)
        if not storage:
            self._keep_cursor(recorded, mine)
        if storage:
            mine["storage"] = storage
        steps.append({"step": step, "exchanges": [mine]})
        differences = [d for d in self.comparer.compare_exchange(case_id, step, recorded, mine)
                       if d.kind != "request"]   # the request was built from the recording
        if not storage:
            differences += header_differences(case_id, step, route, recorded.get("response"), mine["response"])
            self._keep_handout(recorded, exchange)
        return StepPair(step, dict(recorded), mine, differences)

    def _poll(self, case_id: str, step: str, recorded: Mapping[str, Any], exchange: Exchange,
              mine: dict[str, Any], before: dict[str, Any] | None) -> tuple[Exchange, dict[str, Any]]:
        """The recorded client sent the same request again until the answer changed (a file closing, say),
        at its own pace; the replay runs faster, so it asks again while the candidate's answer is still the
        one before and differs from the recorded one."""
        return self._ask_again_while(recorded, exchange, mine, lambda answer: (
            before is not None and _same_answer(answer, before)
            and any(d.kind != "request" for d in self.comparer.compare_exchange(case_id, step, recorded, answer))))

    def _catch_up(self, recorded: Mapping[str, Any], exchange: Exchange, mine: dict[str, Any]
                  ) -> tuple[Exchange, dict[str, Any]]:
        """A describe whose recorded answer is in another state (closed, where the candidate is still closing):
        the recorded client asked seconds after the step before (its clock shows whole seconds), the replay a
        few milliseconds after; it asks again while the candidate's state differs."""
        return self._ask_again_while(recorded, exchange, mine, lambda answer: _state_behind(recorded, answer))

    def _ask_again_while(self, recorded: Mapping[str, Any], exchange: Exchange, mine: dict[str, Any],
                         lagging: Callable[[dict[str, Any]], bool]) -> tuple[Exchange, dict[str, Any]]:
        """The recorded request sent again every POLL_INTERVAL_S while the candidate's answer is `lagging`,
        for at most POLL_DEADLINE_S: the last exchange and its record."""
        deadline = time.monotonic() + POLL_DEADLINE_S
        while lagging(mine) and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL_S)
            exchange = self._api(recorded)
            mine = exchange_record(exchange, self.candidate)
        return exchange, mine

    # -- API calls ------------------------------------------------------------------------------------------
    def for_candidate(self, text: str) -> str:
        """Recorded text (with placeholders) as the candidate must receive it: each recorded ID the ID map
        knows replaced by its candidate partner, unknown IDs as recorded, the candidate's server URL."""
        known = self.comparer.ids.to_candidate
        return _IDS.sub(lambda match: known.get(match.group(0), match.group(0)), self.sending.reveal(text))

    def _api(self, recorded: Mapping[str, Any]) -> Exchange:
        request = recorded["request"]
        content_type = _header(request.get("headers"), "content-type")
        headers: dict[str, str | None] = {"Content-Type": content_type}   # None: sent without one
        user = None
        if request.get("public_token"):
            headers["Authorization"] = PUBLIC_TOKEN
        elif request.get("auth"):
            user = self.user
        json_body, raw_body = NO_BODY, None
        if "json" in request:
            json_body = map_strings(request["json"], self.for_candidate)
            cursor = self.cursors.get(recorded.get("route", ""))
            if (isinstance(json_body, dict) and cursor is not None
                    and map_strings(request["json"].get("starting"), self.recorded.reveal) == cursor[0]):
                json_body["starting"] = cursor[1]
        else:
            raw_body = self.for_candidate(request.get("text", ""))
        return self.transport.call(self.for_candidate(request["path"]), user=user, json_body=json_body,
                                   raw_body=raw_body, headers=headers, method=request["method"],
                                   route=recorded.get("route"))

    def _keep_cursor(self, recorded: Mapping[str, Any], mine: Mapping[str, Any]) -> None:
        theirs = ((recorded.get("response") or {}).get("json"))
        ours = ((mine.get("response") or {}).get("json"))
        if isinstance(theirs, dict) and isinstance(ours, dict) and theirs.get("next") is not None \
                and "next" in ours:
            self.cursors[recorded.get("route", "")] = (theirs["next"], ours["next"])

    def _keep_handout(self, recorded: Mapping[str, Any], exchange: Exchange) -> None:
        kind = HANDOUT_ROUTES.get(recorded.get("route", ""))
        answer = exchange.response.json if exchange.response is not None else None
        if kind is None or not isinstance(answer, dict) or not isinstance(answer.get("url"), str):
            return
        handout = Handout(answer, time.monotonic(), dict(recorded["request"].get("json") or {}))
        self.latest[kind] = handout
        recorded_answer = (recorded.get("response") or {}).get("json")
        if isinstance(recorded_answer, dict) and isinstance(recorded_answer.get("url"), str):
            self.handouts[(kind, recorded_answer["url"])] = handout

    # -- storage --------------------------------------------------------------------------------------------
    def _storage(self, kind: str, recorded: Mapping[str, Any]) -> tuple[Exchange | None, str]:
        """The PUT or GET sent to the candidate's URL for it; (None, why) when it cannot be replayed."""
        request = recorded["request"]
        url = self.recorded.reveal(request["url"])
        handout = self.handouts.get((kind, url)) or self.latest.get(kind)
        if handout is None:
            return None, f"the candidate handed out no {kind} URL (no /file-xxxx/{kind} answer with a url before)"
        headers = {name: value for name, value in (handout.answer.get("headers") or {}).items()
                   if isinstance(name, str) and isinstance(value, str)}
        if kind == "upload":
            body = request.get("text", "") if "json" not in request else json.dumps(request["json"])
            return self.transport.fetch(handout.answer["url"], "PUT", headers, self.recorded.reveal(body)), ""
        recorded_range = _header(request.get("headers"), "range")
        if recorded_range is not None:
            headers["Range"] = recorded_range
        if (recorded.get("response") or {}).get("status") == 401:
            why_not = self._wait_for_expiry(handout)
            if why_not:
                return None, why_not
        return self.transport.fetch(handout.answer["url"], "GET", headers), ""

    @staticmethod
    def _wait_for_expiry(handout: Handout) -> str:
        """The recorded GET was refused (401): its URL had expired. Reproduced honestly when the recorded
        request asked for a lifetime short enough to wait out; '' once waited, else why it cannot be."""
        duration = handout.recorded_request.get("duration")
        if not isinstance(duration, int) or isinstance(duration, bool) or not 0 < duration <= MAX_EXPIRY_WAIT_S:
            return (f"the recorded download URL had expired (401), and the recorded request asked for a lifetime "
                    f"of {duration!r} s; only one of at most {MAX_EXPIRY_WAIT_S} s is waited out")
        left = handout.received + duration + EXPIRY_MARGIN_S - time.monotonic()
        if left > 0:
            time.sleep(left)
        return ""


def _request_of(exchange: Mapping[str, Any]) -> tuple:
    request = exchange["request"]
    return request["method"], request["path"], json.dumps(request.get("json"), sort_keys=True), request.get("text")


def _answer_of(record: Mapping[str, Any] | None) -> tuple:
    answer = (record or {}).get("response") or {}
    return answer.get("status"), json.dumps(answer.get("json"), sort_keys=True), answer.get("text")


def _poll_ended(before: Mapping[str, Any], recorded: Mapping[str, Any]) -> bool:
    """The recorded exchange repeats an earlier one and got another answer: the end of a poll."""
    return (not before.get("storage") and _request_of(before) == _request_of(recorded)
            and _answer_of(before) != _answer_of(recorded))


def _state_behind(recorded: Mapping[str, Any], mine: Mapping[str, Any]) -> bool:
    """A describe answered in another `state` than the recorded one (both successes)."""
    theirs = (recorded.get("response") or {}).get("json")
    ours = (mine.get("response") or {}).get("json")
    return (str(recorded.get("route", "")).endswith("/describe") and isinstance(theirs, dict)
            and isinstance(ours, dict) and "state" in theirs and "state" in ours and theirs["state"] != ours["state"])


def _same_answer(mine: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    return _answer_of(mine) == _answer_of(before)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    return next((value for key, value in (headers or {}).items() if key.lower() == name), None)


def selected(case_id: str, patterns: Iterable[str]) -> bool:
    """`--case`: a glob on the case id, or text the id contains (as for the suite's cases)."""
    patterns = list(patterns)
    return not patterns or any(fnmatch.fnmatchcase(case_id, p) or p in case_id for p in patterns)


def replay_traffic(golden: Mapping[str, Any], server: str, tokens: Mapping[str, str], config: DiffConfig, *,
                   embedded: bool, timeout: float = 30.0, cases_filter: Iterable[str] = (),
                   progress: Callable[[int, int, Any], None] | None = None) -> DiffOutcome:
    """The imported recording replayed against `server` as the first user of `tokens`: results.json (one
    result per recorded test, and the `traffic` figures) and the candidate's replay as a recording."""
    started = int(time.time() * 1000)
    recorded_cases = [case for case in golden["cases"] if selected(case["id"], cases_filter)]
    figures = TrafficFigures()
    results, candidate_cases, lines = [], [], []
    differences = ignored = 0
    with Transport(server, tokens, timeout=timeout) as transport:
        replay = TrafficReplay(golden, transport, next(iter(tokens)))
        replay.pair_users()
        for number, case in enumerate(recorded_cases, 1):
            began = time.monotonic()
            pairs, mine = replay.replay_case(case)
            candidate_cases.append(mine)
            record = case_result(case, pairs, config, replay.recorded, replay.candidate,
                                 duration_ms=int((time.monotonic() - began) * 1000))
            results.append(record)
            for pair in pairs:
                figures.add(pair, config)
            found = sum(len(p.differences) for p in pairs)
            differences += len(record["findings"])
            ignored += found - len(record["findings"])
            if record["findings"]:
                lines.append(f"{record['id']}: {record['message']}")
            if progress is not None:
                progress(number, len(recorded_cases), record)
    sha = tree_sha256(schemas_dir())
    document = build_document(suite_version=__version__, schemas_sha256=sha, server_url=server, embedded=embedded,
                              started_ms=started, finished_ms=int(time.time() * 1000), case_results=results,
                              check_results=[])
    document["golden"] = {"format": golden["format"], "recorded": golden["recorded"], "suite": golden["suite"],
                          "embedded": golden["server"]["embedded"], IMPORTED: golden[IMPORTED]}
    document["traffic"] = figures.to_json()
    candidate = build_golden(suite_version=__version__, schemas_sha256=sha, embedded=embedded,
                             recorded_ms=int(time.time() * 1000), users=tokens, work_project=None,
                             placeholders=replay.candidate, cases=candidate_cases)
    # --save: the replay is itself imported traffic (of this server, by this replay), replayable in turn.
    sent = [e for c in candidate_cases for s in c["steps"] for e in s["exchanges"]]
    candidate[IMPORTED] = {**golden[IMPORTED], "recorded_first": started, "recorded_last": candidate["recorded"],
                           "clients": [USER_AGENT], "api_server": server, "user": replay.candidate_user,
                           "exchanges": len(sent), "api_exchanges": sum(1 for e in sent if "storage" not in e)}
    return DiffOutcome(document, candidate, differences, ignored, lines)
