"""`dxconform run --deadline` and `--body-budget`: their defaults, checks and what reaches the pytest plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli.main import UsageError, build_parser
from conformance.cli.run_cmd import (
    DEADLINE_BASE_S,
    DEADLINE_PER_CASE_S,
    DEADLINE_PER_FUZZ_EXAMPLE_S,
    MIB,
    _check_arguments,
    default_deadline,
    pytest_arguments,
)


def _args(*argv: str):
    args = build_parser().parse_args(["run", *argv])
    _check_arguments(args)
    return args


def test_the_default_deadline_grows_with_the_cases_and_the_fuzzing_budget():
    assert default_deadline(0, 0) == DEADLINE_BASE_S
    assert default_deadline(300, 0) == DEADLINE_BASE_S + 300 * DEADLINE_PER_CASE_S
    assert default_deadline(300, 8) == default_deadline(300, 0) + 8 * DEADLINE_PER_FUZZ_EXAMPLE_S


def test_deadline_and_body_budget_reach_the_plugin():
    args = _args("--deadline", "42", "--body-budget", "0.5")
    args.deadline_s = args.deadline
    argv = pytest_arguments(args, [Path("cases")], "http://127.0.0.1:9", False, Path("out"))
    assert argv[argv.index("--dx-deadline") + 1] == "42"
    assert argv[argv.index("--dx-body-budget") + 1] == str(MIB // 2)


@pytest.mark.parametrize(("argv", "says"), [(["--deadline", "0"], "--deadline must be > 0"),
                                            (["--body-budget", "-1"], "--body-budget must be >= 0")])
def test_bad_limits_are_usage_errors(argv: list[str], says: str):
    with pytest.raises(UsageError, match=says):
        _args(*argv)
