"""What docgen writes: whole generated pages and generated regions of hand-written pages, under docs/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import case_format, checks_page, cli_reference, emulator_table, routes_page


@dataclass(frozen=True)
class Target:
    """A page (`region` None: the generator owns the whole file) or one region of a hand-written page.
    `render` gets the docs directory (for regions that show a file of it)."""

    page: str                       # path under docs/
    region: str | None
    render: Callable[[Path], str]


def included_file(relative: str, language: str) -> Callable[[Path], str]:
    """A region showing a file of docs/ as is, so the page and the file that tests run never differ."""

    def render(docs: Path) -> str:
        text = (docs / relative).read_text(encoding="utf-8")
        return f"`docs/{relative}`:\n\n```{language}\n{text.rstrip()}\n```"

    return render


TARGETS = (
    Target("case-format.md", None, lambda docs: case_format.render()),
    Target("checks.md", None, lambda docs: checks_page.render()),
    Target("routes.md", None, lambda docs: routes_page.render()),
    Target("emulator.md", "route-table", lambda docs: emulator_table.render()),
    Target("contract.md", "commands", lambda docs: cli_reference.render()),
    Target("ci.md", "github-actions", included_file("ci/github-actions.yml", "yaml")),
    Target("ci.md", "gitlab-ci", included_file("ci/gitlab-ci.yml", "yaml")),
    Target("write-a-case.md", "worked-example", included_file("examples/cases/semantics/record-tags.yaml", "yaml")),
    Target("emulator.md", "fixture-example", included_file("examples/test_with_dxpy.py", "python")),
)
