"""The check registry: registration metadata, running all checks, crashes and not-applicable results."""

from __future__ import annotations

import pytest

from conformance.checks import CHECKS, CheckContext, CheckFailure, NotApplicable, check, run_check, run_checks
from conformance.checks._registry import CheckInfo
from conformance.model import Area, Level

from .fakes import FILE_ID, FakeSpec, exchange

# The protocol checks issue 4 asks for, by name.
EXPECTED = {"json_content_type", "json_parses", "top_level_mapping", "error_envelope", "documented_error_type",
            "error_status", "strict_int", "timestamp_plausible", "strict_id_alphabet", "output_schema",
            "nosniff", "retry_after", "no_server_error"}


def test_every_protocol_check_is_registered_with_its_metadata():
    assert EXPECTED <= set(CHECKS)
    for name, info in CHECKS.items():
        assert info.name == name
        assert isinstance(info.level, Level) and isinstance(info.area, Area)
        assert info.source.strip() and info.title.strip(), name


def test_levels_follow_the_evidence():
    assert CHECKS["nosniff"].level is Level.SHOULD
    assert CHECKS["strict_id_alphabet"].level is Level.SHOULD
    assert CHECKS["error_envelope"].level is Level.MUST
    assert CHECKS["strict_int"].level is Level.MUST


def test_a_conforming_answer_has_no_findings():
    ctx = CheckContext(spec=FakeSpec(), now_ms=1_764_150_000_000)
    ok = exchange(body={"id": FILE_ID, "size": 1, "created": 1_764_000_000_000})
    assert run_checks(ctx, ok) == []


def test_a_broken_answer_has_findings_from_several_checks():
    ctx = CheckContext(spec=FakeSpec(), now_ms=1_764_150_000_000)
    bad = exchange(status=200, raw=b'{"id": "file-AEIOU0000000000000000000", "size": 1.0, "created": 1764000000}',
                   headers={"Content-Type": "text/plain"})
    names = {f.check for f in run_checks(ctx, bad)}
    assert names == {"json_content_type", "nosniff", "strict_int", "timestamp_plausible", "strict_id_alphabet",
                     "output_schema"}
    assert {f.check for f in run_checks(ctx, bad, skip=["nosniff"])} == names - {"nosniff"}
    assert {f.check for f in run_checks(ctx, bad, names=["strict_int"])} == {"strict_int"}


@pytest.fixture()
def temporary_check():
    names = []

    def register(name, function):
        names.append(name)
        return check(name=name, level=Level.MAY, area=Area.SEMANTICS, source="test", title="t")(function)

    yield register
    for name in names:
        CHECKS.pop(name, None)


def test_crashing_check_is_reported_as_internal(temporary_check):
    def crashes(ctx, exchange):
        raise KeyError("oops")

    temporary_check("_test_crash", crashes)
    [finding] = run_check(CHECKS["_test_crash"], CheckContext(), exchange())
    assert finding.internal and "KeyError" in finding.message


def test_returned_failures_and_not_applicable(temporary_check):
    temporary_check("_test_two", lambda ctx, ex: [CheckFailure("a", path="$.a"), CheckFailure("b", level=Level.MUST)])
    temporary_check("_test_na", lambda ctx, ex: NotApplicable("never"))
    two = run_check(CHECKS["_test_two"], CheckContext(), exchange())
    assert [(f.message, f.level) for f in two] == [("a", Level.MAY), ("b", Level.MUST)]
    assert run_check(CHECKS["_test_na"], CheckContext(), exchange()) == []


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="twice"):
        check(name="nosniff", level=Level.MAY, area=Area.SEMANTICS, source="s", title="t")(lambda c, e: None)
    assert isinstance(CHECKS["nosniff"], CheckInfo)


def test_route_comes_from_context_exchange_or_spec():
    ex = exchange(path=f"/{FILE_ID}/describe")
    assert CheckContext(spec=FakeSpec()).route_for(ex) == "/file-xxxx/describe"
    assert CheckContext(route="/x/y").route_for(ex) == "/x/y"
    assert CheckContext().route_for(ex) is None
