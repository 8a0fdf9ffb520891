"""What docgen writes: whole generated pages and generated regions of hand-written pages (docs/, README.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import (
    case_format,
    checks_page,
    cli_reference,
    emulator_table,
    limits_table,
    performance,
    real_traffic_score,
    routes_page,
    selftest_score,
)


@dataclass(frozen=True)
class Target:
    """A page (`region` None: the generator owns the whole file) or one region of a hand-written page.
    `render` gets the repository root (for regions that show a file of it or a recorded run)."""

    page: str                       # path from the repository root: docs/... or README.md
    region: str | None
    render: Callable[[Path], str]


def included_file(relative: str, language: str) -> Callable[[Path], str]:
    """A region showing a file of the repository as is, so the page and the file that tests run never differ."""

    def render(root: Path) -> str:
        text = (root / relative).read_text(encoding="utf-8")
        return f"`{relative}`:\n\n```{language}\n{text.rstrip()}\n```"

    return render


TARGETS = (
    Target("docs/case-format.md", None, lambda root: case_format.render()),
    Target("docs/checks.md", None, lambda root: checks_page.render()),
    Target("docs/routes.md", None, lambda root: routes_page.render()),
    Target("docs/emulator.md", "route-table", lambda root: emulator_table.render()),
    Target("docs/contract.md", "commands", lambda root: cli_reference.render()),
    Target("docs/ci.md", "github-actions", included_file("docs/ci/github-actions.yml", "yaml")),
    Target("docs/ci.md", "gitlab-ci", included_file("docs/ci/gitlab-ci.yml", "yaml")),
    Target("docs/write-a-case.md", "worked-example",
           included_file("docs/examples/cases/semantics/record-tags.yaml", "yaml")),
    Target("docs/emulator.md", "fixture-example", included_file("docs/examples/test_with_dxpy.py", "python")),
    Target("docs/emulator.md", "limits", lambda root: limits_table.render()),
    Target("docs/selftest.md", "selftest-score", selftest_score.render_selftest_page),
    Target("README.md", "selftest-score", selftest_score.render_readme),
    Target("docs/differential.md", "real-traffic-score", real_traffic_score.render),
    Target("docs/performance.md", "performance-summary", performance.render_summary),
    *(Target("docs/performance.md", f"performance-{name}", performance.render_benchmark(name))
      for name in performance.BENCHMARKS),
)
