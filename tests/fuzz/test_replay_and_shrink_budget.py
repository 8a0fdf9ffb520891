"""A finding replays on the server that found it (its nonces and names under the replay's run prefix), and a
route's spent shrink budget never stops the stateful sequences that follow it."""

from __future__ import annotations

from conformance.fuzz import FuzzConfig
from conformance.fuzz.engine import replay
from conformance.fuzz.findings import FuzzFinding
from conformance.fuzz.steps import Step, placeholder
from conformance.fuzz.strategies import renew_run_prefix

from .conftest import faulty_server, fuzz

CLI_PREFIX = "dxc-0a1b2c3d-fz"   # what `dxconform run` gives its fuzz items (fuzz_items.py)


def test_the_run_prefix_of_nonces_and_names_is_renewed_and_nothing_else():
    found = [Step("/record/new", None, {"project": placeholder("project"), "nonce": f"{CLI_PREFIX}-Xy7"}),
             Step("/app/new", None, {"name": f"{CLI_PREFIX}-app", "nonce": "x" * 200}, violation="maxLength"),
             Step("/file-xxxx/close", "file", {}),
             Step("/record/new", None, ["not", "a", "mapping"])]
    renewed = renew_run_prefix(found, CLI_PREFIX, r"dxc-9\1-fz")   # a backslash is text, not a group
    assert renewed[0].body == {"project": placeholder("project"), "nonce": r"dxc-9\1-fz-Xy7"}
    assert renewed[1].body == {"name": r"dxc-9\1-fz-app", "nonce": "x" * 200}   # a broken nonce as it was
    assert renewed[2:] == tuple(found[2:])
    assert renew_run_prefix(found, "", "dxc-new") == tuple(found)   # a finding saved without its prefix


def test_a_finding_with_a_nonce_replays_on_the_server_that_found_it():
    """The server keeps the nonces of the calls it took: sent again with the replay pool's other project, the
    finding's nonce would be refused as reused (422), and the replay would not reproduce the invalid input the
    server took (200) that it is about."""
    step = Step("/applet/new", None, {"project": placeholder("project"), "dxapi": "1.0.0", "outputSpec": 7,
                                      "runSpec": {"code": "true", "interpreter": "bash"},
                                      "nonce": f"{CLI_PREFIX}-once"}, violation="type at $.outputSpec: 7")
    finding = FuzzFinding(mode="negative", route="/applet/new", rule="rejects_invalid_input", level="MUST",
                          area="json-input", title="t", message="m", source="s", seed=0, steps=[step],
                          run_prefix=CLI_PREFIX)
    with faulty_server("applet-ignores-bad-io-spec") as server:
        users = server.settings.users
        assert replay(finding, FuzzConfig(server.url, users, run_prefix=CLI_PREFIX)).reproduced   # as it was found
        again = replay(finding, FuzzConfig(server.url, users))
        assert again.reproduced, [e.response.body for e in again.exchanges if e.response is not None]
        unrenewed = FuzzFinding(**{**finding.__dict__, "run_prefix": ""})
        assert not replay(unrenewed, FuzzConfig(server.url, users)).reproduced   # the reuse the renewal avoids


def test_a_spent_shrink_budget_does_not_freeze_the_stateful_sequences_after_it():
    with faulty_server("crash-on-long-name") as server:
        report = fuzz(server, routes=("/record/new", "/record-xxxx/rename"), modes=("positive", "stateful"),
                      examples=10, seed=0, shrink_requests=1, shrink_seconds=5)
    assert any("no_server_error" in f.id for f in report.finding_list())   # a shrink ran out of budget
    assert sum(modes.get("stateful", 0) for modes in report.counts.values()) > 0, report.notes
    assert not any(note.startswith("stateful") for note in report.notes)
